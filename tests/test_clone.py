"""`program clone`: the next term gets its dates before anything else, and returning people confirm last
term's intake answers instead of answering it all again.

The ``chat`` fixture (conftest): Digital 2030 runs from 2 March to 31 May 2030 (goal date 31 December 2030);
the clock starts at Friday 1 March 2030, 12:00 UTC.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain import Participant, Programme
from bot.wording import unescape
from chat import Chat
from test_intake import MENTOR_ANSWERS

COORD = "amara.okafor@example.com"
MENTOR = "arjun.mehta@example.com"  # seniority 2, Asia/Kolkata
MENTEE = "daniel.okonkwo@example.com"  # seniority 7, Europe/London

MENTEE_ANSWERS = [
    "yes",
    "1, 2",
    "How to use AI in board papers",
    "Use AI assistants with confidence",
    "1, 2, 3",
    "1",
    "3",
    "2030-04-01",  # available from: in the past by the next term
    "2",
    "2",
    "2",
    "English",
    "yes",  # diversity questions
    "2",  # man
    "3",  # gen_x
    "yes",
]


def programme(chat: Chat, name: str) -> Programme | None:
    with chat.store.unit_of_work() as uow:
        return next((p for p in uow.programmes.in_tenant(1) if p.name == name), None)


def place(chat: Chat, email: str, name: str) -> Participant:
    found = programme(chat, name)
    assert found is not None
    with chat.store.unit_of_work() as uow:
        participant = uow.participants.find(found.id, chat.person(email).id)
    assert participant is not None
    return participant


def text_of(replies: list[str]) -> str:
    return "\n".join(unescape(r) for r in replies)


def take_part(chat: Chat, email: str, role: str, answers: list[str], programme_name: str = "") -> None:
    """Invited, consented, intake answered in full, onboarding read."""
    suffix = f" --program {programme_name}" if programme_name else ""
    chat.send(COORD, f"invite {email} as {role}{suffix}")
    chat.press(email, "Yes, I'm in")
    for answer in answers:
        chat.send(email, answer)
    for _ in range(5):
        chat.press(email, chat.received(email)[-1].choices[0].label)


def last_term(chat: Chat) -> None:
    """Both people took part in Digital 2030; time moves on to 10 May, after their "available from"."""
    take_part(chat, MENTOR, "mentor", MENTOR_ANSWERS)
    take_part(chat, MENTEE, "mentee", MENTEE_ANSWERS)
    assert place(chat, MENTOR, "Digital 2030").onboarded_at is not None
    chat.advance(timedelta(days=70))


# ----------------------------------------------------------------------------------------------------
# The new term's dates
# ----------------------------------------------------------------------------------------------------


def test_clone_without_dates_suggests_the_next_term_and_creates_it_once_accepted(chat: Chat) -> None:
    replies = text_of(chat.send(COORD, "program clone Digital 2031"))
    assert "2030-06-01 to 2030-08-30" in replies  # the same 90 days, from the day after Digital 2030 ends
    assert programme(chat, "Digital 2031") is None  # nothing exists before the term is known
    created = text_of(chat.send(COORD, "yes"))
    assert "Created **Digital 2031**" in created and "2030-06-01 to 2030-08-30" in created
    copy = programme(chat, "Digital 2031")
    assert copy is not None
    assert (copy.starts_on, copy.ends_on) == (date(2030, 6, 1), date(2030, 8, 30))
    assert copy.goal_date == date(2031, 4, 1)  # as far after the term as before (the end moved 91 days)
    shown = text_of(chat.send(COORD, "program show"))
    assert "Term: 2030-06-01 to 2030-08-30" in shown


def test_clone_asks_for_other_dates_with_clear_messages(chat: Chat) -> None:
    chat.send(COORD, "program clone Digital 2031")
    assert "When does the new term of **Digital 2031** start" in text_of(chat.send(COORD, "no"))
    assert "not in the future" in text_of(chat.send(COORD, "2029-12-01"))
    assert "not a date I can read" in text_of(chat.send(COORD, "soon"))
    assert "When does it end" in text_of(chat.send(COORD, "2030-09-01"))
    assert "must come after 2030-09-01" in text_of(chat.send(COORD, "2030-08-01"))
    assert programme(chat, "Digital 2031") is None
    assert "Created **Digital 2031**" in text_of(chat.send(COORD, "2031-02-28"))
    copy = programme(chat, "Digital 2031")
    assert copy is not None and (copy.starts_on, copy.ends_on) == (date(2030, 9, 1), date(2031, 2, 28))


def test_clone_with_dates_on_the_command_line_creates_at_once(chat: Chat) -> None:
    replies = text_of(chat.send(COORD, "program clone Digital 2031 --starts 2030-09-01 --ends 2031-02-28"))
    assert "Created **Digital 2031**" in replies
    copy = programme(chat, "Digital 2031")
    assert copy is not None and (copy.starts_on, copy.ends_on) == (date(2030, 9, 1), date(2031, 2, 28))


def test_clone_with_a_shift_moves_the_whole_term(chat: Chat) -> None:
    replies = text_of(chat.send(COORD, "program clone Digital 2031 --shift 6m --program digital-2030"))
    assert "Created **Digital 2031**" in replies and "2030-09-02 to 2030-11-30" in replies
    copy = programme(chat, "Digital 2031")
    assert copy is not None
    assert (copy.starts_on, copy.ends_on, copy.goal_date) == (date(2030, 9, 2), date(2030, 11, 30), date(2031, 6, 30))
    text_of(chat.send(COORD, "program clone Digital 2032 --shift 2w --program digital-2030"))
    later = programme(chat, "Digital 2032")
    assert later is not None and (later.starts_on, later.ends_on) == (date(2030, 3, 16), date(2030, 6, 14))


def test_clone_refuses_bad_dates_and_shifts_with_a_specific_reason(chat: Chat) -> None:
    cases = {
        "--starts 2031-02-28 --ends 2030-09-01": "must end after it starts",
        "--starts 2029-06-01 --ends 2030-09-01": "not in the future",
        "--starts someday --ends 2030-09-01": "'someday' is not a date I can read",
        "--shift soon": "'soon' is not a shift",
        "--shift 0m": "'0m' is not a shift",
        "--shift 6m --starts 2030-09-01": "either --shift or --starts and --ends",
    }
    for options, reason in cases.items():
        reply = text_of(chat.send(COORD, f"program clone Digital 2031 {options}"))
        assert reason in reply, (options, reply)
        assert programme(chat, "Digital 2031") is None
    assert "already" in text_of(chat.send(COORD, "program clone Digital 2030")).lower()
    assert "Usage: `program clone NEW-NAME" in text_of(chat.send(COORD, "program clone"))


def test_clone_with_only_a_start_asks_for_the_end(chat: Chat) -> None:
    assert "When does it end" in text_of(chat.send(COORD, "program clone Digital 2031 --starts 2030-09-01"))
    assert "Created **Digital 2031**" in text_of(chat.send(COORD, "2031-02-28"))


# ----------------------------------------------------------------------------------------------------
# Returning people
# ----------------------------------------------------------------------------------------------------


def test_a_returning_person_confirms_last_terms_answers_and_is_ready(chat: Chat) -> None:
    last_term(chat)
    chat.send(COORD, "program clone Digital 2031")
    chat.send(COORD, "yes")
    replies = chat.send(COORD, f"invite {MENTOR} as mentor --program digital-2031")
    chat.press(MENTOR, "Yes, I'm in")
    shown = chat.received(MENTOR)[-1]
    text = unescape(shown.text)
    assert "Welcome back" in text and "Digital 2030" in text and shown.question is None
    facts = dict(shown.sections[0].fields)
    assert facts["Languages"] == "English, Hindi" and "explaining tools" in facts["Goals"]
    assert [c.label for c in shown.choices] == ["These are still right", "Change some"]
    done = text_of(chat.press(MENTOR, "These are still right"))
    assert "is in" in done and "ready" in done
    before, now = place(chat, MENTOR, "Digital 2030"), place(chat, MENTOR, "Digital 2031")
    assert now.intake == before.intake and now.intake_completed_at is not None
    assert now.onboarded_at is not None  # same role, introduction read last term
    assert not any(m.question for m in chat.received(MENTOR)[-2:])
    assert "intake done 1/1, onboarded 1/1" in text_of(chat.send(COORD, "status --program digital-2031"))
    assert replies  # the coordinator heard about the invitation, nothing about the answers


def test_change_some_asks_only_the_answers_changed(chat: Chat) -> None:
    last_term(chat)
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    take_part_back = chat.send(COORD, f"invite {MENTEE} as mentee --program digital-2031")
    assert take_part_back
    chat.press(MENTEE, "Yes, I'm in")
    review = text_of(chat.press(MENTEE, "Change some"))
    assert "Submit your answers?" in review and "What would you like to learn" not in review
    assert "Which languages" in text_of(chat.press(MENTEE, "Change: Languages"))
    assert "Submit your answers?" in text_of(chat.send(MENTEE, "English, French"))
    assert "From which date" in text_of(chat.press(MENTEE, "Change: Available from"))
    assert "Submit your answers?" in text_of(chat.send(MENTEE, "2030-10-01"))
    done = text_of(chat.send(MENTEE, "yes"))
    assert "is in" in done
    before, now = place(chat, MENTEE, "Digital 2030"), place(chat, MENTEE, "Digital 2031")
    assert now.intake["languages"] == "English, French" and now.intake["available_from"] == "2030-10-01"
    assert before.intake["languages"] == "English"  # last term's record is untouched
    unchanged = {k: v for k, v in before.intake.items() if k not in ("languages", "available_from")}
    assert {k: now.intake[k] for k in unchanged} == unchanged


def test_an_answer_that_no_longer_holds_is_not_carried(chat: Chat) -> None:
    last_term(chat)  # Daniel was available from 1 April 2030, which has passed
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    chat.send(COORD, f"invite {MENTEE} as mentee --program digital-2031")
    chat.press(MENTEE, "Yes, I'm in")
    facts = dict(chat.received(MENTEE)[-1].sections[0].fields)
    assert "2030-04-01" not in facts.get("Available from", "")
    chat.press(MENTEE, "These are still right")
    assert place(chat, MENTEE, "Digital 2031").intake["available_from"] is None


def test_diversity_and_free_text_answers_are_shown_only_to_their_author(chat: Chat) -> None:
    last_term(chat)
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    chat.send(COORD, f"invite {MENTEE} as mentee --program digital-2031")
    chat.send(COORD, f"invite {MENTOR} as mentor --program digital-2031")
    chat.press(MENTEE, "Yes, I'm in")
    chat.press(MENTOR, "Yes, I'm in")
    facts = dict(chat.received(MENTEE)[-1].sections[0].fields)
    assert facts["Gender"] == "Man" and facts["Generation"] == "Born 1965-1980"
    assert "board papers" in facts["In your own words"]
    chat.press(MENTEE, "These are still right")
    chat.press(MENTOR, "These are still right")
    chat.send(COORD, "status --program digital-2031")
    chat.send(COORD, "match preview --program digital-2031")
    for email in (COORD, MENTOR):
        seen = " ".join(
            unescape(m.text) + str(m.sections) + str([c.label for c in m.choices]) for m in chat.received(email)
        )
        for private in ("Born 1965-1980", "gen_x", "board papers", "Use AI assistants with confidence"):
            assert private not in seen, (email, private)
    assert place(chat, MENTEE, "Digital 2031").intake["gender"] == "man"


def test_a_forgotten_person_is_not_returning(chat: Chat) -> None:
    last_term(chat)
    old = chat.person(MENTOR)
    chat.send(MENTOR, "forget-me")
    chat.press(MENTOR, "Yes, delete my data")
    chat.advance(timedelta(hours=2))
    chat.add_person(MENTOR, "Arjun Mehta", seniority=2, time_zone="Asia/Kolkata")
    assert chat.person(MENTOR).id != old.id
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    chat.send(COORD, f"invite {MENTOR} as mentor --program digital-2031")
    replies = text_of(chat.press(MENTOR, "Yes, I'm in"))
    assert "Welcome back" not in replies and "Your intake" in replies and "First, what the directory" in replies


def test_a_newcomer_to_the_clone_answers_the_whole_intake(chat: Chat) -> None:
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    chat.send(COORD, f"invite {MENTOR} as mentor --program digital-2031")
    replies = text_of(chat.press(MENTOR, "Yes, I'm in"))
    assert "Welcome back" not in replies and "Your intake" in replies and "First, what the directory" in replies


def test_returning_in_the_other_role_is_asked_only_what_is_new(chat: Chat) -> None:
    last_term(chat)
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    chat.send(COORD, "program edit allow-peer yes --program digital-2031")
    chat.send(COORD, f"invite {MENTEE} as mentor --program digital-2031")
    chat.press(MENTEE, "Yes, I'm in")
    assert "Welcome back" in unescape(chat.received(MENTEE)[-1].text)
    asked = text_of(chat.press(MENTEE, "These are still right"))
    assert "What could you teach" in asked  # new for a mentor; the rest is kept
    assert "Submit your answers?" in text_of(chat.send(MENTEE, "1, 2"))
    assert "Getting ready to mentor" in text_of(chat.send(MENTEE, "yes"))  # a new role: its own introduction
    now = place(chat, MENTEE, "Digital 2031")
    assert now.intake["teach_topics"] and "learn_topics" not in now.intake and now.intake["languages"] == "English"


def test_no_repeat_pairs_across_the_clone(chat: Chat) -> None:
    gabriela = "gabriela.santos@example.com"  # outside Arjun's reporting line
    take_part(chat, MENTOR, "mentor", MENTOR_ANSWERS)
    take_part(chat, gabriela, "mentee", MENTEE_ANSWERS)
    chat.send(COORD, "program edit min-overlap 0")  # Kolkata and Los Angeles hardly overlap
    assert "1 pairs" in text_of(chat.send(COORD, "match preview"))
    chat.send(COORD, "match publish")
    chat.send(COORD, "program clone Digital 2031 --shift 6m")
    for email, role in ((MENTOR, "mentor"), (gabriela, "mentee")):
        chat.send(COORD, f"invite {email} as {role} --program digital-2031")
        chat.press(email, "Yes, I'm in")
        chat.press(email, "These are still right")
    preview = text_of(chat.send(COORD, "match preview --program digital-2031"))
    assert "0 pairs" in preview and "paired with them in an earlier cohort" in preview

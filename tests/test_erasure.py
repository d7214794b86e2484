"""``forget-me`` leaves nothing personal behind: a whole-database search after it (and the account unlink an
hour later) finds nothing the person typed, in any place they can type, nor their name, email or platform ids;
the audit log keeps its facts under a pseudonym. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text

from bot.commands.reports import FORGET_ACTION
from bot.model import Action, InboundEvent, Platform
from bot.wording import unescape
from chat import Chat
from database_dump import search
from test_sessions import COORD, MENTEE, MENTOR, START, offer, pair_up

MENTEE_SLACK_ID = "U0GABRIELA"
MENTOR_SLACK_ID = "U0ARJUNMEH"


def marks(who: str, *not_theirs: str) -> dict[str, str]:
    """One unique word per place a person can type (intake, goals, agenda, action items, support, pulse,
    check-in, survey, and a stray message), so that a search says which place leaked. The mentee sets the
    pair's goals after the first session, the mentor writes its action items."""
    places = [
        "detail",
        "intakegoals",
        "languages",
        "genderwords",
        "agenda",
        "supportnote",
        "stray",
        "goalone",
        "goaltwo",
        "goaladd",
        "action",
        "pulsecomment",
        "checkinworking",
        "checkinnot",
        "checkinneed",
        "surveycomment",
    ]
    return {place: f"qz{who}{place}71" for place in places if place not in not_theirs}


MENTEE_MARKS, MENTOR_MARKS = marks("gabriela", "action"), marks("arjun", "goalone", "goaltwo")


def answer(chat: Chat, email: str, *texts: str) -> None:
    for typed in texts:
        chat.send(email, typed)


def join(chat: Chat, email: str, role: str, zone: str, hours: str, topics: str, m: dict[str, str]) -> None:
    """Invited in chat, consents, and answers the intake with free text in every free-text question."""
    chat.send(COORD, f"invite {email} as {role}")
    chat.press(email, "Yes, I'm in")
    answer(chat, email, "no", zone, hours, topics, f"{m['detail']} in my words", f"{m['intakegoals']} to grow")
    answer(chat, email, "1, 2, 3", "1", "3", "skip", "2", "2", "2", m["languages"], "yes", "4", m["genderwords"])
    answer(chat, email, "3", "yes")
    while chat.received(email)[-1].choices:  # the onboarding: one button per lesson
        chat.press(email, chat.received(email)[-1].choices[0].label)


def typed_everywhere(chat: Chat) -> None:
    """Mentor and mentee type a marker in every place they can; then a check-in and a midpoint survey."""
    join(chat, MENTEE, "mentee", "America/Los_Angeles", "07:00-15:00", "1, 2", MENTEE_MARKS)
    join(chat, MENTOR, "mentor", "Asia/Kolkata", "18:00-23:00", "1, 3, 11", MENTOR_MARKS)
    with chat.store.unit_of_work() as uow:
        uow.people.link_identity(uow.people.by_email(1, MENTEE), "slack", MENTEE_SLACK_ID)
        uow.people.link_identity(uow.people.by_email(1, MENTOR), "slack", MENTOR_SLACK_ID)
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    for number, (email, m) in enumerate(((MENTEE, MENTEE_MARKS), (MENTOR, MENTOR_MARKS))):
        chat.send(email, f"agenda add {m['agenda']} please")
        chat.send(email, "support")
        chat.press(email, "Talk to my coordinator")
        chat.send(email, f"{m['supportnote']} is hard", event_id=f"note-{number}")
        chat.send(email, f"{m['stray']} hello")
    with chat.store.unit_of_work() as uow:
        first = uow.sessions.of_programme(1)[0]
    chat.advance(first.starts_at + timedelta(minutes=first.minutes + 31) - chat.clock.now())
    chat.press(MENTEE, "It happened")  # the mentee sets the pair's goals, then the pulse (comment not shared)
    answer(chat, MENTEE, f"{MENTEE_MARKS['goalone']} for us", f"{MENTEE_MARKS['goaltwo']} for us")
    answer(chat, MENTEE, "4", "5", f"{MENTEE_MARKS['pulsecomment']} nice", "no")
    chat.press(MENTOR, "It happened")  # the mentor writes the action items, then the pulse
    answer(chat, MENTOR, f"{MENTOR_MARKS['action']} one\nsecond {MENTOR_MARKS['action']}")
    answer(chat, MENTOR, "4", "5", f"{MENTOR_MARKS['pulsecomment']} nice", "no")
    for email, m in ((MENTEE, MENTEE_MARKS), (MENTOR, MENTOR_MARKS)):
        chat.send(email, f"goals add {m['goaladd']} learn prompting")
    with chat.store.unit_of_work() as uow:
        now = chat.clock.now()
        uow.schedule.add(1, "programme_checkin", now, {"programme_id": 1, "number": 1}, key="checkin:1:test")
        uow.schedule.add(1, "programme_survey", now, {"programme_id": 1, "subject": "midpoint"}, key="survey:1:test")
    chat.advance(timedelta(minutes=1))
    for email, m in ((MENTEE, MENTEE_MARKS), (MENTOR, MENTOR_MARKS)):
        chat.send(email, "todo")  # shows the check-in held for their working hours
        answer(chat, email, f"{m['checkinworking']} good", f"{m['checkinnot']} bad", f"{m['checkinneed']} help")
        answer(chat, email, "7", "4", "yes", f"{m['surveycomment']} keep", "no")


def forget(chat: Chat, email: str) -> None:
    chat.send(email, "forget-me")
    assert "personal data is deleted" in chat.press(email, "Yes, delete my data")[-1]
    chat.advance(timedelta(hours=2))  # the chat account is unlinked once the farewell went out


def identifying(email: str, name: str, slack_id: str) -> list[str]:
    first, last = name.split()
    return [email, "@" + email.split("@")[0], name, first, last, slack_id]


def test_forget_me_leaves_nothing_they_typed_or_that_names_them_anywhere_in_the_database(chat: Chat) -> None:
    typed_everywhere(chat)
    engine = chat.store.engine
    everything = [*MENTEE_MARKS.values(), *MENTOR_MARKS.values()]
    assert {hit.needle for hit in search(engine, everything)} == set(everything)  # the search finds them
    coordinator_saw = " ".join(unescape(m.text) for m in chat.received(COORD))
    assert MENTEE_MARKS["supportnote"] in coordinator_saw and MENTEE_MARKS["checkinneed"] in coordinator_saw

    forget(chat, MENTEE)
    gabriela = identifying(MENTEE, "Gabriela Santos", MENTEE_SLACK_ID) + ["Head of Product Design"]
    assert search(engine, [*MENTEE_MARKS.values(), *gabriela]) == []
    kept = {hit.needle for hit in search(engine, list(MENTOR_MARKS.values()))}
    assert {MENTOR_MARKS[p] for p in ("detail", "pulsecomment", "checkinworking", "surveycomment")} <= kept
    redelivered = InboundEvent(platform=Platform.CONSOLE, tenant="console", event_id="note-0", occurred_at=START)
    assert chat.runtime.accept(redelivered) is False  # the inbox still refuses a redelivery of an event it handled

    forget(chat, MENTOR)
    arjun = identifying(MENTOR, "Arjun Mehta", MENTOR_SLACK_ID)
    assert search(engine, [*everything, *gabriela, *arjun]) == []
    report = unescape(chat.send(COORD, "report")[0])
    assert "Sessions: 1 held of 1 due" in report  # anonymous counts stay


def test_nothing_waiting_for_a_forgotten_person_is_delivered_and_alerts_about_them_are_dropped(chat: Chat) -> None:
    pair_up(chat)
    chat.send(MENTEE, "support")
    chat.press(MENTEE, "Talk to my coordinator")
    before = len(chat.received(COORD)), len(chat.received(MENTOR))
    note = InboundEvent(  # handled, but the alert it queues for the coordinator has not gone out yet
        platform=Platform.CONSOLE,
        tenant="console",
        event_id="waiting-note",
        user=MENTEE,
        user_email=MENTEE,
        text="qzwaitingnote71 please call",
        occurred_at=chat.clock.now(),
    )
    chat.runtime.accept(note)
    chat.runtime.process_pending()
    chat.send(MENTEE, action=Action(id=FORGET_ACTION, value="yes"))
    delivered = len(chat.received(MENTEE))
    chat.advance(timedelta(days=2))
    assert len(chat.received(MENTEE)) == delivered  # the farewell was the last thing they received
    to_coordinator = [unescape(m.text) for m in chat.received(COORD)[before[0] :]]
    assert not [t for t in to_coordinator if "qzwaitingnote71" in t or "Gabriela" in t]
    assert search(chat.store.engine, ["qzwaitingnote71", "Gabriela Santos"]) == []
    assert len(chat.received(MENTOR)) > before[1]  # the partner is still told that the pairing ended


def test_the_audit_log_keeps_its_facts_under_a_pseudonym(chat: Chat) -> None:
    pair_up(chat)
    chat.send(COORD, f"pair pause {MENTEE}")
    chat.send(COORD, "pair resume @gabriela.santos")
    chat.make_tenant_coordinator(MENTOR)
    with chat.store.unit_of_work() as uow:
        uow.coordinators.add(1, chat.person(MENTOR).id, None)
    chat.send(MENTOR, "program edit cadence 3w")
    forget(chat, MENTEE)
    audit = unescape(chat.send(COORD, "report audit")[0])
    assert "gabriela" not in audit.lower()
    [pseudonym] = set(re.findall(r"pair (?:pause|resume) (participant #[0-9a-f]{6})", audit))
    assert f"pair pause {pseudonym}" in audit and f"pair resume {pseudonym}" in audit  # one person, one name
    assert "Arjun Mehta: `program edit cadence 3w`" in audit
    forget(chat, MENTOR)
    audit = unescape(chat.send(COORD, "report audit")[0])
    [actor] = re.findall(r"(participant #[0-9a-f]{6}): `program edit cadence 3w`", audit)
    assert actor != pseudonym and "Arjun" not in audit
    assert "Amara Okafor: `pair pause" in audit  # facts and the coordinators who remain are kept
    with chat.store.engine.connect() as connection:
        actors = {row[0] for row in connection.execute(text("SELECT person_id FROM audit_log"))}
    assert chat.person(MENTOR).id not in actors and chat.person(COORD).id in actors

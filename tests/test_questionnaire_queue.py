"""Questionnaires that fall due together wait in a queue per person: none is lost, none steals an answer."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, time, timedelta

from rich.console import Console

from adapters.console.render import plain, render
from adapters.console.session import ConsoleSession
from bot.model import Address, Choice, FormField, OutgoingMessage
from bot.wording import unescape
from chat import Chat
from test_sessions import MENTEE, MENTOR, participants, publish

MONDAY_MORNING_LA = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles, Gabriela's working hours


def programme_id(chat: Chat) -> int:
    with chat.store.unit_of_work() as uow:
        return uow.programmes.in_tenant(1)[0].id


def pair_up(chat: Chat) -> None:
    """A published pair whose intake and onboarding are done."""
    participants(chat, f"{MENTOR},mentor,1,ai_tools;remote_work,,18:00-23:00\n{MENTEE},mentee,,,ai_tools,07:00-15:00\n")
    with chat.store.unit_of_work() as uow:
        for participant in uow.participants.in_programme(uow.programmes.in_tenant(1)[0].id):
            participant.onboarded_at = participant.onboarded_at or chat.clock.now()
            uow.participants.save(participant)
    publish(chat)


def fall_due(chat: Chat, at: datetime, *jobs: tuple[str, dict[str, object]]) -> None:
    """Schedule survey and check-in jobs of the programme at ``at`` (one minute apart, in order)."""
    pid = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        for number, (kind, payload) in enumerate(jobs):
            uow.schedule.add(
                1,
                kind,
                at + timedelta(minutes=number),
                {"programme_id": pid, **payload},
                key=f"test:{kind}:{number}:{at.isoformat()}",
            )


def three_at_once(chat: Chat) -> None:
    pair_up(chat)
    fall_due(
        chat,
        MONDAY_MORNING_LA,
        ("programme_survey", {"subject": "midpoint"}),
        ("programme_checkin", {"number": 7}),
        ("programme_survey", {"subject": "final"}),
    )
    chat.advance(MONDAY_MORNING_LA + timedelta(minutes=5) - chat.clock.now())


def texts(chat: Chat, email: str) -> list[str]:
    return [unescape(m.text) for m in chat.received(email)]


def feedback(chat: Chat, kind: str) -> list[dict[str, object]]:
    with chat.store.unit_of_work() as uow:
        return [f.answers for f in uow.feedback.of_programme(programme_id(chat), kind)]


def answer_survey(chat: Chat) -> list[str]:
    replies: list[str] = []
    for reply in ["6", "4", "yes", "skip"]:
        replies = chat.send(MENTEE, reply)
    return replies


def test_three_questionnaires_falling_due_together_open_one_after_another(chat: Chat) -> None:
    three_at_once(chat)
    opened = [t for t in texts(chat, MENTEE) if "short question" in t]
    assert len(opened) == 1 and "halfway through" in opened[0]  # only the first opens; the others wait
    replies = answer_survey(chat)
    assert any("2 more short questionnaires waiting: a check-in, the final survey" in r for r in replies)
    assert "A short check-in from your coordinator" in replies[-1]  # the next one restates its question
    for reply in ["Good talks", "skip", "skip"]:
        replies = chat.send(MENTEE, reply)
    assert any("1 more short questionnaire waiting: the final survey" in r for r in replies)
    answer_survey(chat)
    assert len(feedback(chat, "midpoint")) == len(feedback(chat, "final")) == 1
    assert [a["working"] for a in feedback(chat, "checkin")] == ["Good talks"]
    assert "Nothing is waiting for you" in chat.send(MENTEE, "todo")[-1]


def test_the_queue_survives_a_restart(chat: Chat) -> None:
    three_at_once(chat)
    restarted = Chat(chat.store, chat.clock)  # a new runtime and engine on the same store
    restarted._ids = itertools.count(1000)
    restarted.deliverer = chat.deliverer
    answer_survey(restarted)
    assert "A short check-in from your coordinator" in texts(restarted, MENTEE)[-1]


def test_todo_and_dashboard_list_what_is_waiting_and_the_question_is_asked_again(chat: Chat) -> None:
    three_at_once(chat)
    replies = chat.send(MENTEE, "todo")
    todo = next(r for r in replies if "Open now" in r)  # after anything that was held for her, shown now
    assert "the midpoint survey" in todo and "a check-in" in todo and "the final survey" in todo
    assert "Where would you put yourself today" in replies[-1]  # the open question, asked again
    assert not feedback(chat, "midpoint")
    replies = chat.send(MENTEE, "dashboard")
    board = chat.last[MENTEE][0]
    assert any("a check-in" in s.text and "the final survey" in s.text for s in board.sections)
    assert "Where would you put yourself today" in replies[-1]


def test_a_command_typed_mid_questionnaire_runs_and_free_text_starting_with_a_verb_is_an_answer(chat: Chat) -> None:
    three_at_once(chat)
    for reply in ["6", "4", "yes"]:
        chat.send(MENTEE, reply)
    replies = chat.send(MENTEE, "help")
    assert any("What you can ask me" in r for r in replies[:-1])
    assert "What should we keep, or change?" in replies[-1]
    chat.send(MENTEE, "help with planning would be nice")
    chat.send(MENTEE, "yes")
    [answers] = feedback(chat, "midpoint")
    assert answers["comment"] == "help with planning would be nice"


def test_a_bare_number_goes_to_the_question_shown_not_to_one_that_fell_due_since(chat: Chat) -> None:
    pair_up(chat)
    fall_due(chat, MONDAY_MORNING_LA, ("programme_survey", {"subject": "midpoint"}))
    chat.advance(MONDAY_MORNING_LA + timedelta(minutes=5) - chat.clock.now())
    fall_due(chat, MONDAY_MORNING_LA + timedelta(hours=1), ("programme_survey", {"subject": "final"}))
    chat.advance(timedelta(hours=2))
    assert not any("final" in t.lower() and "short question" in t for t in texts(chat, MENTEE))
    chat.send(MENTEE, "7")
    replies = chat.send(MENTEE, "4")
    assert "Would you recommend it" in replies[-1]
    for reply in ["yes", "skip"]:
        replies = chat.send(MENTEE, reply)
    assert "the final survey" in replies[-2] and "Where would you put" in replies[-1]
    assert feedback(chat, "midpoint")[0]["goal_self"] == 7 and not feedback(chat, "final")


def test_a_button_answers_its_own_questionnaire_while_another_is_open(chat: Chat) -> None:
    three_at_once(chat)
    chat.send(MENTEE, "6")  # the survey now asks "how valuable", with buttons 1 to 5
    chat.send(MENTEE, "support")
    replies = chat.press(MENTEE, "Talk to my coordinator")
    assert any("Programme survey" in r and "waits" in r for r in replies)
    replies = chat.press(MENTEE, "4")  # the survey's button, pressed while the support note is open
    assert "Would you recommend it" in replies[-1]
    chat.send(MENTEE, "yes")
    replies = chat.send(MENTEE, "skip")
    assert any("waiting" in r for r in replies)
    [answers] = feedback(chat, "midpoint")
    assert answers["value"] == "4"


def test_a_waiting_questionnaire_that_expires_is_closed_with_a_notice(chat: Chat) -> None:
    three_at_once(chat)
    chat.advance(timedelta(days=38))  # the check-in closes when the next one falls due; nobody answered
    chat.advance(timedelta(days=1))
    closed = [t for t in texts(chat, MENTEE) if "Closed before you got to it: a check-in" in t]
    assert len(closed) == 1
    replies = chat.send(MENTEE, "todo")
    assert "a check-in" in replies[0]  # the next check-in waits instead
    with chat.store.unit_of_work() as uow:
        ends = uow.programmes.in_tenant(1)[0].ends_on
    chat.advance(datetime.combine(ends, time(12), UTC) + timedelta(days=2) - chat.clock.now())
    for _ in range(24):  # the term has ended: the survey she opened but never finished closed too
        chat.advance(timedelta(hours=3))  # (its notice waits for her working hours)
    assert any("Closed before you finished it: the midpoint survey" in t for t in texts(chat, MENTEE))
    assert "I don't know `6`" in chat.send(MENTEE, "6")[-1]  # no question is open any more


def test_the_console_shows_the_options_of_multi_choice_and_rank_questions() -> None:
    options = [Choice(label=label, action="flow.answer", value=label.lower()) for label in ("AI tools", "Remote work")]
    message = OutgoingMessage(
        tenant_id=1,
        to=Address.person(1),
        idempotency_key="k",
        text="What would you like to learn?",
        question=FormField(id="learn", label="Learn", kind="multi_choice", choices=options),
    )
    lines = [plain(line) for line in render(message)]
    assert any("1) AI tools" in line for line in lines) and any("2) Remote work" in line for line in lines)


def test_review_change_buttons_are_reachable_in_the_console(chat: Chat) -> None:
    three_at_once(chat)
    output = io.StringIO()
    session = ConsoleSession(chat.runtime, chat.clock, Console(file=output, width=1000), files_dir=chat_dir())
    session.switch(MENTEE)
    session.handle_line("6")
    session.handle_line("review")
    assert "/1" in output.getvalue()
    session.handle_line("/1")  # "Change: Goal self-assessment"
    assert output.getvalue().count("from 1 to 10?") == 1  # asked again after /1
    session.handle_line("8")
    [text] = [line for line in output.getvalue().splitlines() if "How valuable" in line][-1:]
    assert text
    with chat.store.unit_of_work() as uow:
        state = uow.conversations.load(1, chat.person(MENTEE).id)
    assert state.answers["goal_self"] == 8


def chat_dir():  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp())


def test_a_command_with_words_runs_when_the_question_shown_could_not_take_it_as_an_answer(chat: Chat) -> None:
    """Found by the simulator: a coordinator rating their manager (a number) typed `pair pause someone`, and was
    told it was not a whole number. A command the open question cannot take as its answer runs as a command."""
    three_at_once(chat)
    with chat.store.unit_of_work() as uow:  # she also coordinates the programme
        uow.coordinators.add(programme_id(chat), chat.person(MENTEE).id, None)
    replies = chat.send(MENTEE, "program show Digital 2030")
    assert not any("not a whole number" in r for r in replies)
    assert any("**Settings**" in r and "anonymity-threshold" in r for r in replies[:-1])
    assert "Where would you put yourself today" in replies[-1]  # the open question, asked again
    assert "not a whole number" in " ".join(chat.send(MENTEE, "next year"))  # a participant's verb: an answer
    assert not feedback(chat, "midpoint")
    chat.send(MENTEE, "6")
    chat.send(MENTEE, "4")
    replies = chat.send(MENTEE, "yes")
    assert "What should we keep, or change?" in replies[-1]
    chat.send(MENTEE, "agenda add more time for questions")  # free text: an answer, as before
    chat.send(MENTEE, "yes")
    [answers] = feedback(chat, "midpoint")
    assert answers["comment"] == "agenda add more time for questions"

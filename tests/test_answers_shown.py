"""An answer goes only to a question the person has actually been shown.

A questionnaire the bot opens is a nudge: it waits in the outbox for the person's working hours. If they
write to the bot before it arrives, they are plainly at work: what was held is shown at once, and what
they typed is not taken as the answer to a question they never saw.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chat import Chat
from test_questionnaire_queue import fall_due, feedback, pair_up, texts
from test_sessions import MENTEE

MONDAY_EVENING_LA = datetime(2030, 3, 5, 2, 0, tzinfo=UTC)  # 18:00 in Los Angeles: after Gabriela's 07:00-15:00
MONDAY_MORNING_LA = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles


def survey_held_overnight(chat: Chat) -> None:
    """The midpoint survey falls due after Gabriela's working hours, so its first question is held."""
    pair_up(chat)
    fall_due(chat, MONDAY_EVENING_LA, ("programme_survey", {"subject": "midpoint"}))
    chat.advance(MONDAY_EVENING_LA + timedelta(minutes=5) - chat.clock.now())
    assert not any("halfway through" in t for t in texts(chat, MENTEE))


def survey_answers(chat: Chat) -> dict[str, object]:
    with chat.store.unit_of_work() as uow:
        state = uow.conversations.load(1, chat.person(MENTEE).id)
        return dict(state.answers) if state.flow == "survey" else {}


def test_a_number_typed_before_the_question_arrived_is_not_taken_as_its_answer(chat: Chat) -> None:
    survey_held_overnight(chat)
    replies = chat.send(MENTEE, "6")
    assert survey_answers(chat) == {}  # nothing saved for a question she never saw
    assert any("halfway through" in r and "Where would you put yourself today" in r for r in replies)
    assert "haven't taken “6” as an answer" in replies[-1] and "`todo`" in replies[-1]
    replies = chat.send(MENTEE, "6")  # now she has seen it
    assert survey_answers(chat) == {"goal_self": 6}
    assert "How valuable" in replies[-1]


def test_the_held_question_is_shown_once_not_again_in_the_morning(chat: Chat) -> None:
    survey_held_overnight(chat)
    chat.send(MENTEE, "hello")
    chat.advance(MONDAY_MORNING_LA + timedelta(days=1) - chat.clock.now())
    assert len([t for t in texts(chat, MENTEE) if "halfway through" in t]) == 1


def test_a_command_typed_before_the_question_arrived_runs_and_shows_it(chat: Chat) -> None:
    survey_held_overnight(chat)
    replies = chat.send(MENTEE, "todo")
    assert any("halfway through" in r for r in replies)
    assert any("Open now: **the midpoint survey**" in r for r in replies)
    assert "Where would you put yourself today" in replies[-1]  # asked again after the command, as always
    assert survey_answers(chat) == {}


def test_a_question_delivered_in_working_hours_takes_the_number_at_once(chat: Chat) -> None:
    pair_up(chat)
    fall_due(chat, MONDAY_MORNING_LA, ("programme_survey", {"subject": "midpoint"}))
    chat.advance(MONDAY_MORNING_LA + timedelta(minutes=5) - chat.clock.now())
    assert any("halfway through" in t for t in texts(chat, MENTEE))
    replies = chat.send(MENTEE, "6")
    assert survey_answers(chat) == {"goal_self": 6}
    assert "How valuable" in replies[-1]
    chat.send(MENTEE, "4")
    chat.send(MENTEE, "yes")
    chat.send(MENTEE, "skip")
    assert feedback(chat, "midpoint")[0]["goal_self"] == 6

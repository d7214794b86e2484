"""Old buttons change nothing (issue #18): a button pressed after the state it was about moved on is refused by
the service that would act on it (``Outdated``), with one kind sentence, and nothing changes. Engine level, on
the chat harness: the team-rating agreement, pause and resume, the goal's direction, "suggest another topic" and
the returning participant's buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.model import Action
from bot.sessions.buttons import SWAP_ACTION, TOPIC_ACTION, AgendaSwapValue
from bot.wording import say, unescape
from chat import Chat
from test_clone import COORD as CLONE_COORD
from test_clone import MENTOR as RETURNING
from test_clone import last_term, place
from test_feedback_buttons import asked_to_agree, team_notice
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, pair_up


def press_old(chat: Chat, email: str, label: str, nth: int = 0) -> list[str]:
    """Press ``label`` on the ``nth`` message (oldest first) to ``email`` that had it: an old screen."""
    found = [c for m in chat.received(email) for c in m.choices if c.label == label]
    choice = found[nth]
    return chat.send(email, action=Action(id=choice.action, value=choice.value))


def outbox_size(chat: Chat) -> int:
    return sum(len(messages) for messages in chat.deliverer.inbox.values())


def participant_states(chat: Chat, *emails: str) -> list[tuple[str, dict[str, Any]]]:
    people = [chat.person(email).id for email in emails]
    with chat.store.unit_of_work() as uow:
        return [(p.status.value, dict(p.notices)) for person in people for p in uow.participants.of_person(person)]


def programme_goal(chat: Chat) -> tuple[float | None, float | None, str]:
    with chat.store.unit_of_work() as uow:
        stored = uow.programmes.in_tenant(1)[0]
        return stored.goal_baseline, stored.goal_target, stored.settings.goal_direction


# -- the team rating's agreement ----------------------------------------------------------------------------


def test_an_old_team_agreement_button_cannot_flip_the_answer(chat: Chat) -> None:
    asked_to_agree(chat)
    assert "your team will be asked" in chat.press(MENTEE, "Yes, ask my team")[0]
    agreed = team_notice(chat)
    before = outbox_size(chat)

    replies = press_old(chat, MENTEE, "No, don't ask my team")

    assert [unescape(r) for r in replies] == [
        unescape(say("feedback.team_already", programme={"name": "Digital 2030"}, agreed=True))
    ]
    assert team_notice(chat) == agreed and agreed["state"] == "agreed"
    assert outbox_size(chat) == before + 1  # one sentence, to the mentee alone


# -- pause and resume ----------------------------------------------------------------------------------------


def test_an_old_pause_or_resume_button_changes_nothing(chat: Chat) -> None:
    pair_up(chat)
    chat.send(MENTOR, "pause")
    assert "Paused" in chat.press(MENTOR, "Pause me")[0]
    paused = participant_states(chat, MENTOR, MENTEE)
    heard = len(chat.received(MENTEE))

    replies = press_old(chat, MENTOR, "Pause me")
    assert [unescape(r) for r in replies] == [unescape(say("support.pause_outdated", paused=True))]
    assert participant_states(chat, MENTOR, MENTEE) == paused
    assert len(chat.received(MENTEE)) == heard  # the partner hears nothing

    chat.send(MENTOR, "pause")
    assert any("Welcome back" in r for r in chat.press(MENTOR, "Resume"))
    resumed = participant_states(chat, MENTOR, MENTEE)
    heard = len(chat.received(MENTEE))
    replies = press_old(chat, MENTOR, "Resume")
    assert [unescape(r) for r in replies] == [unescape(say("support.pause_outdated", paused=False))]
    assert participant_states(chat, MENTOR, MENTEE) == resumed
    assert len(chat.received(MENTEE)) == heard


# -- the goal's direction ------------------------------------------------------------------------------------


def test_an_old_direction_button_cannot_put_back_an_earlier_target(chat: Chat) -> None:
    assert "3 is below the baseline 5" in unescape(chat.send(COORD, "program edit target 3")[0])
    assert "target is now 9" in unescape(chat.send(COORD, "program edit target 9")[0])  # higher: no question
    assert programme_goal(chat) == (5, 9, "higher")

    replies = press_old(chat, COORD, "Yes, lower is better")
    assert len(replies) == 1 and "has changed since that question" in unescape(replies[0])
    assert programme_goal(chat) == (5, 9, "higher")
    replies = press_old(chat, COORD, "No, keep the target")
    assert len(replies) == 1 and "has changed since that question" in unescape(replies[0])


def test_a_direction_question_answered_already_is_not_answered_again(chat: Chat) -> None:
    chat.send(COORD, "program edit target 3")
    assert "target is now 3" in unescape(chat.press(COORD, "Yes, lower is better")[0])
    assert programme_goal(chat) == (5, 3, "lower")
    for label in ("Yes, lower is better", "No, keep the target"):
        replies = press_old(chat, COORD, label)
        assert len(replies) == 1 and "You already answered that question" in unescape(replies[0])
        assert programme_goal(chat) == (5, 3, "lower")


# -- "suggest another topic" ---------------------------------------------------------------------------------


def test_topic_buttons_of_a_session_that_has_begun_change_nothing(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    chat.send(MENTOR, "agenda")
    topics = chat.send(MENTOR, "agenda swap")
    assert topics and any(c.action == TOPIC_ACTION for c in chat.received(MENTOR)[-1].choices)
    with chat.store.unit_of_work() as uow:
        [session] = [s for s in uow.sessions.of_programme(uow.programmes.in_tenant(1)[0].id)][:1]
    chat.advance(session.starts_at - chat.clock.now() + timedelta(minutes=5))  # the session has begun

    topic = next(c for m in chat.received(MENTOR) for c in m.choices if c.action == TOPIC_ACTION)
    swap = Action(id=SWAP_ACTION, value=AgendaSwapValue(session.id).encode())  # as an agenda's button carries it
    for action in (swap, Action(id=topic.action, value=topic.value)):
        replies = chat.send(MENTOR, action=action)
        assert [unescape(r) for r in replies] == [unescape(say("sessions.topic_too_late", cancelled=False))]
    with chat.store.unit_of_work() as uow:
        assert uow.sessions.get(session.id).topic_id == session.topic_id  # type: ignore[union-attr]


# -- returning participants ----------------------------------------------------------------------------------


def test_the_returning_buttons_once_answered_change_nothing(chat: Chat) -> None:
    last_term(chat)
    chat.send(CLONE_COORD, "program clone Digital 2031")
    chat.send(CLONE_COORD, "yes")
    chat.send(CLONE_COORD, f"invite {RETURNING} as mentor --program digital-2031")
    chat.press(RETURNING, "Yes, I'm in")
    chat.press(RETURNING, "These are still right")
    confirmed = place(chat, RETURNING, "Digital 2031")
    assert confirmed.intake_completed_at is not None

    for label in ("Change some", "These are still right"):
        replies = press_old(chat, RETURNING, label)
        assert [unescape(r) for r in replies] == [
            unescape(say("intake.returning_answered", programme={"name": "Digital 2031"}))
        ]
        assert place(chat, RETURNING, "Digital 2031") == confirmed
        person = chat.person(RETURNING).id
        with chat.store.unit_of_work() as uow:
            assert uow.conversations.load(1, person).flow is None  # nothing opened


def test_a_returning_button_pressed_while_its_answers_are_being_changed_changes_nothing(chat: Chat) -> None:
    last_term(chat)
    chat.send(CLONE_COORD, "program clone Digital 2031 --shift 6m")
    chat.send(CLONE_COORD, f"invite {RETURNING} as mentor --program digital-2031")
    chat.press(RETURNING, "Yes, I'm in")
    chat.press(RETURNING, "Change some")
    person = chat.person(RETURNING).id
    with chat.store.unit_of_work() as uow:
        state = uow.conversations.load(1, person)
    replies = press_old(chat, RETURNING, "These are still right")
    assert [unescape(r) for r in replies] == [
        unescape(say("intake.returning_in_progress", programme={"name": "Digital 2031"}))
    ]
    with chat.store.unit_of_work() as uow:
        assert uow.conversations.load(1, person) == state
    assert place(chat, RETURNING, "Digital 2031").intake_completed_at is None

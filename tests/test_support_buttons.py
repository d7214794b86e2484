"""The buttons of ``support``, ``pause`` and ``forget-me``: typed values, a damaged value answered clearly without
changing anything, and buttons sent before values had a version."""

from __future__ import annotations

import pytest

from bot.commands.reports import FORGET_ACTION
from bot.commands.support import CHANGE_ACTION, PAUSE_ACTION, SUPPORT_ACTION
from bot.model import Action
from bot.wording import say
from chat import Chat
from test_sessions import MENTEE, MENTOR, pair_up


def standing(chat: Chat, email: str) -> tuple[list[str], list[str], bool]:
    """The person's participant statuses, their pairs' statuses, and whether they still have an email."""
    person = chat.person(email)
    with chat.store.unit_of_work() as uow:
        participants = uow.participants.of_person(person.id)
        pairs = [
            pair.status.value
            for participant in participants
            for pair in uow.matching.pairs(participant.programme_id)
            if participant.id in (pair.mentor_id, pair.mentee_id)
        ]
        found = uow.people.get(person.id)
        return [p.status.value for p in participants], pairs, bool(found and found.email)


@pytest.mark.parametrize(
    ("action", "value"),
    [
        (SUPPORT_ACTION, "v1:talk:more"),
        (SUPPORT_ACTION, "v1:"),
        (CHANGE_ACTION, "v1:pause"),
        (PAUSE_ACTION, "v1:sleep"),
        (PAUSE_ACTION, "v1:pause:now"),
        (FORGET_ACTION, "v1:no"),
        (FORGET_ACTION, ""),
    ],
)
def test_a_damaged_support_pause_or_forget_button_gets_one_clear_answer_and_changes_nothing(
    chat: Chat, action: str, value: str
) -> None:
    pair_up(chat)
    before = standing(chat, MENTEE)
    told = len(chat.received(MENTOR))
    replies = chat.send(MENTEE, action=Action(id=action, value=value))
    if action == SUPPORT_ACTION:  # a single text field takes any text: an unknown choice is refused as such
        assert replies == [say("commands.unknown_action")]
    else:
        assert replies == [say("commands.malformed_action")]
    assert standing(chat, MENTEE) == before and before[2]
    assert len(chat.received(MENTOR)) == told


def test_the_change_buttons_carry_the_circle_and_a_button_sent_before_versions_still_works(chat: Chat) -> None:
    pair_up(chat)
    chat.send(MENTEE, "support")
    menu = chat.received(MENTEE)[-1]
    assert [c.value for c in menu.choices] == ["v1:talk", "v1:change", "v1:wellbeing"]
    chat.press(MENTEE, "Change or end my match")
    [pause, rematch, end] = chat.received(MENTEE)[-1].choices
    key = pause.value.removeprefix("v1:pause:")
    assert ":" in key and rematch.value == f"v1:rematch:{key}" and end.value == f"v1:end:{key}"
    replies = chat.send(MENTEE, action=Action(id=CHANGE_ACTION, value=f"pause|{key}"))  # as sent before v1
    assert replies == [say("support.done_pause")]
    assert standing(chat, MENTEE)[1] == ["paused"]


def test_a_pause_button_sent_before_versions_still_works(chat: Chat) -> None:
    pair_up(chat)
    chat.send(MENTEE, "pause")
    assert chat.received(MENTEE)[-1].choices[0].value == "v1:pause"
    chat.send(MENTEE, action=Action(id=PAUSE_ACTION, value="pause"))
    assert standing(chat, MENTEE)[:2] == (["paused"], ["paused"])

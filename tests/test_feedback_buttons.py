"""The feedback buttons (a pulse's "Give feedback", the mentee's say on their team rating): typed values, a
damaged value answered clearly without changing anything, and buttons sent before values had a version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.feedback import PULSE_ACTION
from bot.model import Action
from bot.team_rating import AGREEMENT_ACTION
from bot.wording import say, unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, pair_up


def team_notice(chat: Chat) -> dict[str, Any]:
    """The mentee's team rating notice, as stored on their participant."""
    with chat.store.unit_of_work() as uow:
        [participant] = uow.participants.of_person(chat.person(MENTEE).id)
        return dict(participant.notices.get("team_rating") or {})


def asked_to_agree(chat: Chat) -> None:
    chat.send(COORD, "program edit team-agreement yes")
    pair_up(chat)
    chat.advance(timedelta(days=1))
    assert team_notice(chat)["state"] == "asked"


@pytest.mark.parametrize("value", ["v1:abc:yes", "v1:12", "abc:yes", ""])
def test_a_damaged_team_agreement_button_gets_one_clear_answer_and_changes_nothing(chat: Chat, value: str) -> None:
    asked_to_agree(chat)
    before = team_notice(chat)
    assert chat.send(MENTEE, action=Action(id=AGREEMENT_ACTION, value=value)) == [say("commands.malformed_action")]
    assert team_notice(chat) == before


def test_the_team_agreement_buttons_carry_typed_values_and_old_ones_still_work(chat: Chat) -> None:
    asked_to_agree(chat)
    with chat.store.unit_of_work() as uow:
        [participant] = uow.participants.of_person(chat.person(MENTEE).id)
    [notice] = [m for m in chat.received(MENTEE) if any(c.action == AGREEMENT_ACTION for c in m.choices)]
    assert [c.value for c in notice.choices] == [f"v1:{participant.id}:yes", f"v1:{participant.id}:no"]
    someone_else = chat.send(MENTOR, action=Action(id=AGREEMENT_ACTION, value=f"v1:{participant.id}:yes"))
    assert someone_else == [unescape(say("feedback.team_not_yours"))]
    replies = chat.send(MENTEE, action=Action(id=AGREEMENT_ACTION, value=f"{participant.id}:yes"))  # sent before v1
    assert "your team will be asked" in replies[0]
    assert team_notice(chat)["state"] == "agreed"


@pytest.mark.parametrize("value", ["v1:abc", "v1:", "session-3"])
def test_a_damaged_pulse_button_gets_one_clear_answer_and_opens_nothing(chat: Chat, value: str) -> None:
    pair_up(chat)
    assert chat.send(MENTOR, action=Action(id=PULSE_ACTION, value=value)) == [say("commands.malformed_action")]
    with chat.store.unit_of_work() as uow:
        assert uow.conversations.load(1, chat.person(MENTOR).id).flow is None


def test_a_pulse_button_for_someone_elses_session_is_refused(chat: Chat) -> None:
    pair_up(chat)
    replies = chat.send(COORD, action=Action(id=PULSE_ACTION, value="v1:999"))
    assert replies == [unescape(say("sessions.not_your_session"))]

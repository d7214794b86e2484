"""The sessions' buttons carry typed, versioned values: a damaged one is answered clearly and changes nothing,
and buttons sent before values had versions still work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.model import Action
from bot.payloads import MalformedAction
from bot.sessions.buttons import OutcomeValue, SlotOtherValue, SlotPickValue
from chat import Chat
from test_commitment import sessions
from test_sessions import MENTOR, confirm_first, offer, pair_up, slot_times

MALFORMED = "That button's value could not be read, so nothing was changed. Type `help` to see what you can do."


def test_a_pick_value_round_trips_and_reads_the_form_sent_before_versions() -> None:
    when = datetime(2030, 3, 5, 14, 30, tzinfo=UTC)
    value = SlotPickValue(7, "8-9", when.isoformat())
    assert value.encode() == f"v1:7:8-9:{when.isoformat()}"
    assert SlotPickValue.decode(value.encode()) == value
    assert SlotPickValue.decode(f"7:8-9|{when.isoformat()}") == value
    assert (value.circle, value.at) == ("7:8-9", when)
    assert SlotOtherValue.decode("7:8-9").circle == "7:8-9"


@pytest.mark.parametrize(
    "value", ["v1:7:8:tomorrow", "v1:7:8:2030-03-05T14:30:00", "v1:7:x-9:2030-03-05T14:30:00+00:00", "7:8", ""]
)
def test_a_pick_value_that_does_not_fit_is_refused(value: str) -> None:
    with pytest.raises(MalformedAction):
        SlotPickValue.decode(value)


def test_a_damaged_outcome_button_is_answered_clearly_and_records_nothing(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    first = sessions(chat)[0]
    chat.advance(first.starts_at + timedelta(minutes=first.minutes + 31) - chat.clock.now())
    for value in ("v1:abc:held", f"v1:{first.id}", "held"):
        assert chat.send(MENTOR, action=Action(id="session.outcome", value=value)) == [MALFORMED]
    after = sessions(chat)[0]
    assert (after.status, after.outcome) == ("scheduled", {})
    replies = chat.send(MENTOR, action=Action(id="session.outcome", value=OutcomeValue(first.id, "held").encode()))
    assert replies[0] == "Thanks, noted." and sessions(chat)[0].status == "held"


def test_a_damaged_pick_button_changes_nothing_and_an_old_one_still_picks(chat: Chat) -> None:
    pair_up(chat)
    mentor_offer = offer(chat, MENTOR)
    picked = SlotPickValue.decode(mentor_offer.choices[0].value)
    damaged = f"v1:{picked.mentor}:{picked.mentees}:next tuesday"
    assert chat.send(MENTOR, action=Action(id="slot.pick", value=damaged)) == [MALFORMED]
    with chat.store.unit_of_work() as uow:
        assert uow.matching.pairs(1)[0].scheduling["accepted"] == {}
    old = f"{picked.circle}|{picked.when}"  # as buttons were written before values had versions
    replies = chat.send(MENTOR, action=Action(id="slot.pick", value=old))
    assert "asked Gabriela Santos to confirm" in replies[0]
    confirm_first(chat)
    assert sessions(chat)[0].starts_at == slot_times(mentor_offer)[0]

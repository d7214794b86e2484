"""Offers of times that nobody answered: made again, so the junior never has to chase.

An offer (:func:`bot.sessions.scheduling.offer_slots`) schedules an ``OFFER_REMINDER`` job. When it falls due
and that same offer is still open, the pair is asked again: with fresh times when nobody picked one, or,
when someone picked a time still ahead, only the others are asked to confirm it. After the last reminder comes a last look: a pair still
without a time is marked at risk (``no_time``, named in ``status``) and its coordinators are told. An offer that
found no time inside everyone's working hours is looked at on its first reminder: unless someone proposed a
time meanwhile, the pair is marked at risk at once (``no_common_time``) and its coordinators are told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.commitment import alert_coordinators
from bot.context import Turn
from bot.domain import PairStatus
from bot.handling import Handling, OnDue
from bot.sessions.circles import Circle, circle_by_key
from bot.sessions.scheduling import (
    NO_COMMON_TIME,
    NO_TIME,
    OFFER_REMINDER,
    OFFER_REMINDER_DAYS,
    ask_to_confirm,
    offer_again,
    offer_state,
    save_state,
    schedule_offer_reminder,
)


def on_offer_reminder(turn: Turn, payload: dict[str, Any]) -> None:
    """Make the offer ``payload`` names again, if it is still the open one and nobody has settled it."""
    circle = circle_by_key(turn.uow, str(payload.get("circle", "")))
    if circle is None or any(p.status != PairStatus.ACTIVE for p in circle.pairs):
        return
    state = offer_state(circle)
    if not state or state.get("offered_at") != payload.get("offered_at"):
        return  # confirmed since, or a newer offer was made
    reminders = int(state.get("reminders", 0)) + 1
    accepted: dict[str, str] = state.get("accepted", {})
    picked = next(iter(accepted.items()), None)
    if not state.get("slots") and picked is None:
        mark_no_time(turn, circle, NO_COMMON_TIME)  # nothing fits everyone, and nobody proposed a time
        return
    if reminders > len(OFFER_REMINDER_DAYS):
        mark_no_time(turn, circle)
        return
    if picked is not None and datetime.fromisoformat(picked[1]) > turn.now:
        proposer_id, when = picked
        proposer = circle.people[int(proposer_id)]
        for other in circle.others(proposer.id):
            if str(other.id) not in accepted:
                ask_to_confirm(turn, circle, other, proposer.name, datetime.fromisoformat(when), reminder=True)
        state["reminders"] = reminders
        save_state(turn, circle, state)
        schedule_offer_reminder(turn, circle, state)
        return
    offer_again(turn, circle, state, reminders)


def mark_no_time(turn: Turn, circle: Circle, reason: str = NO_TIME) -> None:
    """The reminders went unanswered (or no time fits everyone): the pair is at risk for want of a time, and
    its coordinators hear it once."""
    if circle.pairs[0].risk_reason == reason:
        return
    for pair in circle.pairs:
        pair.at_risk, pair.risk_reason = True, reason
        turn.uow.matching.save_pair(pair)
    alert_coordinators(
        turn,
        circle.programme,
        f"commitment.alert_{reason}",
        [m.person_id for m in circle.members],
        mentor=circle.person(circle.mentor).name,
        mentees=[circle.person(m).name for m in circle.mentees],
        reminders=len(OFFER_REMINDER_DAYS),
    )


HANDLERS: tuple[Handling, ...] = (OnDue(OFFER_REMINDER, on_offer_reminder),)

"""What comes back from the calendar worker (``calendar:<request id>`` events) and the free/busy timeout.

- ``calendar_freebusy``: the busy intervals of the people whose calendars were read, and whose could not be; the
  offer that waited for them is made now (:func:`bot.sessions.scheduling.offer_slots` with ``busy``). An answer
  for an offer that was settled or replaced meanwhile changes nothing.
- ``calendar_timeout``: no answer came in time; the offer is made on working hours, and the pair is told.
- ``calendar_event``: a written event's id and join link are kept on its session (never the event's contents).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.context import Turn
from bot.domain import PairStatus
from bot.handling import Handling, OnDue
from bot.ports import EVENT_RESULT, FREEBUSY_RESULT, Busy
from bot.sessions.calendar_sync import TIMEOUT_JOB
from bot.sessions.circles import circle_by_key
from bot.sessions.scheduling import offer_again, offer_state


def _offer_waiting(turn: Turn, circle_key: str, key: str, busy: Busy) -> None:
    """Make the offer that waited for free/busy request ``key``, if it still waits for it."""
    circle = circle_by_key(turn.uow, circle_key)
    if circle is None or any(p.status != PairStatus.ACTIVE for p in circle.pairs):
        return
    state = offer_state(circle)
    if not key or state.get("calendar") != key:
        return  # answered already (or timed out), or the offer was settled or replaced
    offer_again(turn, circle, state, int(state.get("reminders", 0)), busy)


def on_free_busy(turn: Turn, payload: dict[str, Any]) -> None:
    """The free/busy the worker read: busy intervals per person, and whose calendar could not be read."""
    intervals = {
        int(person_id): [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in spans]
        for person_id, spans in dict(payload.get("busy", {})).items()
    }
    unread = tuple(int(p) for p in payload.get("unread", []))
    _offer_waiting(turn, str(payload.get("circle", "")), str(payload.get("key", "")), Busy(intervals, unread))


def on_timeout(turn: Turn, payload: dict[str, Any]) -> None:
    """Free/busy did not come in time: the offer is made on everyone's working hours, and they are told."""
    unread = tuple(int(p) for p in payload.get("people", []))
    _offer_waiting(turn, str(payload.get("circle", "")), str(payload.get("key", "")), Busy({}, unread))


def on_event_written(turn: Turn, payload: dict[str, Any]) -> None:
    """Keep the written event's provider, id and join link on its session (cleared when it was cancelled)."""
    session_id = payload.get("session_id")
    session = turn.uow.sessions.get(session_id) if isinstance(session_id, int) else None
    if session is None:
        return
    if payload.get("op") == "cancel":
        session.calendar_event = {}
    elif payload.get("event_id"):
        session.calendar_event = {
            "provider": str(payload.get("provider", "")),
            "event_id": str(payload["event_id"]),
            "join_url": str(payload.get("join_url", "")),
        }
    else:
        return
    turn.uow.sessions.save(session)


HANDLERS: tuple[Handling, ...] = (
    OnDue(FREEBUSY_RESULT, on_free_busy),
    OnDue(TIMEOUT_JOB, on_timeout),
    OnDue(EVENT_RESULT, on_event_written),
)

"""The ports of calendar integration (Microsoft 365 through Graph, Google Workspace through the Calendar API).

The engine never calls a calendar: inside the handling transaction it records a durable *calendar request*
(:class:`CalendarRequests`, a member of the unit of work). An adapter-side calendar worker
(``adapters/calendars/worker.py``) claims requests from the :class:`CalendarQueue`, performs them outside any
transaction, and feeds each result back as an inbound event ``calendar:<request id>`` (an event of kind
``due``, so the engine handles it like a job that fell due: :mod:`bot.sessions.calendar_sync`).

Only free/busy is ever read (busy intervals, never an event's subject, place or people), and of the events the
product writes only their id and join link are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Provider = Literal["microsoft", "google"]
PROVIDERS: tuple[Provider, ...] = ("microsoft", "google")
RequestKind = Literal["freebusy", "event"]
FREEBUSY_RESULT = "calendar_freebusy"
"""The job kind of the inbound event that brings a free/busy result back to the engine."""
EVENT_RESULT = "calendar_event"
"""The job kind of the inbound event that brings a written event's id and join link back to the engine."""


@dataclass(frozen=True)
class CalendarRequest:
    """A request the engine recorded, as the calendar worker claims it."""

    id: int
    tenant_id: int
    platform: str
    """The tenant's platform and key: where the result goes back in (``Runtime.accept``)."""
    tenant_key: str
    kind: RequestKind
    provider: Provider
    key: str
    payload: dict[str, Any]
    attempts: int = 0


@dataclass(frozen=True)
class Busy:
    """Free/busy of the people of one offer: busy intervals per person id, and whose calendar could not be read."""

    intervals: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    unread: tuple[int, ...] = ()


class CalendarRequests(Protocol):
    """What a unit of work adds to the calendar queue (committed with the domain change that asked for it)."""

    def add(
        self, tenant_id: int, kind: RequestKind, provider: Provider, key: str, payload: dict[str, Any], due_at: datetime
    ) -> int | None:
        """Record a request; ``key`` makes it idempotent. Returns its id, or None when that key was recorded."""
        ...


class CalendarQueue(Protocol):
    """The calendar worker's side of the queue: each step in its own short transaction."""

    def claim(self, now: datetime, limit: int = 20) -> list[CalendarRequest]:
        """Lease due requests (pending, or working with an expired lease), oldest first."""
        ...

    def finish(self, request_id: int, result: dict[str, Any]) -> None:
        """The request is done; ``result`` is kept (ids, busy intervals) and the people's addresses are dropped."""
        ...

    def defer(self, request_id: int, until: datetime, error: str) -> None:
        """Try again at ``until`` (a rate limit's Retry-After, or a passing failure)."""
        ...

    def fail(self, request_id: int, error: str) -> None:
        """Give up on the request (it is kept, with the error, for the operator)."""
        ...

    def event_id(self, session_id: int, provider: Provider) -> str | None:
        """The provider's id of the event written for session ``session_id`` (from the latest finished write)."""
        ...

    def pending_count(self) -> int: ...


__all__ = [
    "Provider",
    "PROVIDERS",
    "RequestKind",
    "FREEBUSY_RESULT",
    "EVENT_RESULT",
    "CalendarRequest",
    "Busy",
    "CalendarRequests",
    "CalendarQueue",
]

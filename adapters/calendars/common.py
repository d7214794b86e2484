"""What both calendar providers answer, and how they fail, in the worker's terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

Span = tuple[datetime, datetime]


class Throttled(Exception):
    """The provider asked us to slow down (HTTP 429, Google's rate-limit 403): try again after ``retry_after``."""

    def __init__(self, retry_after: timedelta, detail: str = "") -> None:
        super().__init__(f"throttled for {retry_after.total_seconds():g}s {detail}".strip())
        self.retry_after = retry_after


class Unreadable(Exception):
    """One person's calendar could not be read (no access, no such mailbox, a passing failure): their working
    hours stand in for it."""


class WriteFailed(Exception):
    """An event could not be written. ``passing``: worth trying again later (a server error, no connection)."""

    def __init__(self, detail: str, passing: bool) -> None:
        super().__init__(detail)
        self.passing = passing


@dataclass(frozen=True)
class WrittenEvent:
    """What is kept of an event the product wrote: its id and meeting link, never its contents."""

    event_id: str
    join_url: str = ""


class CalendarProvider(Protocol):
    """One provider's calls, synchronous (run on the calendar worker's thread)."""

    name: str

    def busy(self, email: str, start: datetime, end: datetime) -> list[Span]:
        """Busy intervals (UTC) of ``email`` between ``start`` and ``end``; raises Throttled or Unreadable."""
        ...

    def create(self, event: dict[str, Any]) -> WrittenEvent:
        """Create the event (idempotently: a retry finds the same event); raises Throttled or WriteFailed."""
        ...

    def update(self, event_id: str, event: dict[str, Any]) -> WrittenEvent:
        """Move the event to the payload's times."""
        ...

    def cancel(self, event_id: str, event: dict[str, Any]) -> None:
        """Cancel the event (its attendees are told by the provider); one already gone counts as cancelled."""
        ...

    def known_event_id(self, event: dict[str, Any]) -> str:
        """The event's id when the provider lets us choose it (Google), else "" (Graph: ask the queue)."""
        ...


def retry_after(headers: Any, default: float = 30.0) -> timedelta:
    """Retry-After as seconds or an HTTP date (at least one second; ``default`` when absent or unreadable)."""
    value = str(headers.get("Retry-After", "") or "").strip()
    if value.isdecimal():
        return timedelta(seconds=max(1, int(value)))
    if value:
        try:
            moment = parsedate_to_datetime(value)
            return max(timedelta(seconds=1), moment - datetime.now(UTC))
        except (TypeError, ValueError):
            pass
    return timedelta(seconds=default)


def utc(text: str) -> datetime:
    """An ISO timestamp as UTC (Graph's seven fractional digits cut to six; no offset means UTC)."""
    head, dot, fraction = text.partition(".")
    if dot:
        digits = "".join(c for c in fraction if c.isdecimal())[:6]
        rest = fraction.lstrip("0123456789")
        text = f"{head}.{digits}{rest}" if digits else head + rest
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

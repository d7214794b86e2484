"""Clocks: the system clock, and one that can be moved forward to play scheduled work through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The system clock shifted by an offset that only moves forward (console ``/advance``, tests)."""

    def __init__(self, offset: timedelta = timedelta(0), start: datetime | None = None) -> None:
        self.offset = offset
        self._frozen = start

    def now(self) -> datetime:
        base = self._frozen if self._frozen is not None else datetime.now(UTC)
        return base + self.offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta
        return self.now()

"""Time in people's own terms: their time zone, their working hours, their working week."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKEND = (5, 6)


def _hours(working_hours: str) -> tuple[time, time]:
    start, _, end = working_hours.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def next_working_moment(when: datetime, time_zone: str, working_hours: str) -> datetime:
    """``when`` if it falls inside the person's working hours on a weekday, else the next start of them.

    The result is in UTC. Daylight-saving changes are handled by the time-zone database."""
    zone = ZoneInfo(time_zone)
    start, end = _hours(working_hours)
    local = when.astimezone(zone)
    for _ in range(8):
        if local.weekday() not in WEEKEND:
            opening = datetime.combine(local.date(), start, zone)
            closing = datetime.combine(local.date(), end, zone)
            if local < opening:
                return opening.astimezone(UTC)
            if local < closing:
                return local.astimezone(UTC)
        local = datetime.combine(local.date() + timedelta(days=1), time(0, 0), zone)
    return when.astimezone(UTC)

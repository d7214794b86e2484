"""Parsing of the values people type: dates, cadences, time zones, working hours, numbers.

Each parser raises :class:`ValueProblem` with a wording key from ``prompts/messages/input.yml`` and the
values that message needs, so every caller (chat flows, commands, the command line) explains a bad value
the same specific way.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from bot.wording import say


class ValueProblem(ValueError):
    """A value that cannot be accepted, with the wording key and values that explain why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


_DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d/%m/%Y")


def parse_date(raw: str) -> date:
    """A calendar date: 2027-03-31, 31 Mar 2027, 31/03/2027."""
    text = " ".join(raw.replace(",", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueProblem("input.bad_date", given=raw)


_CADENCE_WORDS = {
    "weekly": 7,
    "fortnightly": 14,
    "biweekly": 14,
    "monthly": 28,
    "every week": 7,
    "every two weeks": 14,
    "every other week": 14,
    "every month": 28,
}
_CADENCE = re.compile(r"^(?:every\s+)?(\d{1,2})\s*(d|day|days|w|wk|week|weeks|m|month|months)$")


def parse_cadence(raw: str) -> int:
    """A meeting cadence in days: '2w', 'every 2 weeks', 'weekly', 'monthly', '10d'."""
    text = " ".join(raw.strip().lower().split())
    if text in _CADENCE_WORDS:
        return _CADENCE_WORDS[text]
    match = _CADENCE.match(text)
    if match:
        count, unit = int(match.group(1)), match.group(2)[0]
        days = count * {"d": 1, "w": 7, "m": 28}[unit]
        if 7 <= days <= 62:
            return days
        raise ValueProblem("input.cadence_range", given=raw)
    raise ValueProblem("input.bad_cadence", given=raw)


def describe_cadence(days: int) -> str:
    """How a cadence reads back: 'every 2 weeks'."""

    return say("input.cadence", days=days)


_ZONE_ALIASES = {
    "london": "Europe/London",
    "berlin": "Europe/Berlin",
    "paris": "Europe/Paris",
    "new york": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles",
    "chicago": "America/Chicago",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "singapore": "Asia/Singapore",
    "sydney": "Australia/Sydney",
    "tokyo": "Asia/Tokyo",
    "utc": "UTC",
    "gmt": "UTC",
}


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()} | {"utc": "UTC"}


@lru_cache(maxsize=4096)
def parse_time_zone(raw: str) -> str:
    """An IANA time zone, or a well-known city: 'Europe/London', 'europe/london', 'Bengaluru', 'Tokyo'.

    An unknown zone raises ``input.bad_time_zone`` with the closest real name as ``suggestion``."""
    text = raw.strip()
    alias = _ZONE_ALIASES.get(text.lower())
    if alias:
        return alias
    candidate = text.replace(" ", "_").lower()
    zones = _zones()
    if candidate in zones:
        return zones[candidate]
    cities = [zone for zone in zones.values() if zone.lower().rsplit("/", 1)[-1] == candidate]
    if len(cities) == 1:
        return cities[0]
    close = difflib.get_close_matches(candidate, list(zones), n=1, cutoff=0.6)
    raise ValueProblem("input.bad_time_zone", given=raw, suggestion=zones[close[0]] if close else "Europe/London")


_HOURS = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(?:-|–|to)\s*(\d{1,2})(?::(\d{2}))?$")


def parse_working_hours(raw: str) -> str:
    """Working hours as 'HH:MM-HH:MM' (start before end): '9-17', '08:30 to 16:30'."""
    match = _HOURS.match(raw.strip().lower())
    if not match:
        raise ValueProblem("input.bad_working_hours", given=raw)
    try:
        start = time(int(match.group(1)), int(match.group(2) or 0))
        if match.group(3) == "24" and int(match.group(4) or 0) == 0:
            end = time(23, 59)
        else:
            end = time(int(match.group(3)), int(match.group(4) or 0))
    except ValueError as exc:
        raise ValueProblem("input.bad_working_hours", given=raw) from exc
    if end <= start:
        raise ValueProblem("input.working_hours_order", given=raw)
    return f"{start:%H:%M}-{end:%H:%M}"


def parse_number(raw: str, *, integer: bool, minimum: float | None, maximum: float | None) -> float | int:
    """A number within optional bounds ('12', '3.5', '20%')."""
    text = raw.strip().replace(",", "").rstrip("%").strip()
    try:
        value: float | int = int(text) if integer else float(text)
    except ValueError as exc:
        raise ValueProblem("input.bad_integer" if integer else "input.bad_number", given=raw) from exc
    if not math.isfinite(value):
        raise ValueProblem("input.bad_number", given=raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueProblem("input.out_of_range", given=raw, minimum=_plain(minimum), maximum=_plain(maximum))
    return value


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


_YES = {"yes", "y", "yeah", "yep", "sure", "ok", "okay", "true", "1"}
_NO = {"no", "n", "nope", "false", "0"}


def parse_yes_no(raw: str) -> bool:
    """Yes or no, in the usual spellings."""
    text = raw.strip().lower().rstrip(".!")
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueProblem("input.bad_yes_no", given=raw)


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text))

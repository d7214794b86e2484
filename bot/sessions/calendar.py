"""Which days a person can meet on: the programme's term and non-working days, public holidays, their start.

Public holidays come from the ``holidays`` package, by country. A person's country is read from the
directory: a ``location`` that is a two-letter ISO country code or a country name (``GB``,
``India``) is used as it is; otherwise the country their ``time_zone`` belongs to in the IANA zone
table (``Europe/London`` -> GB, ``America/New_York`` -> US, ``Asia/Kolkata`` -> IN). Only national
holidays count (no regional ones), since the directory does not record a region.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from importlib import resources

import holidays

from bot.domain import Person, Programme
from bot.values import ValueProblem


@cache
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country code, from the zone table shipped with tzdata."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_ = line.split("\t")
            found[zone] = code
    return found


@cache
def _country_names() -> dict[str, str]:
    """Country name (lower case) or code -> ISO country code."""
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            found[name.strip().lower()] = code
            found[code.lower()] = code
    return found


def country_of(person: Person) -> str | None:
    """The ISO country code whose public holidays apply to ``person`` (None if unknown)."""
    named = _country_names().get(person.location.strip().lower())
    return named or _zone_countries().get(person.time_zone)


@cache
def _calendar(country: str) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        return None


def is_public_holiday(country: str | None, day: date) -> bool:
    """Whether ``day`` is a national public holiday in ``country``."""
    calendar = _calendar(country) if country else None
    return calendar is not None and day in calendar


def first_day(programme: Programme, person_intake: dict[str, object]) -> date | None:
    """The earliest day this participant can meet: the term's start, or later if they said so at intake."""
    days = [programme.starts_on] if programme.starts_on else []
    given = person_intake.get("available_from")
    if isinstance(given, str) and given:
        try:
            days.append(date.fromisoformat(given))
        except ValueError:
            pass
    return max(days) if days else None


def parse_days(text: str) -> list[date]:
    """``2027-12-24..2028-01-02, 2028-04-14``: single dates and inclusive ranges; ``none`` clears."""
    if text.strip().lower() in ("none", "clear", "-"):
        return []
    days: set[date] = set()
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        first_text, dots, last_text = part.partition("..")
        try:
            first = date.fromisoformat(first_text.strip())
            last = date.fromisoformat(last_text.strip()) if dots else first
        except ValueError:
            raise ValueProblem("programme.bad_days", given=part) from None
        if last < first:
            raise ValueProblem("programme.days_order", given=part)
        if (last - first).days > 366:
            raise ValueProblem("programme.days_too_long", given=part)
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return sorted(days)


CALENDAR_SETTINGS = ("non_working_days", "public_holidays")
_ON, _OFF = ("on", "yes", "y", "true", "1"), ("off", "no", "n", "false", "0")


def calendar_setting(attribute: str, raw: str) -> list[date] | bool:
    """``program edit non-working-days ...`` and ``program edit holidays on|off``, validated."""
    if attribute == "non_working_days":
        return parse_days(raw)
    text = raw.strip().lower()
    if text in _ON or text in _OFF:
        return text in _ON
    raise ValueProblem("programme.bad_on_off", given=raw)


def describe_days(days: list[date]) -> str:
    """Days as coordinators type them: consecutive dates joined into ranges (``2027-12-24..2028-01-02``)."""
    if not days:
        return "none"
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)

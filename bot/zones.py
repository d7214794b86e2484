"""Time zones a chat platform reports for a person (Teams sends the zone of the person's device).

A platform's zone is only a hint: :func:`iana_zone` keeps it when it is exactly an IANA name that
``zoneinfo`` can load, and drops anything else. :func:`adopt_zone` stores it for a person whose record has
no zone of its own, the way a Slack profile's ``tz`` fills one (:func:`bot.identities.fill_empty`: UTC, the
default, counts as none): a zone the directory set, or one the person confirmed in an intake, is never
overridden.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.domain import Person
from bot.identities import fill_empty
from bot.ports import ParticipantRepository, PeopleRepository

UNSET = "UTC"
"""The zone a person has until someone says otherwise."""
LONGEST = 64
"""The longest zone name a person's record keeps."""


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()} | {"utc": "UTC"}


@lru_cache(maxsize=1024)
def iana_zone(raw: str) -> str:
    """``raw`` as the IANA time zone it names (``europe/london`` → ``Europe/London``), or "" when it names
    none (an abbreviation such as ``GMT+1``, a Windows name, a path, anything ``zoneinfo`` cannot load)."""
    text = raw.strip() if isinstance(raw, str) else ""
    name = _names().get(text.lower(), "") if 0 < len(text) <= LONGEST else ""
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ValueError, OSError):
        return ""
    return name


def adopt_zone(people: PeopleRepository, participants: ParticipantRepository, person: Person, zone: str) -> Person:
    """``person`` with the platform's ``zone`` stored when their record has none (UTC) and they did not
    confirm their zone in an intake (every intake begins by showing it); otherwise unchanged."""
    zone = iana_zone(zone)
    if not zone or zone == UNSET or person.time_zone != UNSET:
        return person
    if any(participant.intake for participant in participants.of_person(person.id)):
        return person
    return people.save(person) if fill_empty(person, {"time_zone": zone}) else person

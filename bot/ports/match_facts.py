"""The narrow reads of people and participants (see ``ParticipantRepository``, ``PeopleRepository``): what the
matcher compares, the roster a programme's overview shows, and whether a message may still reach its recipients,
each in one query without a domain record per row."""

from __future__ import annotations

from typing import Any, NamedTuple

from bot.domain import ParticipantStatus, Role

__all__ = ["MatchFacts", "Reach", "RosterEntry"]


class MatchFacts(NamedTuple):
    """An active participant of a programme with the directory facts the matcher compares: only what
    matching needs, read without making a domain record of the participant or the person."""

    participant_id: int
    person_id: int
    role: str
    capacity: int
    intake: dict[str, Any]
    intake_done: bool
    onboarded: bool
    name: str
    seniority: int | None
    time_zone: str
    working_hours: str
    department: str
    division: str
    location: str
    gender: str | None


class RosterEntry(NamedTuple):
    """A participant as a programme's overview (``status``, the health figures) needs them: who, in which role
    and state, how far along, without their answers."""

    id: int
    person_id: int
    name: str
    role: Role
    status: ParticipantStatus
    invited_by: int | None
    intake_done: bool
    onboarded: bool
    notices: dict[str, Any]
    """Notices already given to a mentor (workload thresholds per month); empty for a mentee."""


class Reach(NamedTuple):
    """Whether a message may still reach someone: they opted out or left the organisation (``gone``), and their
    place in the message's programme (None when it has none, or they have no place in it)."""

    person_id: int
    gone: bool
    status: ParticipantStatus | None

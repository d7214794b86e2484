"""What the matcher reads of a programme's participants, in one narrow read (see ``ParticipantRepository``)."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["MatchFacts"]


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

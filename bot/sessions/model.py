"""Session records: meetings of a mentor with their mentee (or, in group programmes, mentees).

As in ``bot.domain``, a ``New...`` record is not stored yet; the stored record has its ``id``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain import Stored


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, validate_assignment=True)


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    MISSED = "missed"


class Side(StrEnum):
    """Who caused something: commitment is tracked by side."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    COORDINATOR = "coordinator"
    BOT = "bot"


class NewSession(_Record):
    """A meeting of a mentor with their mentee (or mentees)."""

    programme_id: int
    circle: str
    """``<mentor participant id>:<mentee participant ids joined by '-'>``: who meets."""
    mentor_id: int
    mentee_ids: list[int]
    sequence: int
    starts_at: datetime
    minutes: int
    anchor_time_zone: str
    """The series keeps its local time in this zone (the mentee's) across daylight-saving changes."""
    status: SessionStatus = SessionStatus.SCHEDULED
    uid: str
    ics_sequence: int = 0
    topic_id: str | None = None
    framework_id: str | None = None
    agenda_items: list[dict[str, Any]] = Field(default_factory=list)
    action_items: list[str] = Field(default_factory=list)
    outcome: dict[str, Any] = Field(default_factory=dict)
    """Per person id (as text): what they reported afterwards (held, cancelled, by whom)."""
    calendar_event: dict[str, Any] = Field(default_factory=dict)
    """The event in the organisation's calendars (``provider``, ``event_id``, ``join_url``): never its contents."""


class Session(NewSession, Stored):
    """A session as stored, with its id."""


class NewSessionEvent(_Record):
    """Something that happened to a session, and which side caused it (proposed, confirmed, moved, ...)."""

    session_id: int | None = None
    circle: str
    programme_id: int
    kind: str
    side: Side
    person_id: int | None = None
    at: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class SessionEvent(NewSessionEvent, Stored):
    """A session event as stored, with its id."""


class NewResource(_Record):
    """A guide or link coordinators collected for a programme."""

    programme_id: int
    title: str
    url: str
    tags: list[str] = Field(default_factory=list)
    role: str = "both"
    added_by: int | None = None
    created_at: datetime | None = None


class Resource(NewResource, Stored):
    """A resource as stored, with its id."""


class NewFeedback(_Record):
    """A pulse after a session, a survey answer, or a check-in. Pulses reach coordinators only as aggregates."""

    programme_id: int
    person_id: int
    role: str
    kind: str
    """``pulse``, ``midpoint``, ``final`` or ``checkin``."""
    subject: str
    session_id: int | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    share_comment: bool = False
    created_at: datetime | None = None


class Feedback(NewFeedback, Stored):
    """Feedback as stored, with its id."""

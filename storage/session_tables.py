"""SQLModel tables of sessions: each circle's sessions, what happened in them, and the feedback given.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict, empty_list


class SessionRow(SQLModel, table=True):
    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("circle", "sequence"), Index("ix_session_starts", "status", "starts_at"))

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    circle: str = Field(max_length=200, index=True)
    mentor_id: int = Field(foreign_key="participant.id", index=True)
    mentee_ids: list[int] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    sequence: int
    starts_at: datetime = _ts(nullable=False)
    minutes: int
    anchor_time_zone: str = Field(max_length=64)
    status: str = Field(default="scheduled", max_length=16)
    uid: str = Field(max_length=200, unique=True)
    ics_sequence: int = 0
    topic_id: str | None = Field(default=None, max_length=80)
    framework_id: str | None = Field(default=None, max_length=80)
    agenda_items: list[dict[str, Any]] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    action_items: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    outcome: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    calendar_event: dict[str, Any] = Field(
        default_factory=empty_dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    """The event written in the organisation's calendars: provider, event id and join link only."""


class SessionEventRow(SQLModel, table=True):
    __tablename__ = "session_event"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int | None = Field(default=None, foreign_key="session.id", index=True)
    circle: str = Field(max_length=200, index=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    kind: str = Field(max_length=32)
    side: str = Field(max_length=16)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    at: datetime | None = _ts()
    detail: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))


class FeedbackRow(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("person_id", "kind", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=64)
    """What it is about: a session id, "midpoint", "final", or a check-in date."""
    session_id: int | None = Field(default=None, foreign_key="session.id")
    answers: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    share_comment: bool = False
    created_at: datetime | None = _ts()

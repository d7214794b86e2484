"""SQLModel tables of programmes: their participants, their coordinators and the resources shared in them.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict, empty_list


class ProgrammeRow(SQLModel, table=True):
    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    slug: str = Field(max_length=80)
    name: str = Field(max_length=120)
    focus: str = Field(default="digital", max_length=32)
    focus_detail: str = Field(default="", max_length=200)
    goal_metric: str = Field(default="", max_length=300)
    goal_baseline: float | None = None
    goal_target: float | None = None
    goal_date: date | None = None
    expectations: str = Field(default="", max_length=3000)
    starts_on: date | None = None
    ends_on: date | None = None
    cadence_days: int = 14
    session_minutes: int = 45
    status: str = Field(default="open", max_length=16)
    settings: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    intake_questions: list[dict[str, Any]] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    cloned_from_id: int | None = None
    created_at: datetime | None = _ts()


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("programme_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    status: str = Field(default="invited", max_length=16)
    capacity: int = 1
    invited_by: int | None = Field(default=None, foreign_key="person.id")
    joined_at: datetime | None = _ts()
    intake: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    intake_version: int = 0
    intake_completed_at: datetime | None = _ts()
    intake_reminders: int = 0
    onboarded_at: datetime | None = _ts()
    notices: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime | None = _ts()


class ProgrammeCoordinatorRow(SQLModel, table=True):
    __tablename__ = "programme_coordinator"

    programme_id: int = Field(foreign_key="programme.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    added_by: int | None = Field(default=None, foreign_key="person.id")
    added_at: datetime | None = _ts()


class ResourceRow(SQLModel, table=True):
    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    title: str = Field(max_length=200)
    url: str = Field(max_length=1000)
    tags: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    role: str = Field(default="both", max_length=16)
    added_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime | None = _ts()

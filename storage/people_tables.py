"""SQLModel tables of tenants and people: each person's identities on the platforms, the coordinators
and the grants waiting for them, and the state of each person's conversation.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict, empty_list


class TenantRow(SQLModel, table=True):
    __tablename__ = "tenant"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=200)
    clock_offset_seconds: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    """The console tenant's clock, moved forward by ``/advance``, kept across restarts."""
    created_at: datetime | None = _ts()


class PersonRow(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    email: str | None = Field(default=None, max_length=254)
    name: str = Field(max_length=200)
    title: str = Field(default="", max_length=200)
    seniority: int | None = None
    department: str = Field(default="", max_length=200)
    division: str = Field(default="", max_length=200)
    location: str = Field(default="", max_length=200)
    time_zone: str = Field(default="UTC", max_length=64)
    working_hours: str = Field(default="09:00-17:00", max_length=32)
    manager_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    gender: str | None = Field(default=None, max_length=100)
    opted_out: bool = False
    calendar_opt_out: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """The person asked that their calendar's free/busy never be read (``calendar off``)."""
    left_at: datetime | None = _ts()
    """When a directory import no longer listed the person (they left the organisation)."""
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class PersonIdentityRow(SQLModel, table=True):
    __tablename__ = "person_identity"
    __table_args__ = (UniqueConstraint("tenant_id", "platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)


class TenantCoordinatorRow(SQLModel, table=True):
    __tablename__ = "tenant_coordinator"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    added_at: datetime | None = _ts()


class CoordinatorGrantRow(SQLModel, table=True):
    """A tenant's coordinator role waiting for an email (or offered to a person): see ``bot/grants.py``."""

    __tablename__ = "coordinator_grant"
    __table_args__ = (UniqueConstraint("tenant_key", "email"), UniqueConstraint("tenant_key", "person_id"))

    id: int | None = Field(default=None, primary_key=True)
    tenant_key: str = Field(max_length=160)
    """``slack:T…``, ``teams:<tenant id>``, ``console``, or ``*`` (every tenant): the tenant may not exist yet."""
    email: str | None = Field(default=None, max_length=254, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    source: str = Field(max_length=16)
    created_at: datetime | None = _ts()


class ConversationStateRow(SQLModel, table=True):
    __tablename__ = "conversation_state"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    flow: str | None = Field(default=None, max_length=64)
    flow_version: int = 0
    step: str | None = Field(default=None, max_length=64)
    answers: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    history: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    context: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    suspended: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    waiting: list[dict[str, Any]] = Field(
        default_factory=empty_list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    current_programme_id: int | None = Field(default=None, foreign_key="programme.id")
    updated_at: datetime | None = _ts()

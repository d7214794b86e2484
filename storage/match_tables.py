"""SQLModel tables of matching: the pairs made, the coordinators' pins and forbids, and the matching runs kept
for review.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict, empty_list


class MatchPairRow(SQLModel, table=True):
    __tablename__ = "match_pair"
    __table_args__ = (UniqueConstraint("programme_id", "mentee_id", "mentor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    mentee_id: int = Field(foreign_key="participant.id", index=True)
    mentor_id: int = Field(foreign_key="participant.id", index=True)
    score: float = 0.0
    reasons: list[dict[str, Any]] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=16)
    created_at: datetime | None = _ts()
    introduced_at: datetime | None = _ts()
    ended_at: datetime | None = _ts()
    end_reason: str = Field(default="", max_length=64)
    goals: list[dict[str, Any]] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    at_risk: bool = False
    risk_reason: str = Field(default="", max_length=200)
    scheduling: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))


class MatchRuleRow(SQLModel, table=True):
    __tablename__ = "match_rule"
    __table_args__ = (UniqueConstraint("programme_id", "kind", "mentee_id", "mentor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    kind: str = Field(max_length=16)
    mentee_id: int = Field(foreign_key="participant.id")
    mentor_id: int = Field(foreign_key="participant.id")
    created_by: int | None = Field(default=None, foreign_key="person.id")


class MatchRunRow(SQLModel, table=True):
    __tablename__ = "match_run"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    mode: str = Field(max_length=16)
    seed: int | None = None
    result: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime | None = _ts()
    published_at: datetime | None = _ts()

"""SQLModel tables of what coordinators are shown: the audit log, and the released figures with the
pseudonyms their bases use.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    verb: str = Field(max_length=64)
    detail: str = Field(default="", max_length=500)
    at: datetime | None = _ts()
    actor: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    """The pseudonym of a coordinator who was forgotten (``person_id`` is then empty)."""


class FigureReleaseRow(SQLModel, table=True):
    """A release of a programme's figures: computed once at a measurement point or the end of a period, over the
    answers given before ``cutoff`` (``bot.reports.releases``)."""

    __tablename__ = "figure_release"
    __table_args__ = (UniqueConstraint("programme_id", "cutoff"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    period: str = Field(max_length=16)
    """``baseline``, ``midpoint``, ``final``, or the month it closes (``2030-03``)."""
    cutoff: datetime = _ts(nullable=False)
    released_at: datetime = _ts(nullable=False)


class ReleasedCellRow(SQLModel, table=True):
    """A figure of a release: ``pulse``, ``pulse:department:Sales``, ``pulse:department#other``..."""

    __tablename__ = "released_cell"

    release_id: int = Field(foreign_key="figure_release.id", primary_key=True)
    cell: str = Field(max_length=255, primary_key=True)
    respondents: int
    mean: float
    basis: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    """Per pseudonym, the ids of the answers the figure rests on: later releases are checked against it."""


class FigureContributorRow(SQLModel, table=True):
    """The pseudonym a person has in released figures' bases; deleted when they are forgotten."""

    __tablename__ = "figure_contributor"

    programme_id: int = Field(foreign_key="programme.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    scope: str = Field(max_length=32, primary_key=True)
    token: str = Field(max_length=32, unique=True)

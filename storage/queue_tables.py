"""SQLModel tables of the queues: inbox events, outbox messages, scheduled jobs and calendar requests,
and the count of nudges each person was sent a day.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, SmallInteger, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from storage.columns import _ts, empty_dict, empty_list


class InboxEventRow(SQLModel, table=True):
    __tablename__ = "inbox_event"
    __table_args__ = (
        UniqueConstraint("platform", "tenant_key", "event_id"),
        Index("ix_inbox_event_pending", "status", "id"),
        Index("ix_inbox_event_user", "platform", "tenant_key", "user_key", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    tenant_key: str = Field(max_length=128)
    event_id: str = Field(max_length=200)
    user_key: str = Field(default="", max_length=200)
    """Who acted: one person's events are handled in order, never two at once."""
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str = Field(default="", max_length=2000)
    received_at: datetime = _ts(nullable=False)
    done_at: datetime | None = _ts()
    redacted_at: datetime | None = _ts()
    """When the payload was emptied (retention, ``forget-me``): only what exactly-once needs is left."""


LANES: dict[str, int] = {"reply": 0, "bulk": 1}
"""The outbox's lanes (``bot.ports.Lane``) as stored: a lower lane is sent first."""
UNSETTLED = "status IN ('pending', 'sending')"
"""Outbox rows still to send, as the lane index and the claim both spell it (a partial index is used only by a
query naming its condition with the same literal values)."""


class OutboxMessageRow(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_pending", "platform", "status", "not_before"),
        # What the senders claim: due rows of the reply lane first, then bulk, each in id order.
        Index(
            "ix_outbox_lane", "platform", "lane", "id", sqlite_where=text(UNSETTLED), postgresql_where=text(UNSETTLED)
        ),
        # What waits for one person (the nudges a turn releases): found without reading the tenant's backlog.
        Index("ix_outbox_person", "person_id", "id", sqlite_where=text(UNSETTLED), postgresql_where=text(UNSETTLED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    platform: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=300, unique=True)
    programme_id: int | None = Field(default=None, foreign_key="programme.id")
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recipients: list[int] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    pending: list[int] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str = Field(default="", max_length=2000)
    lane: int = Field(default=LANES["bulk"], sa_column=Column(SmallInteger, nullable=False, server_default="1"))
    """The lane it waits in (:data:`LANES`): replies to what someone just did go ahead of bulk messages."""
    person_id: int | None = None
    """The one person it is to (None when it is to several, or to a channel)."""
    held_for_install: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Held until one of its recipients installs the app (Teams: no personal chat to post in yet); woken when
    one of them does. Cleared by the next attempt, which holds it again if it must still wait."""
    created_at: datetime = _ts(nullable=False)
    not_before: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts()
    redacted_at: datetime | None = _ts()
    """When the payload was emptied (retention, ``forget-me``): the key and the status stay."""


class ScheduledJobRow(SQLModel, table=True):
    __tablename__ = "scheduled_job"
    __table_args__ = (Index("ix_scheduled_job_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=64)
    due_at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="scheduled", max_length=16)
    created_at: datetime | None = _ts()
    enqueued_at: datetime | None = _ts()


class CalendarRequestRow(SQLModel, table=True):
    """A calendar request the engine recorded: free/busy to read or an event to write (``bot/ports/calendars.py``).

    The calendar worker leases it, performs it and feeds the result back as inbox event ``calendar:<id>``."""

    __tablename__ = "calendar_request"
    __table_args__ = (Index("ix_calendar_request_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=16)
    provider: str = Field(max_length=16)
    session_id: int | None = Field(default=None, index=True)
    """The session an event write is for (no foreign key: the request outlives nothing it needs)."""
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    due_at: datetime = _ts(nullable=False)
    lease_until: datetime | None = _ts()
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime | None = _ts()
    done_at: datetime | None = _ts()


class NudgeCountRow(SQLModel, table=True):
    __tablename__ = "nudge_count"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    day: date = Field(primary_key=True)
    count: int = 0

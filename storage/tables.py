"""SQLModel tables. Column names follow the domain records in ``bot.domain`` so rows map across directly.

Every change here needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, SmallInteger, UniqueConstraint, false, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Empty:
    """A row's default of an empty list or dict. Not ``list`` or ``dict`` themselves, nor a function: building a
    row asks every default factory for its signature, and ``list``'s is parsed from text each time (0.1 ms a
    field, on every row built); this one states its signature."""

    __signature__ = inspect.Signature()

    def __init__(self, kind: type[list[Any]] | type[dict[str, Any]]) -> None:
        self.kind = kind

    def __call__(self) -> Any:
        return self.kind()


empty_list, empty_dict = _Empty(list), _Empty(dict)


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


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


class TenantCoordinatorRow(SQLModel, table=True):
    __tablename__ = "tenant_coordinator"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    added_at: datetime | None = _ts()


class ProgrammeCoordinatorRow(SQLModel, table=True):
    __tablename__ = "programme_coordinator"

    programme_id: int = Field(foreign_key="programme.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    added_by: int | None = Field(default=None, foreign_key="person.id")
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


class NudgeCountRow(SQLModel, table=True):
    __tablename__ = "nudge_count"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    day: date = Field(primary_key=True)
    count: int = 0


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

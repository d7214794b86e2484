"""Domain records the engine reasons about: tenants, people, programmes, participants, coordinators.

They are plain pydantic models. ``storage/`` maps them to tables; the engine never sees a table.

A record read from the store always has its ``id``. A record not stored yet is a ``New...`` shape
(``NewPerson``, ``NewProgramme``, ...) without one: it is handed to a repository's ``add``, which returns
the stored record. The stored record lists ``id`` first, as the table does.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, validate_assignment=True)


class Stored(_Record):
    """The id every stored record has.

    A stored record derives from its ``New...`` shape first and from ``Stored`` second: pydantic then lists
    ``id`` first (in dumps and exports), as it was before the two shapes were split."""

    id: int


class Tenant(Stored):
    """A Slack workspace, a Teams tenant, or the local console: data never crosses between tenants."""

    platform: str
    external_id: str
    name: str = ""


class NewPerson(_Record):
    """Someone in a tenant's directory, whether or not they take part in a programme."""

    tenant_id: int
    email: str | None = None
    """Unknown for chat users not (yet) in the directory."""
    name: str
    title: str = ""
    seniority: int | None = None
    department: str = ""
    division: str = ""
    location: str = ""
    time_zone: str = "UTC"
    working_hours: str = "09:00-17:00"
    manager_id: int | None = None
    gender: str | None = None
    opted_out: bool = False
    calendar_opt_out: bool = False
    """They asked that their calendar's free/busy never be read (``calendar off``): times follow their working hours."""
    """True once the person asked to hear nothing more from the bot."""
    left_at: datetime | None = None
    """When the directory stopped listing them: they left the organisation."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Person(NewPerson, Stored):
    """A person as stored, with its id."""


class Focus(StrEnum):
    """What a programme is about."""

    DIGITAL = "digital"
    SOCIAL_MEDIA = "social_media"
    INCLUSION = "inclusion"
    LEADERSHIP = "leadership"
    CUSTOM = "custom"


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ProgrammeSettings(BaseModel):
    """Tunable rules of a programme. Defaults follow PRODUCT.md."""

    seniority_gap: int = Field(default=1, ge=0, le=20)
    allow_peer: bool = False
    anonymity_threshold: int = Field(default=5, ge=3, le=100)
    no_shared_manager: bool = True
    offline_depth: int = Field(default=0, ge=0, le=50)
    """How many levels below someone the reporting-line rule excludes partners (0: their whole subtree)."""
    offline_depth_for: dict[str, int] = Field(default_factory=dict)
    """Per person (person id as text): their own reach, overriding ``offline_depth``."""
    min_overlap_minutes: int = Field(default=60, ge=0, le=600)
    participant_choice: bool = False
    mentor_capacity: int = Field(default=1, ge=1, le=20)
    mentor_hours_per_month: float = Field(default=4.0, gt=0, le=80)
    mentor_max_seniority: int | None = Field(default=None, ge=0, le=50)
    """Mentors may be at most this senior (None: anyone with someone more senior to learn from them)."""
    mentee_min_seniority: int | None = Field(default=None, ge=0, le=50)
    intake_reminder_days: float = Field(default=2.0, gt=0, le=30)
    intake_reminders: int = Field(default=2, ge=0, le=5)
    group_sessions: bool = False
    """A mentor with several mentees holds one session for the group."""
    non_working_days: list[date] = Field(default_factory=list)
    """Days nobody in the programme meets (company closures): slots and series skip them."""
    public_holidays: bool = False
    """Each person's national public holidays (from their location or time zone) are days off for them."""
    agenda_hours_before: float = Field(default=24.0, gt=0, le=168)
    reminder_minutes_before: int = Field(default=60, ge=5, le=1440)
    followup_minutes_after: int = Field(default=30, ge=0, le=1440)
    match_mode: Literal["optimal", "stable", "random"] = "optimal"
    match_seed: int = Field(default=0, ge=0)
    match_weights: dict[str, Any] = Field(default_factory=dict)
    allow_repeat_pairs: bool = False
    mentee_cancellations_alert: int = Field(default=2, ge=1, le=10)
    """Consecutive mentee cancellations or no-shows before the coordinator is alerted."""
    gap_alert_days: int = Field(default=21, ge=7, le=120)
    prep_minutes_per_session: int = Field(default=15, ge=0, le=240)
    daily_message_cap: int = Field(default=3, ge=1, le=50)
    checkin_days: int = Field(default=30, ge=7, le=180)
    sponsor_email: str = ""
    retention_days: int = Field(default=365, ge=1, le=3650)
    """After a programme closes, its participants' personal data is purged after this many days
    (unless they take part in another programme that is still open)."""
    copy_sponsor_on_no_shows: bool = False
    team_rating_agreement: bool = False
    """A mentee's direct reports are asked to rate them only once the mentee agrees (they are always told first)."""
    goal_direction: Literal["higher", "lower"] = "higher"
    """Whether a higher or a lower value of the goal's measure is better (asked when the target is below the baseline)."""
    library: dict[str, Any] = Field(default_factory=dict)
    """The programme's own topics and frameworks (``topics`` and ``frameworks`` lists, as in prompts/library)."""
    calendar: Literal["off", "microsoft", "google"] = "off"
    """Whose calendars sessions go on: free/busy read for offers, events written with a meeting link (issue #21)."""


class NewProgramme(_Record):
    """A cohort run by coordinators, with its goal, term, cadence and rules."""

    tenant_id: int
    slug: str
    name: str
    focus: Focus = Focus.DIGITAL
    focus_detail: str = ""
    goal_metric: str = ""
    goal_baseline: float | None = None
    goal_target: float | None = None
    goal_date: date | None = None
    expectations: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    cadence_days: int = 14
    session_minutes: int = 45
    status: ProgrammeStatus = ProgrammeStatus.OPEN
    settings: ProgrammeSettings = Field(default_factory=ProgrammeSettings)
    intake_questions: list[dict[str, Any]] = Field(default_factory=list)
    """Questions the coordinators added to this programme's intake (flow steps, as data)."""
    cloned_from_id: int | None = None
    """The programme this one was cloned from (``program clone``): its participants are returning people."""
    created_at: datetime | None = None


class Programme(NewProgramme, Stored):
    """A programme as stored, with its id."""


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class ParticipantStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    PAUSED = "paused"
    DECLINED = "declined"
    LEFT = "left"


class NewParticipant(_Record):
    """A person's place in a programme, in one role."""

    programme_id: int
    person_id: int
    role: Role
    status: ParticipantStatus = ParticipantStatus.INVITED
    capacity: int = 1
    invited_by: int | None = None
    joined_at: datetime | None = None
    intake: dict[str, Any] = Field(default_factory=dict)
    """The submitted intake answers (the latest complete version)."""
    intake_version: int = 0
    intake_completed_at: datetime | None = None
    intake_reminders: int = 0
    onboarded_at: datetime | None = None
    notices: dict[str, Any] = Field(default_factory=dict)
    """Notices already given, so they are not repeated (workload thresholds per month, ...)."""
    updated_at: datetime | None = None


class Participant(NewParticipant, Stored):
    """A participant as stored, with its id."""


class PairStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class NewMatchPair(_Record):
    """A published pair: a mentor and a mentee of one programme."""

    programme_id: int
    mentee_id: int
    """The mentee's participant id."""
    mentor_id: int
    score: float = 0.0
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    status: PairStatus = PairStatus.ACTIVE
    created_at: datetime | None = None
    introduced_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""
    goals: list[dict[str, Any]] = Field(default_factory=list)
    """The pair's own goals: visible to the two of them only."""
    at_risk: bool = False
    risk_reason: str = ""
    scheduling: dict[str, Any] = Field(default_factory=dict)
    """Finding the first slot: the proposals and who accepted which."""


class MatchPair(NewMatchPair, Stored):
    """A pair as stored, with its id."""


class NewMatchRule(_Record):
    """A coordinator's pin (always pair these two) or forbid (never pair them)."""

    programme_id: int
    kind: str
    mentee_id: int
    mentor_id: int
    created_by: int | None = None


class MatchRule(NewMatchRule, Stored):
    """A pin or forbid as stored, with its id."""


class NewMatchRun(_Record):
    """A matching run kept for review before it is published."""

    programme_id: int
    mode: str
    seed: int | None = None
    result: dict[str, Any] = Field(default_factory=dict)
    created_by: int | None = None
    created_at: datetime | None = None
    published_at: datetime | None = None


class MatchRun(NewMatchRun, Stored):
    """A match run as stored, with its id."""


class CoordinatorGrant(Stored):
    """The coordinator role of a tenant, waiting for someone: named by email before they appear (they become a
    coordinator the first time they do), or offered to a known person (whoever installed the Slack app), who
    accepts it with a button."""

    tenant_key: str
    """The tenant as operators name it (``slack:T…``, ``teams:<tenant id>``, ``console``), or ``*``: every tenant."""
    email: str | None = None
    person_id: int | None = None
    source: str
    """Who named them: ``cli`` (``rmbot coordinators add``), ``settings`` (RMBOT_ADMIN_EMAILS) or ``slack_install``."""
    created_at: datetime | None = None

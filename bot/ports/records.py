"""The ports of the records: a unit of work (one database transaction) and the repositories it opens.

``storage/`` implements them; the engine, the handlers and the services see only these Protocols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.domain import (
    CoordinatorGrant,
    MatchPair,
    MatchRule,
    MatchRun,
    NewMatchPair,
    NewMatchRule,
    NewMatchRun,
    NewParticipant,
    NewPerson,
    NewProgramme,
    Participant,
    Person,
    Programme,
    Tenant,
)
from bot.model import OutgoingMessage
from bot.ports.calendars import CalendarRequests
from bot.ports.directory_sync import DirectorySyncRepository
from bot.ports.match_facts import MatchFacts, Reach, RosterEntry
from bot.reports.aggregate import ReleaseLedger
from bot.sessions.model import (
    Feedback,
    NewFeedback,
    NewResource,
    NewSession,
    NewSessionEvent,
    Resource,
    Session,
    SessionEvent,
)


@dataclass
class ConversationState:
    """Where a person is in a conversation with the bot: an active flow and the programme in focus."""

    tenant_id: int
    person_id: int
    flow: str | None = None
    flow_version: int = 0
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    suspended: dict[str, Any] = field(default_factory=dict)
    """Flows stopped part-way with ``cancel``, by flow key: their answers are kept for when they are run again."""
    waiting: list[dict[str, Any]] = field(default_factory=list)
    """Questionnaires waiting their turn, in order: each opens by itself when the one before it ends."""
    current_programme_id: int | None = None


@dataclass(frozen=True)
class Traces:
    """What identifies someone being forgotten, or what they wrote, as the stored messages may hold it."""

    tenant_id: int
    person_id: int
    user_keys: frozenset[str]
    """Who acted, in their inbox events: their platform ids (in the console, their email)."""
    words: frozenset[str]
    """Their name, email and platform ids, and what they wrote: as typed, and as escaped in messages."""


@dataclass(frozen=True)
class DirectoryEntry:
    """Someone with an email in a tenant's directory, as an HR import compares them with its file."""

    id: int
    email: str
    """Lower-cased."""
    manager_id: int | None
    left_at: datetime | None
    fields: Mapping[str, Any]
    """The person's values of the fields an import sets (``bot.directory.DIRECTORY_FIELDS``)."""


@dataclass(frozen=True)
class IdentityLink:
    """A person's account on a chat platform, as stored."""

    id: int
    person_id: int
    platform: str
    external_id: str


class TenantRepository(Protocol):
    def ensure(self, platform: str, external_id: str, name: str = "") -> Tenant: ...
    def get(self, tenant_id: int) -> Tenant | None: ...
    def find(self, platform: str, external_id: str) -> Tenant | None: ...
    def clock_offset(self, tenant_id: int) -> timedelta:
        """How far the tenant's clock was moved forward (the console's ``/advance``); zero elsewhere."""
        ...

    def save_clock_offset(self, tenant_id: int, offset: timedelta) -> None: ...


class PeopleRepository(Protocol):
    def get(self, person_id: int) -> Person | None: ...
    def by_email(self, tenant_id: int, email: str) -> Person | None: ...
    def by_identity(self, tenant_id: int, platform: str, external_id: str) -> Person | None: ...
    def add(self, person: NewPerson) -> Person: ...
    def save(self, person: Person) -> Person: ...
    def link_identity(self, person: Person, platform: str, external_id: str) -> None: ...
    def identities(self, person_id: int) -> dict[str, str]: ...
    def in_tenant(self, tenant_id: int) -> list[Person]: ...
    def many(self, person_ids: list[int]) -> dict[int, Person]: ...
    def reach(self, person_ids: Sequence[int], programme_id: int | None) -> dict[int, Reach]:
        """Whether each of these people (those who exist) may still get a message of the programme, in one read."""
        ...

    def forget(self, person: Person) -> None: ...
    def reports(self, person_id: int) -> list[Person]: ...
    def report_counts(self, person_ids: list[int]) -> dict[int, int]:
        """How many people report directly to each of these people (someone nobody reports to is left out)."""
        ...

    def stayed(self, tenant_id: int, programme_id: int, since: datetime, now: datetime) -> dict[bool, tuple[int, int]]:
        """Retention, counted by the database: of the tenant's people who were there at ``since`` (added by then,
        not gone before), how many are still there and how many were counted, for the programme's participants
        who did not decline (True) and for everyone else (False). People without a date of arrival count as
        arriving now."""
        ...

    def unlink_identities(self, person_id: int) -> None: ...
    def managers(self, tenant_id: int) -> dict[int, int | None]: ...
    def seniority_range(self, tenant_id: int) -> tuple[int | None, int | None]: ...
    def with_email_anywhere(self, email: str) -> list[Person]: ...


class DirectoryRepository(Protocol):
    """The bulk reads and writes of an HR directory import (``bot/services/directory.py`` decides what they are).

    Every method takes any number of items (the implementation splits them into statements of a safe size)."""

    def entries(self, tenant_id: int) -> list[DirectoryEntry]:
        """Everyone of the tenant who has an email (people who asked to be forgotten have none)."""
        ...

    def ids_by_email(self, tenant_id: int) -> dict[str, int]:
        """Lower-cased email -> person id, for everyone of the tenant who has an email."""
        ...

    def add_people(self, tenant_id: int, people: Sequence[Mapping[str, Any]], now: datetime) -> None:
        """Insert people with these values (``email`` and the directory fields), without a manager yet."""
        ...

    def update_people(self, changes: Sequence[Mapping[str, Any]]) -> None:
        """Set the values of each change on the person its ``id`` names (only the columns it lists)."""
        ...

    def mark_left(self, person_ids: Sequence[int], now: datetime) -> None:
        """Record that these people left at ``now`` (those already marked keep their date)."""
        ...

    def mark_back(self, person_ids: Sequence[int]) -> None:
        """These people are in the organisation again (no longer marked as left)."""
        ...

    def identity_links(self, tenant_id: int, platforms: Sequence[str]) -> list[IdentityLink]:
        """Every account on these platforms linked to someone of the tenant."""
        ...

    def remove_identity_links(self, link_ids: Sequence[int]) -> None: ...

    def add_identity_links(self, tenant_id: int, links: Sequence[tuple[int, str, str]]) -> None:
        """Link accounts, each given as (person id, platform, platform user id)."""
        ...


class ProgrammeRepository(Protocol):
    def add(self, programme: NewProgramme) -> Programme: ...
    def save(self, programme: Programme) -> Programme: ...
    def get(self, programme_id: int) -> Programme | None: ...
    def by_slug(self, tenant_id: int, slug: str) -> Programme | None: ...
    def in_tenant(self, tenant_id: int) -> list[Programme]: ...


class ParticipantRepository(Protocol):
    def add(self, participant: NewParticipant) -> Participant: ...
    def save(self, participant: Participant) -> Participant: ...
    def get(self, participant_id: int) -> Participant | None: ...
    def find(self, programme_id: int, person_id: int) -> Participant | None: ...
    def in_programme(self, programme_id: int) -> list[Participant]: ...
    def match_facts(self, programme_id: int) -> list[MatchFacts]:
        """The programme's active participants, in participant order, with only what matching compares."""
        ...

    def roster(self, programme_id: int) -> list[RosterEntry]:
        """Every participant of the programme, in participant order, with their name and state (no answers)."""
        ...

    def answers_taking_part(self, programme_id: int, keys: Sequence[str]) -> dict[int, dict[str, Any]]:
        """The intake answers to ``keys`` (those given) of each person taking part (active or paused), by person id."""
        ...

    def of_person(self, person_id: int) -> list[Participant]: ...


class CoordinatorRepository(Protocol):
    def add_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool: ...
    def is_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool: ...
    def add(self, programme_id: int, person_id: int, added_by: int | None) -> bool: ...
    def is_coordinator(self, programme_id: int, person_id: int) -> bool: ...
    def of_programme(self, programme_id: int) -> list[int]: ...
    def programmes_of(self, person_id: int) -> list[int]: ...


class CoordinatorGrantRepository(Protocol):
    """Coordinator roles waiting for an email, or offered to a person (``bot/grants.py``). ``add`` and ``offer``
    return False when that tenant key already has one for the email or person; ``in_tenants`` lists grants by email."""

    def add(self, tenant_key: str, email: str, source: str) -> bool: ...
    def offer(self, tenant_key: str, person_id: int, source: str) -> bool: ...
    def for_email(self, email: str, tenant_keys: list[str]) -> list[CoordinatorGrant]: ...
    def in_tenants(self, tenant_keys: list[str]) -> list[CoordinatorGrant]: ...
    def offer_for(self, tenant_key: str, person_id: int) -> CoordinatorGrant | None: ...
    def from_source(self, source: str) -> list[CoordinatorGrant]: ...
    def remove(self, grant_id: int) -> None: ...


class ConversationRepository(Protocol):
    def load(self, tenant_id: int, person_id: int) -> ConversationState: ...
    def save(self, state: ConversationState) -> None: ...


class MatchingRepository(Protocol):
    def add_rule(self, rule: NewMatchRule) -> bool: ...
    def rules(self, programme_id: int) -> list[MatchRule]: ...
    def remove_rules(self, programme_id: int, mentee_id: int, mentor_id: int) -> int: ...
    def save_run(self, run: NewMatchRun) -> MatchRun: ...
    def latest_run(self, programme_id: int) -> MatchRun | None: ...
    def mark_published(self, run_id: int) -> None: ...
    def add_pair(self, pair: NewMatchPair) -> MatchPair | None: ...
    def save_pair(self, pair: MatchPair) -> MatchPair: ...
    def pairs(self, programme_id: int) -> list[MatchPair]: ...
    def previous_pairs(self, tenant_id: int, exclude_programme: int) -> set[frozenset[int]]: ...


class SessionsRepository(Protocol):
    def add(self, session: NewSession) -> Session: ...
    def save(self, session: Session) -> Session: ...
    def get(self, session_id: int) -> Session | None: ...
    def of_circle(self, circle: str) -> list[Session]: ...
    def of_programme(self, programme_id: int) -> list[Session]: ...
    def record(self, event: NewSessionEvent) -> None: ...
    def events(self, programme_id: int, circle: str | None = None) -> list[SessionEvent]: ...
    def add_resource(self, resource: NewResource) -> Resource: ...
    def resources(self, programme_id: int) -> list[Resource]: ...


class FeedbackRepository(Protocol):
    def add(self, feedback: NewFeedback) -> bool: ...
    def exists(self, person_id: int, kind: str, subject: str) -> bool: ...
    def forget(self, person_id: int) -> None: ...
    def of_programme(self, programme_id: int, kind: str | None = None) -> list[Feedback]: ...


class AuditRepository(Protocol):
    def add(self, tenant_id: int, programme_id: int | None, person_id: int | None, verb: str, detail: str) -> None: ...
    def of_programme(self, programme_id: int, limit: int = 50) -> list[dict[str, Any]]: ...
    def pseudonymise(self, tenant_id: int, person_id: int, words: frozenset[str], pseudonym: str) -> None:
        """Entries by the person, or naming them with any of ``words``, keep their facts under ``pseudonym``."""
        ...


class ErasureRepository(Protocol):
    """What ``forget-me`` erases beyond the domain records: the message logs and the platforms' records."""

    def erase_traces(self, traces: Traces, placeholder: str) -> None:
        """Inbox events the person sent, and stored messages to them, about them or holding any of the words:
        handled or delivered ones are redacted (ids, keys and status stay), ones still waiting for them or about
        them are not sent; other waiting messages, and other people's open questionnaires, keep going with the
        words replaced by ``placeholder``."""
        ...

    def forget_accounts(self, person_id: int) -> None:
        """Delete what the platform adapters keep of the person's chat accounts (before they are unlinked)."""
        ...


class PersonalDataRepository(Protocol):
    def gather(self, tenant_id: int, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything stored about the person, by source (a table, or a table read by another column), as
        JSON-ready rows: their own records, their pairs' shared ones, and what others' records say of them
        reduced to what they may see (``my-data``). Sources without rows are left out."""
        ...


Lane = Literal["reply", "bulk"]
"""The outbox's two lanes: ``reply`` (an answer to what its recipient just did) is always sent before
``bulk`` (broadcasts, nudges, scheduled messages); each lane goes in the order it was queued."""


class OutboxWriter(Protocol):
    def add(
        self, message: OutgoingMessage, platform: str, not_before: datetime | None = None, lane: Lane = "bulk"
    ) -> bool:
        """Queue a message in ``lane``; returns False when its idempotency key was already queued."""
        ...

    def release_held(self, tenant_id: int, person_id: int, now: datetime) -> list[OutgoingMessage]:
        """The person is writing to the bot, so they are at work: nudges still waiting for them alone
        (held for their working hours or daily cap) become replies due now, in the reply lane. Returns them,
        oldest first."""
        ...


class ScheduleRepository(Protocol):
    def add(self, tenant_id: int, kind: str, due_at: datetime, payload: dict[str, Any], key: str) -> bool:
        """Schedule a job; ``key`` makes scheduling idempotent. Returns False when it already exists."""
        ...

    def cancel(self, key_prefix: str) -> int: ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Committed when the ``with`` block exits cleanly.

    The repositories are read-only members, so an implementation may hold more specific types."""

    @property
    def tenants(self) -> TenantRepository: ...

    @property
    def people(self) -> PeopleRepository: ...

    @property
    def programmes(self) -> ProgrammeRepository: ...

    @property
    def directory(self) -> DirectoryRepository: ...

    @property
    def participants(self) -> ParticipantRepository: ...

    @property
    def coordinators(self) -> CoordinatorRepository: ...

    @property
    def grants(self) -> CoordinatorGrantRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def outbox(self) -> OutboxWriter: ...

    @property
    def schedule(self) -> ScheduleRepository: ...

    @property
    def matching(self) -> MatchingRepository: ...

    @property
    def sessions(self) -> SessionsRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def figures(self) -> ReleaseLedger: ...

    @property
    def personal_data(self) -> PersonalDataRepository: ...

    @property
    def erasure(self) -> ErasureRepository: ...

    @property
    def calendars(self) -> CalendarRequests:
        """Calendar requests (free/busy to read, events to write) for the calendar worker."""
        ...

    @property
    def directory_sync(self) -> DirectorySyncRepository:
        """What the last directory sync of each source read, its delta link and schedule."""
        ...

    def mark(self) -> int:
        """Send what is waiting to be written, and return a mark of the writes so far (see :meth:`changed_since`)."""
        ...

    def changed_since(self, mark: int) -> bool:
        """Whether this unit of work wrote anything, or holds a change not yet written, since ``mark``."""
        ...


__all__ = [
    "ConversationState",
    "Traces",
    "DirectoryEntry",
    "IdentityLink",
    "DirectoryRepository",
    "TenantRepository",
    "PeopleRepository",
    "ProgrammeRepository",
    "ParticipantRepository",
    "CoordinatorRepository",
    "CoordinatorGrantRepository",
    "ConversationRepository",
    "MatchingRepository",
    "SessionsRepository",
    "FeedbackRepository",
    "AuditRepository",
    "ErasureRepository",
    "PersonalDataRepository",
    "Lane",
    "OutboxWriter",
    "ScheduleRepository",
    "UnitOfWork",
]

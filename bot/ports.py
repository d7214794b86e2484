"""The small interfaces the engine depends on. ``storage/`` and ``adapters/`` implement them.

The engine sees a :class:`Store` that opens units of work (one database transaction each), a
:class:`Clock`, and a :class:`Deliverer` per platform. Nothing here is platform- or ORM-shaped.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

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
from bot.model import InboundEvent, OutgoingMessage
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


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


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


@dataclass
class InboxItem:
    """An accepted inbound event waiting to be handled."""

    id: int
    event: InboundEvent
    attempts: int


@dataclass
class OutboxItem:
    """A message waiting for delivery, with the recipients it still has to reach."""

    id: int
    platform: str
    message: OutgoingMessage
    pending: list[int]
    attempts: int
    lease_until: datetime | None = None
    """When this sender's claim on the message runs out (another sender may then take it over)."""
    recovered: bool = False
    """Taken over after an earlier sender's lease ran out (it died or stalled mid-send): the message may
    already have reached the platform."""


@dataclass(frozen=True)
class Traces:
    """What identifies someone being forgotten, or what they wrote, as the stored messages may hold it."""

    tenant_id: int
    person_id: int
    user_keys: frozenset[str]
    """Who acted, in their inbox events: their platform ids (in the console, their email)."""
    words: frozenset[str]
    """Their name, email and platform ids, and what they wrote: as typed, and as escaped in messages."""


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
    def forget(self, person: Person) -> None: ...
    def reports(self, person_id: int) -> list[Person]: ...
    def unlink_identities(self, person_id: int) -> None: ...
    def managers(self, tenant_id: int) -> dict[int, int | None]: ...
    def seniority_range(self, tenant_id: int) -> tuple[int | None, int | None]: ...
    def with_email_anywhere(self, email: str) -> list[Person]: ...


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


class OutboxWriter(Protocol):
    def add(self, message: OutgoingMessage, platform: str, not_before: datetime | None = None) -> bool:
        """Queue a message; returns False when its idempotency key was already queued."""
        ...

    def release_held(self, tenant_id: int, person_id: int, now: datetime) -> list[OutgoingMessage]:
        """The person is writing to the bot, so they are at work: nudges still waiting for them alone
        (held for their working hours or daily cap) become replies due now. Returns them, oldest first."""
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

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: changes inside it are undone if the block raises."""
        ...


class Inbox(Protocol):
    def accept(self, event: InboundEvent) -> bool:
        """Commit the event durably. Returns False when the same event was already accepted."""
        ...

    def claim_next(self, uow: UnitOfWork) -> InboxItem | None:
        """Inside ``uow``'s transaction, lock the oldest pending event (skipping ones locked elsewhere)."""
        ...

    def get(self, uow: UnitOfWork, item_id: int) -> InboxItem | None: ...

    def mark_done(self, uow: UnitOfWork, item_id: int) -> None: ...

    def record_failure(self, item_id: int, error: str, give_up_after: int) -> bool:
        """Note a failed attempt in its own transaction. Returns True when the event was given up."""
        ...

    def pending_count(self) -> int: ...


class Outbox(Protocol):
    def claim(self, platform: str, now: datetime, limit: int, people: set[int] | None = None) -> list[OutboxItem]:
        """Lease due messages for ``platform`` (only those still pending for ``people``, when given)."""
        ...

    def keep_lease(self, item: OutboxItem, now: datetime) -> bool:
        """Whether this sender still holds ``item`` (renewing its lease as needed); False: skip it."""
        ...

    def release(self, item_id: int, now: datetime) -> None: ...
    def defer(self, item_id: int, until: datetime) -> None: ...
    def delivered(
        self, item_id: int, people: list[int], now: datetime, nudge_days: dict[int, date] | None = None
    ) -> None:
        """Record delivery to ``people``; with ``nudge_days``, count a nudge for each (person -> their local
        day) in the same transaction, so a delivery re-offered after a crash is never counted twice."""
        ...

    def suppressed(self, item_id: int, people: list[int], reason: str, now: datetime) -> None: ...
    def failed(self, item_id: int, error: str, retry_at: datetime | None) -> None: ...
    def pending_count(self, platform: str | None = None) -> int: ...

    def nudges_on(self, person_id: int, day: date) -> int:
        """How many nudges the person was sent on ``day`` (their local date)."""
        ...


class Schedule(Protocol):
    def enqueue_due(self, at: datetime, limit: int = 500) -> int:
        """Turn every job due at ``at`` into an inbox event ``due:<job id>``; returns how many."""
        ...

    def next_due(self) -> datetime | None: ...


class Store(Protocol):
    """The durable store, as the runtime uses it."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def schedule(self) -> Schedule: ...

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    def ping(self) -> bool: ...

    def redact_expired_payloads(self) -> int:
        """Empty the payloads of inbox events handled, and outbox messages settled, longer ago than the payload
        retention period, keeping what exactly-once needs (ids, keys, status); returns how many."""
        ...


@dataclass
class DeliveryResult:
    """What a deliverer managed: recipients reached, recipients to drop, or a retry time."""

    delivered: list[int] = field(default_factory=list)
    suppressed: list[int] = field(default_factory=list)
    retry_at: datetime | None = None
    error: str = ""


class Deliverer(Protocol):
    """Renders and sends one outbox item on one platform."""

    platform: str

    def deliver(self, item: OutboxItem) -> DeliveryResult: ...


class Waker(Protocol):
    """Wakes the process when scheduled work falls due (APScheduler behind it, in adapters)."""

    def wake_at(self, when: datetime) -> None: ...


class RuntimeObserver(Protocol):
    """What the runtime reports as it works (adapters turn it into metrics). Cheap, and never raises."""

    def event_accepted(self, platform: str, duplicate: bool) -> None:
        """An inbound event reached the inbox; ``duplicate`` when it was a retry of one already there."""
        ...

    def event_processed(self, platform: str, outcome: str) -> None:
        """An inbox event was handled: ``ok``, ``failed`` (will be retried) or ``gave_up``."""
        ...

    def message_sent(self, platform: str) -> None:
        """An outbox message was delivered."""
        ...

    def send_failed(self, platform: str, will_retry: bool) -> None:
        """Sending an outbox message failed with an error; ``will_retry`` unless the failure is final."""
        ...

    def send_deferred(self, platform: str) -> None:
        """Sending an outbox message was put off without an error (rate limited or paced)."""
        ...


class NullObserver:
    """The default observer: notices nothing."""

    def event_accepted(self, platform: str, duplicate: bool) -> None:
        pass

    def event_processed(self, platform: str, outcome: str) -> None:
        pass

    def message_sent(self, platform: str) -> None:
        pass

    def send_failed(self, platform: str, will_retry: bool) -> None:
        pass

    def send_deferred(self, platform: str) -> None:
        pass

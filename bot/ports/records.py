"""The ports of the records: a unit of work (one database transaction) and the repositories it opens.

``storage/`` implements them; the engine, the handlers and the services see only these Protocols. The
repositories are declared by area: :mod:`bot.ports.people`, :mod:`bot.ports.programmes` and
:mod:`bot.ports.privacy`; this module holds the unit of work, the outbox and the schedule, and names them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from bot.model import OutgoingMessage
from bot.ports.calendars import CalendarRequests
from bot.ports.directory_sync import DirectorySyncRepository
from bot.ports.people import (
    ConversationRepository,
    ConversationState,
    DirectoryEntry,
    DirectoryRepository,
    IdentityLink,
    PeopleRepository,
    TenantRepository,
)
from bot.ports.privacy import AuditRepository, ErasureRepository, PersonalDataRepository, Traces
from bot.ports.programmes import (
    CoordinatorGrantRepository,
    CoordinatorRepository,
    FeedbackRepository,
    MatchingRepository,
    ParticipantRepository,
    ProgrammeRepository,
    SessionsRepository,
)
from bot.reports.aggregate import ReleaseLedger

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

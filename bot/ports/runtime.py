"""The ports of the runtime: the inbox, the outbox, the schedule, the store that opens units of work, and
the deliverer of each platform. ``storage/`` and ``adapters/`` implement them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from bot.model import Attachment, InboundEvent, OutgoingMessage
from bot.ports.calendars import CalendarQueue
from bot.ports.platforms import SlackRecords, TeamsRecords
from bot.ports.records import Lane, UnitOfWork


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


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
    lane: Lane = "bulk"
    """The lane it was queued in: a reply goes ahead of queued bulk messages."""


class Inbox(Protocol):
    def accept(self, event: InboundEvent) -> bool:
        """Commit the event durably. Returns False when the same event was already accepted."""
        ...

    def take_next(self, uow: UnitOfWork) -> InboxItem | None:
        """Inside ``uow``'s transaction, lock the oldest pending event (skipping ones locked elsewhere) and mark it
        handled: the mark commits with the handling's writes, or rolls back with them."""
        ...

    def take(self, uow: UnitOfWork, item_id: int) -> InboxItem | None:
        """:meth:`take_next` for the event ``item_id``; None when it is no longer pending."""
        ...

    def get(self, uow: UnitOfWork, item_id: int) -> InboxItem | None: ...

    def record_failure(self, item_id: int, error: str, give_up_after: int) -> bool:
        """Note a failed attempt in its own transaction. Returns True when the event was given up."""
        ...

    def pending_count(self) -> int: ...

    def gather(self) -> int:
        """Bring in events accepted out of the way of the handling work (SQLite's spool file), before claiming;
        returns how many. 0 where accepts go straight into the inbox."""
        ...


class Outbox(Protocol):
    def claim(
        self, platform: str, now: datetime, limit: int, people: set[int] | None = None, lane: Lane | None = None
    ) -> list[OutboxItem]:
        """Lease due messages for ``platform`` (only those still pending for ``people``, when given): the reply
        lane's first, then the bulk lane's, each oldest first; only ``lane``'s when given."""
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

    def message_for(self, item_id: int, platform: str, person_id: int) -> OutgoingMessage | None:
        """The message of outbox row ``item_id`` on ``platform``, if ``person_id`` is one of its recipients (a
        button or card they pressed in it); None otherwise, or once its payload was redacted."""
        ...

    def attachment(self, item_id: int, platform: str, index: int) -> Attachment | None:
        """Attachment ``index`` of outbox row ``item_id`` on ``platform`` (a download link names it); None when
        there is none, or once the payload was redacted."""
        ...


class Schedule(Protocol):
    def enqueue_due(self, at: datetime, limit: int = 500) -> int:
        """Turn every job due at ``at`` into an inbox event ``due:<job id>``; returns how many."""
        ...

    def next_due(self) -> datetime | None: ...

    def oldest_overdue(self, now: datetime) -> datetime | None:
        """The due time of the oldest job due by ``now`` and not yet enqueued (None when nothing is late)."""
        ...


class Store(Protocol):
    """The durable store, as the runtime uses it."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def schedule(self) -> Schedule: ...

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    def one_connection(self) -> AbstractContextManager[None]:
        """Let the units of work this thread opens inside share one database connection (a worker's batch)."""
        ...

    def ping(self) -> bool: ...

    def redact_expired_payloads(self) -> int:
        """Empty the payloads of inbox events handled, and outbox messages settled, longer ago than the payload
        retention period, keeping what exactly-once needs (ids, keys, status); returns how many."""
        ...

    @property
    def slack(self) -> SlackRecords:
        """What the Slack adapter keeps: app installations and their tokens, and who is who in a workspace."""
        ...

    @property
    def teams(self) -> TeamsRecords:
        """What the Teams adapter keeps: conversation references, accounts, the send journal, held messages."""
        ...

    def purge_tenant(self, tenant_id: int) -> dict[str, int]:
        """Delete a tenant and everything that belongs to it, and nothing of any other tenant (``rmbot tenant
        purge``), all or nothing; returns how many rows went, per table (empty when there is no such tenant)."""
        ...

    def schema_revisions(self) -> tuple[str | None, str | None]:
        """The migration the database is at, and the newest this version ships (equal when it is up to date)."""
        ...

    @property
    def calendars(self) -> CalendarQueue:
        """The calendar requests the engine recorded, as the calendar worker performs them."""
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


__all__ = [
    "Clock",
    "InboxItem",
    "OutboxItem",
    "Inbox",
    "Outbox",
    "Schedule",
    "Store",
    "DeliveryResult",
    "Deliverer",
    "Waker",
    "RuntimeObserver",
    "NullObserver",
]

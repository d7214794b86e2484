"""The ports of the runtime: the inbox, the outbox, the schedule, the store that opens units of work, and
the deliverer of each platform. ``storage/`` and ``adapters/`` implement them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.model import Attachment, InboundEvent, OutgoingMessage
from bot.ports.calendars import CalendarQueue
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

    def claim_next(self, uow: UnitOfWork) -> InboxItem | None:
        """Inside ``uow``'s transaction, lock the oldest pending event (skipping ones locked elsewhere)."""
        ...

    def get(self, uow: UnitOfWork, item_id: int) -> InboxItem | None: ...

    def mark_done(self, uow: UnitOfWork, item_id: int) -> None: ...

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


# -- what the platform adapters keep (storage implements it; only the adapters use it) ----------------------


class SlackRecords(Protocol):
    """Slack app installations (OAuth installs to many workspaces) as slack_sdk lays them out, in plain dicts
    keyed by its field names, and the Slack accounts of a workspace's people."""

    def save_installation(
        self, client_id: str, installation: dict[str, Any] | None, bot: dict[str, Any] | None
    ) -> None:
        """Keep an installation and its bot (either may be None), together."""
        ...

    def find_bot(self, client_id: str, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None:
        """The newest bot with a token for a workspace (or an org, when ``team_id`` is None)."""
        ...

    def find_installation(
        self, client_id: str, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> dict[str, Any] | None:
        """The newest installation of a workspace (by a given installer, when ``user_id`` is set)."""
        ...

    def remove(
        self, client_id: str, enterprise_id: str | None, team_id: str | None, *, bots: bool, user_id: str | None = None
    ) -> int:
        """Delete a workspace's bots (``bots``) or installations (of one installer, if given); returns how many."""
        ...

    def bot_token(self, client_id: str, team_id: str) -> str | None:
        """The newest bot token installed for a workspace, or None when it is not installed."""
        ...

    def user_ids(self, tenant_id: int) -> dict[int, str]:
        """Person id -> Slack user id for everyone of a tenant linked to Slack (one read)."""
        ...

    def tenant_bot(self, client_id: str, tenant_key: str) -> dict[str, Any] | None:
        """The newest bot with a token serving a tenant (a team id, or an enterprise id for an org-wide install):
        an org-wide install of that enterprise first, then that workspace's own install."""
        ...

    def mark_uninstalled(self, client_id: str, tenant_key: str, reason: str, at: datetime) -> bool:
        """Slack said the app left a tenant at ``at`` (``app_uninstalled``, ``tokens_revoked``): mark it and drop its
        tokens; False (nothing done) when it was installed again after ``at``."""
        ...

    def uninstalled(self, tenant_key: str | None = None) -> dict[str, tuple[str, datetime]]:
        """Tenant key -> (reason, since when) of the tenants marked uninstalled (only ``tenant_key``'s, if given)."""
        ...

    def reinstalled(self, tenant_key: str, now: datetime) -> int:
        """The tenant is installed again: clear its mark; the messages held for it are due ``now`` (how many)."""
        ...

    def hold_for_install(self, item_id: int) -> None:
        """Hold outbox row ``item_id`` until its tenant installs the app again (cleared by the next attempt)."""
        ...

    def dm_channels(self, tenant_id: int) -> dict[frozenset[str], str]:
        """Every DM (or group DM) channel kept for a tenant: the set of Slack user ids in it -> channel id."""
        ...

    def remember_dm_channel(self, tenant_id: int, users: frozenset[str], channel_id: str) -> None:
        """Keep the channel ``conversations.open`` answered for ``users``, so no restart opens it again."""
        ...

    def forget_dm_channel(self, tenant_id: int, channel_id: str) -> None:
        """Slack says a kept channel is gone (not found, archived): drop it, so the next message opens a new one."""
        ...


@dataclass(frozen=True)
class ConversationReference:
    """Where and how to reach a Teams conversation: a personal chat, a team channel or a group chat."""

    tenant_key: str
    conversation_id: str
    service_url: str
    conversation_type: str = "personal"
    """``personal``, ``channel`` or ``groupChat``."""
    user_id: str = ""
    """Personal chats: the user (Azure AD object id when Teams sent it, else their Teams id)."""
    account_id: str = ""
    name: str = ""
    team_id: str = ""
    bot_id: str = ""


@dataclass(frozen=True)
class ChatAccount:
    """A Teams account (``29:…``) seen in a roster or a mention, with its AD object id when known."""

    tenant_key: str
    account_id: str
    user_id: str = ""
    name: str = ""
    service_url: str = ""


class SendState(StrEnum):
    """Where one journaled Teams post stands: about to go out, confirmed, or of unknown outcome."""

    SENDING = "sending"
    SENT = "sent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendRecord:
    """One activity the Teams deliverer posted (or tried to), as its journal keeps it."""

    key: str
    outbox_id: int
    person_id: int | None
    conversation_id: str
    state: str
    activity_id: str = ""
    error: str = ""
    updated_at: datetime | None = None


class TeamsRecords(Protocol):
    """Conversation references and accounts seen in activities, the journal of posts (Teams has no idempotency
    key), and messages held until their recipient installs the app. References and accounts are given as
    dicts keyed by the fields of :class:`ConversationReference` and :class:`ChatAccount`."""

    def unfit(self, tenant_key: str, reference: dict[str, Any] | None, accounts: list[dict[str, Any]]) -> str:
        """Why what an activity showed cannot be kept ("" when it can): an id too long, or holding a NUL."""
        ...

    def remember(self, tenant_key: str, reference: dict[str, Any] | None, accounts: list[dict[str, Any]]) -> None:
        """Keep a conversation reference and the accounts an activity showed, together."""
        ...

    def remember_conversation(self, reference: dict[str, Any]) -> None:
        """Keep a conversation reference; empty values never overwrite stored ones."""
        ...

    def forget_conversation(self, tenant_key: str, conversation_id: str) -> None:
        """The bot was removed from a conversation (or Teams said it is gone): stop using its reference."""
        ...

    def personal_chat(self, tenant_key: str, user_ids: list[str]) -> ConversationReference | None:
        """The newest installed personal chat with any of ``user_ids`` (AD object ids or Teams ids)."""
        ...

    def chat_for_person(
        self, tenant_key: str, person_id: int
    ) -> tuple[str, list[ChatAccount], ConversationReference | None]:
        """The person's Teams id, the accounts known for it, and their newest installed personal chat."""
        ...

    def conversation(self, tenant_key: str, wanted: str) -> ConversationReference | None:
        """An installed conversation by id, or a team channel by name (case-insensitive)."""
        ...

    def service_url(self, tenant_key: str) -> str:
        """The newest service URL seen in a tenant ("" when the bot never heard from it)."""
        ...

    def bot_id(self, tenant_key: str) -> str:
        """The bot's own Teams id (``28:…``) as last seen in a tenant ("" when unknown)."""
        ...

    def accounts(self, tenant_key: str, ids: list[str]) -> list[ChatAccount]:
        """Accounts whose Teams id or AD object id is in ``ids``."""
        ...

    def begin_send(self, key: str, outbox_id: int, person_id: int | None, conversation_id: str) -> str | None:
        """Durably record that post ``key`` is about to go out; the state of an earlier attempt if there was one."""
        ...

    def settle_send(self, key: str, state: str, activity_id: str = "", error: str = "") -> None:
        """The outcome of a post: ``sent`` (with the activity id) or ``unknown`` (with why)."""
        ...

    def cancel_send(self, key: str) -> None:
        """The post was refused before it could take effect (429, 503, …): it may be tried again."""
        ...

    def unconfirmed(self, limit: int = 100) -> list[SendRecord]:
        """Posts whose outcome is unknown (left for reconciliation), newest first."""
        ...

    def hold_for_install(self, item_id: int) -> None:
        """Mark outbox row ``item_id`` as held until one of its recipients installs the app (until the next
        attempt at it, which marks it again if it must still wait)."""
        ...

    def wake_waiting(self, tenant_id: int, person_ids: set[int], now: datetime) -> int:
        """Messages held for ``person_ids`` (they just installed the app) are due ``now``; returns how many."""
        ...

    def teams(self, tenant_key: str) -> list[ConversationReference]:
        """One installed channel reference for each team the app is in (its ``team_id`` set), newest first."""
        ...


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
    "SlackRecords",
    "ConversationReference",
    "ChatAccount",
    "SendState",
    "SendRecord",
    "TeamsRecords",
]

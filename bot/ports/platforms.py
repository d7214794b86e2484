"""What the platform adapters keep, behind ports (``storage/`` implements them; only the adapters use them): Slack
installations, kept DM channels and uninstall marks, and Teams conversation references, accounts and the send
journal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


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


__all__ = ["ChatAccount", "ConversationReference", "SendRecord", "SendState", "SlackRecords", "TeamsRecords"]

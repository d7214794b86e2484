"""The Slack deliverer: renders an outbox item as Block Kit and posts it, at Slack's pace, exactly once.

* Who: each pending person's Slack user id (found by email with ``users.lookupByEmail`` when the HR
  import knows them but they never wrote to the bot); one person gets a DM, several a group DM.
* Pace: every Web API call takes a slot of the workspace budget; messages also keep about one per second
  per channel. Short waits are slept through, long ones go back to the outbox as a retry time; a 429
  pauses the workspace for ``Retry-After`` and the item is retried after it.
* Exactly once: every post carries its idempotency key in message metadata. An item offered again (its
  lease ran out because the process died mid-send, or a rate limit interrupted a long message) is first
  reconciled against the conversation's recent history, and only what is missing is posted.
* A channel that cannot be reached (the bot is not in that private channel, it is archived, or it does not
  exist): whoever asked for the post is told so by DM, with how to invite the bot (``adapters/unreachable.py``).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackObjectFormationError

from adapters.slack.forms import form_view
from adapters.slack.pacing import Pacer
from adapters.slack.render import RenderError, render_message
from adapters.unreachable import report_unreachable
from bot.model import Platform
from bot.ports import DeliveryResult, OutboxItem, Store

log = logging.getLogger(__name__)

METADATA_EVENT = "rmbot_outbox"
PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "users_not_found",
    "account_inactive",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "restricted_action",
    "messages_tab_disabled",
    "user_not_visible",
    "token_revoked",
    "too_many_users",
    "not_enough_users",
    "invalid_arguments",
    "msg_blocks_too_long",
    "invalid_metadata_format",
}
CHANNEL_UNREACHABLE = {"channel_not_found", "not_in_channel", "is_archived"}
"""Errors of a post in a channel that its requester can fix (by inviting the bot, or choosing another channel)."""
GIVE_UP_AFTER = 20
"""Deliveries (attempts) after which a message that keeps failing is dropped, with the reason kept."""
MAX_BACKOFF = 1800.0
MAX_SLEEP = 2.0
HISTORY_LIMIT = 100

TOKEN_CACHE_SECONDS = 60.0


class _Defer(Exception):
    def __init__(self, seconds: float, error: str = "") -> None:
        super().__init__(error)
        self.seconds, self.error = seconds, error


class _Permanent(Exception):
    pass


class _Unconfirmed(Exception):
    """A message offered again whose conversation cannot be checked for the earlier post: sending again
    could post it twice, so it is not sent, and the reason is kept for the operator."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def api_base(url: str) -> str:
    """A Web API base URL as slack_sdk wants it (with a trailing slash); Slack's own when empty."""
    return (url.rstrip("/") + "/") if url else WebClient.BASE_URL


class TokenSource:
    """The bot token for a workspace: the single configured token, or the installed one (cached briefly)."""

    def __init__(self, store: Store, bot_token_setting: str = "", client_id: str = "") -> None:
        self.store = store
        self.single = bot_token_setting
        self.client_id = client_id
        self._cache: dict[str, tuple[float, str | None]] = {}

    def __call__(self, team: str) -> str | None:
        if not self.client_id:
            return self.single or None
        cached = self._cache.get(team)
        if cached and time.monotonic() - cached[0] < TOKEN_CACHE_SECONDS:
            return cached[1]
        token = self.store.slack.bot_token(self.client_id, team) or self.single or None
        self._cache[team] = (time.monotonic(), token)
        return token


def make_deliverer(settings: Any, store: Store) -> SlackDeliverer:
    """The outbox deliverer for this deployment's Slack workspace(s) (``settings``: adapters.settings.Settings)."""
    tokens = TokenSource(store, settings.slack_bot_token, settings.slack_client_id)
    return SlackDeliverer(store, tokens, settings.slack_api_url, settings.slack_workspace_budget)


class SlackDeliverer:
    """Delivers the outbox's Slack messages (called from the worker's sending thread)."""

    platform = Platform.SLACK.value

    def __init__(
        self,
        store: Store,
        tokens: Callable[[str], str | None],
        api_url: str = "",
        budget: float = 10.0,
        now: Callable[[], datetime] = _utcnow,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.base_url = api_base(api_url)
        self.pacer = pacer or Pacer(budget)
        self.now = now
        self.sleep = sleep
        self._clients: dict[str, WebClient] = {}
        self._teams: dict[int, str] = {}
        self._users: dict[int, str] = {}
        self._loaded: set[int] = set()
        self._channels: dict[tuple[str, frozenset[str]], str] = {}

    # -- the port ------------------------------------------------------------------------------------

    def deliver(self, item: OutboxItem) -> DeliveryResult:
        """Send ``item`` to its pending recipients; see the module docstring for the rules."""
        message = item.message
        team = self._team(message.tenant_id)
        try:
            client = self._client(team)
            channel, reached = self._target(item, team, client)
            pages = render_message(message, form_ref=str(item.id))
            keys = [f"{message.idempotency_key}#{n}" for n in range(len(pages))]
            posted = self._posted(client, team, channel, set(keys), item.recovered) if item.attempts > 0 else set()
            if message.form is not None and message.trigger_id and item.attempts == 0:
                self._open_modal(client, team, message.form, message.trigger_id)
            for key, page in zip(keys, pages, strict=True):
                if key not in posted:
                    self._call(
                        team,
                        client.chat_postMessage,
                        channel=channel,
                        text=page.text,
                        blocks=page.blocks,
                        metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
                        unfurl_links=False,
                        unfurl_media=False,
                        pace_channel=channel,
                    )
            if message.attachments and not set(keys) <= posted:
                self._upload(client, team, channel, message.attachments)
            return DeliveryResult(delivered=reached)
        except _Defer as defer:
            if not defer.error:  # paced or rate limited: not a failure
                return DeliveryResult(retry_at=self.now() + timedelta(seconds=defer.seconds))
            if item.attempts + 1 >= GIVE_UP_AFTER:
                return DeliveryResult(suppressed=list(item.pending), error=f"slack: {defer.error}")
            backoff = min(MAX_BACKOFF, defer.seconds * 2 ** min(item.attempts, 10))
            return DeliveryResult(retry_at=self.now() + timedelta(seconds=backoff), error=defer.error)
        except _Unconfirmed as problem:
            log.warning("outbox message %s not sent again: %s; check the conversation", item.id, problem)
            return DeliveryResult(suppressed=list(item.pending), error=f"slack: unconfirmed: {problem}")
        except (_Permanent, RenderError, SlackObjectFormationError) as problem:
            log.warning("outbox message %s cannot be delivered to Slack: %s", item.id, problem)
            if message.to.kind == "conversation" and str(problem) in CHANNEL_UNREACHABLE:
                report_unreachable(
                    self.store,
                    message,
                    self.platform,
                    "slack.channel_unreachable",
                    archived=str(problem) == "is_archived",
                )
            return DeliveryResult(suppressed=list(item.pending), error=f"slack: {problem}")

    # -- Web API calls, paced and classified ---------------------------------------------------------

    def _call(
        self, team: str, method: Callable[..., Any], pace_channel: str | None = None, slots: int = 1, **kwargs: Any
    ) -> Any:
        for slot in range(slots):
            wait = self.pacer.acquire(team, pace_channel if slot == 0 else None, max_wait=MAX_SLEEP, sleep=self.sleep)
            if wait:
                raise _Defer(wait)
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            if response.status_code == 429:
                retry_after = float(response.headers.get("Retry-After") or response.headers.get("retry-after") or 1)
                self.pacer.pause(team, retry_after)
                raise _Defer(retry_after) from None
            code = str(response.get("error", "")) if response is not None else ""
            if code in PERMANENT:
                raise _Permanent(code) from None
            raise _Defer(30.0, code or f"HTTP {response.status_code}") from None
        except (SlackClientError, OSError) as exc:
            raise _Defer(30.0, type(exc).__name__) from None

    def _client(self, team: str) -> WebClient:
        token = self.tokens(team)
        if not token:
            raise _Defer(600.0, f"no Slack token for workspace {team}")
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = WebClient(
                token=token, base_url=self.base_url, timeout=15, retry_handlers=[]
            )
        return client

    def _team(self, tenant_id: int) -> str:
        team = self._teams.get(tenant_id)
        if team is None:
            with self.store.unit_of_work() as uow:
                tenant = uow.tenants.get(tenant_id)
            team = self._teams[tenant_id] = tenant.external_id if tenant else ""
        return team

    # -- where a message goes ------------------------------------------------------------------------

    def _target(self, item: OutboxItem, team: str, client: WebClient) -> tuple[str, list[int]]:
        """The channel to post in and the people that reaches."""
        address = item.message.to
        if address.kind == "conversation":
            return address.conversation, list(item.pending)
        users = [self._user(client, team, person_id, item.message.tenant_id) for person_id in item.pending]
        if not users:
            raise _Permanent("nobody left to reach")
        return self._open(client, team, users), list(item.pending)

    def _user(self, client: WebClient, team: str, person_id: int, tenant_id: int) -> str:
        cached = self._users.get(person_id)
        if cached:
            return cached
        if tenant_id not in self._loaded:  # one query for the whole workspace, instead of one per person
            self._loaded.add(tenant_id)
            self._users.update(self.store.slack.user_ids(tenant_id))
            if person_id in self._users:
                return self._users[person_id]
        with self.store.unit_of_work() as uow:
            user = uow.people.identities(person_id).get(self.platform)
            person = uow.people.get(person_id)
        if not user and person is not None and person.email:
            found = self._call(team, client.users_lookupByEmail, email=person.email)
            user = found["user"]["id"]
            with self.store.unit_of_work() as uow:
                if uow.people.by_identity(person.tenant_id, self.platform, user) is None:
                    uow.people.link_identity(person, self.platform, user)
        if not user:
            raise _Permanent(f"person {person_id} has no Slack account")
        self._users[person_id] = user
        return user

    def _open(self, client: WebClient, team: str, users: list[str]) -> str:
        key = (team, frozenset(users))
        channel = self._channels.get(key)
        if channel is None:
            opened = self._call(team, client.conversations_open, users=",".join(sorted(set(users))))
            channel = self._channels[key] = opened["channel"]["id"]
        return channel

    # -- reconciliation, modals, files ---------------------------------------------------------------

    def _posted(self, client: WebClient, team: str, channel: str, keys: set[str], recovered: bool) -> set[str]:
        """Which of ``keys`` are already in the conversation (a send interrupted by a crash or a 429).

        When the history cannot be read (a public channel the bot posts to without being a member), a
        message ``recovered`` from a dead sender is not sent again (:class:`_Unconfirmed`); after an
        ordinary failure, whose earlier attempt ended with an answer from Slack, it is."""
        try:
            history = self._call(
                team, client.conversations_history, channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
            )
        except _Permanent as problem:
            if recovered:
                raise _Unconfirmed(f"cannot check {channel} for the earlier post ({problem})") from None
            log.warning("cannot check %s for earlier posts (%s); sending again", channel, problem)
            return set()
        found = set()
        for posted in history.get("messages", []):
            metadata = posted.get("metadata") or {}
            key = (metadata.get("event_payload") or {}).get("key")
            if metadata.get("event_type") == METADATA_EVENT and key in keys:
                found.add(key)
        return found

    def _open_modal(self, client: WebClient, team: str, form: Any, trigger_id: str) -> None:
        """Open a form as a modal while its trigger is fresh; the message's button is there if this fails."""
        try:
            self._call(team, client.views_open, trigger_id=trigger_id, view=form_view(form))
        except _Permanent as problem:
            log.info("modal not opened (%s); the message offers a button instead", problem)
        except _Defer as defer:
            if not defer.error:
                raise
            log.info("modal not opened (%s); the message offers a button instead", defer.error)

    def _upload(self, client: WebClient, team: str, channel: str, attachments: list[Any]) -> None:
        uploads = [
            {"content": base64.b64decode(a.content_b64), "filename": a.filename, "title": a.title or a.filename}
            for a in attachments
        ]
        self._call(
            team,
            client.files_upload_v2,
            channel=channel,
            file_uploads=uploads,
            slots=len(uploads) + 1,
            pace_channel=channel,
        )

"""The Slack deliverer: renders an outbox item as Block Kit and posts it, at Slack's pace, exactly once.

* Who and where (``reach.py``): each pending person's Slack user id; one person gets a DM, several a group DM.
  A DM channel is kept in the database once known (``channels.py``), so a restart opens nothing again; a person
  never reached gets the post with their user id as its channel, and the DM channel Slack answers is kept. A kept
  channel Slack no longer knows (``channel_not_found``) is dropped and the message sent again once; an archived
  one is dropped too.
* Pace: every Web API call takes a slot of the workspace budget and of its method's own limit (Slack's
  tiers); messages also keep about one per second per channel. Short waits are slept through, long ones go
  back to the outbox as a retry time; a 429 pauses only that method (posts: that channel) for
  ``Retry-After`` and the item is retried after it, while messages that do not need it go on.
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
from slack_sdk.errors import SlackObjectFormationError

from adapters.slack.answers import show_answer
from adapters.slack.channels import DmChannels
from adapters.slack.forms import form_view
from adapters.slack.installs import InstallState
from adapters.slack.pacing import POST, Pacer
from adapters.slack.pressed import show_pressed
from adapters.slack.reach import Reach
from adapters.slack.render import RenderError, render_message
from adapters.slack.tokens import TokenSource
from adapters.slack.webapi import Defer, Permanent, Revoked, call_paced
from adapters.unreachable import report_unreachable
from bot.model import Platform
from bot.ports import DeliveryResult, OutboxItem, Store

log = logging.getLogger(__name__)

METADATA_EVENT = "rmbot_outbox"
CHANNEL_UNREACHABLE = {"channel_not_found", "not_in_channel", "is_archived"}
"""Errors of a post in a channel that its requester can fix (by inviting the bot, or choosing another channel)."""
DM_GONE = {"channel_not_found", "is_archived"}
"""Errors that say a kept DM channel is no use any more: it is dropped from the cache."""
DM_REOPEN = {"channel_not_found"}
"""Of those, the ones after which the message is sent again at once, in a freshly opened channel."""
GIVE_UP_AFTER = 20
"""Deliveries (attempts) after which a message that keeps failing is dropped, with the reason kept."""
MAX_BACKOFF = 1800.0
HISTORY_LIMIT = 100


class _StaleChannel(Exception):
    """A kept DM channel that Slack no longer knows: dropped, so that sending again opens a new one."""


class _Unconfirmed(Exception):
    """A message offered again whose conversation cannot be checked for the earlier post: sending again
    could post it twice, so it is not sent, and the reason is kept for the operator."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def api_base(url: str) -> str:
    """A Web API base URL as slack_sdk wants it (with a trailing slash); Slack's own when empty."""
    return (url.rstrip("/") + "/") if url else WebClient.BASE_URL


def make_deliverer(settings: Any, store: Store) -> SlackDeliverer:
    """The outbox deliverer for this deployment's Slack workspace(s) (``settings``: adapters.settings.Settings)."""
    tokens = TokenSource(
        store,
        settings.slack_bot_token,
        settings.slack_client_id,
        settings.slack_client_secret,
        api_base(settings.slack_api_url),
    )
    keep_for = timedelta(days=settings.rmbot_payload_retention_days)
    return SlackDeliverer(
        store,
        tokens,
        settings.slack_api_url,
        settings.slack_workspace_budget,
        tier_scale=settings.slack_tier_scale,
        installs=InstallState(store, keep_for, _utcnow),
    )


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
        tier_scale: float = 1.0,
        installs: InstallState | None = None,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.installs = installs or InstallState(store, timedelta(days=30), now)
        self.base_url = api_base(api_url)
        self.pacer = pacer or Pacer(budget, tier_scale=tier_scale)
        self.now = now
        self.sleep = sleep
        self._clients: dict[str, WebClient] = {}
        self._teams: dict[int, str] = {}
        self.dm = DmChannels(store.slack)
        self.reach = Reach(store, self.dm, self._call)

    # -- the port ------------------------------------------------------------------------------------

    def deliver(self, item: OutboxItem) -> DeliveryResult:
        """Send ``item`` to its pending recipients; see the module docstring for the rules."""
        message = item.message
        team = self._team(message.tenant_id)
        removed = self.installs.removed(team)
        if removed is not None:  # the app was uninstalled there: held until it is installed again
            return self.installs.hold(item, team, removed)
        try:
            client = self._client(team)
            if message.replaces:  # a press shown in the message pressed (adapters/slack/pressed.py)
                show_pressed(lambda name, method, **kwargs: self._call(team, name, method, **kwargs), client, message)
                return DeliveryResult(delivered=list(item.pending))
            if item.attempts == 0 and self._answer_in_view(client, team, message):  # a press in the App Home
                return DeliveryResult(delivered=list(item.pending))
            try:
                return self._send(item, team, client, first=True)
            except _StaleChannel:  # the kept DM channel is gone: once more, in a newly opened one
                return self._send(item, team, client, first=False)
        except Revoked as revoked:  # Slack refused the token: removed (held) or rotated (read again)
            self.installs.forget(team)
            getattr(self.tokens, "forget", lambda _team: None)(team)
            removed = self.installs.removed(team)
            if removed is not None:
                return self.installs.hold(item, team, removed)
            if item.attempts + 1 >= GIVE_UP_AFTER:
                return DeliveryResult(suppressed=list(item.pending), error=f"slack: {revoked}")
            self.store.slack.hold_for_install(item.id)  # Slack's app_uninstalled may follow; a reinstall wakes it
            backoff = min(MAX_BACKOFF, 30.0 * 2 ** min(item.attempts, 10))
            return DeliveryResult(retry_at=self.now() + timedelta(seconds=backoff), error=f"slack: {revoked}")
        except Defer as defer:
            if not defer.error:  # paced or rate limited: not a failure
                return DeliveryResult(retry_at=self.now() + timedelta(seconds=defer.seconds))
            if item.attempts + 1 >= GIVE_UP_AFTER:
                return DeliveryResult(suppressed=list(item.pending), error=f"slack: {defer.error}")
            backoff = min(MAX_BACKOFF, defer.seconds * 2 ** min(item.attempts, 10))
            return DeliveryResult(retry_at=self.now() + timedelta(seconds=backoff), error=defer.error)
        except _Unconfirmed as problem:
            log.warning("outbox message %s not sent again: %s; check the conversation", item.id, problem)
            return DeliveryResult(suppressed=list(item.pending), error=f"slack: unconfirmed: {problem}")
        except (Permanent, RenderError, SlackObjectFormationError) as problem:
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

    def _send(self, item: OutboxItem, team: str, client: WebClient, first: bool) -> DeliveryResult:
        """Post every page not posted yet (and the files); ``first``: the modal may be opened."""
        message = item.message
        target = self.reach.target(item, team, client)
        channel = target.channel
        try:
            pages = render_message(message, form_ref=str(item.id))
            keys = [f"{message.idempotency_key}#{n}" for n in range(len(pages))]
            posted = set()
            if item.attempts > 0:
                posted = self._posted(client, team, channel, set(keys), item.recovered, target.kept)
            if first and message.form is not None and message.trigger_id and item.attempts == 0:
                self._open_modal(client, team, message.form, message.trigger_id)
            for key, page in zip(keys, pages, strict=True):
                if key not in posted:
                    answer = self._post(client, team, channel, key, page)
                    if channel == target.user:  # Slack named the DM: kept, and used for the rest
                        channel = self.reach.learned(message.tenant_id, target.user, answer)
                        self.pacer.same_channel(team, target.user, channel)
            if message.attachments and not set(keys) <= posted:
                self._upload(client, team, channel, message.attachments)
        except Permanent as problem:
            if not target.kept or str(problem) not in DM_GONE:
                raise
            log.info("DM channel %s is gone (%s); it is no longer kept", channel, problem)
            self.dm.forget(message.tenant_id, channel)
            if first and str(problem) in DM_REOPEN:
                raise _StaleChannel(str(problem)) from None
            raise
        return DeliveryResult(delivered=target.people)

    def _post(self, client: WebClient, team: str, channel: str, key: str, page: Any) -> Any:
        """One page posted in ``channel`` with its idempotency key in the message metadata; Slack's answer."""
        return self._call(
            team,
            POST,
            client.chat_postMessage,
            channel=channel,
            text=page.text,
            blocks=page.blocks,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
            unfurl_links=False,
            unfurl_media=False,
            pace_channel=channel,
        )

    # -- Web API calls, paced and classified ---------------------------------------------------------

    def _call(
        self,
        team: str,
        methods: str | tuple[str, ...],
        call: Callable[..., Any],
        pace_channel: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Make one call of ``call`` (the Web API ``methods`` it makes), paced and classified (``webapi.py``)."""
        return call_paced(self.pacer, self.sleep, team, methods, call, pace_channel, **kwargs)

    def _client(self, team: str) -> WebClient:
        token = self.tokens(team)
        if not token:  # never installed, or uninstalled: held like a revoked token
            raise Revoked(f"no Slack token for workspace {team}")
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

    # -- reconciliation, modals, files ---------------------------------------------------------------

    def _posted(
        self, client: WebClient, team: str, channel: str, keys: set[str], recovered: bool, kept: bool = False
    ) -> set[str]:
        """Which of ``keys`` are already in the conversation (a send interrupted by a crash or a 429).

        When the history cannot be read (a public channel the bot posts to without being a member), a
        message ``recovered`` from a dead sender is not sent again (:class:`_Unconfirmed`); after an
        ordinary failure, whose earlier attempt ended with an answer from Slack, it is. A ``kept`` DM channel
        that is gone holds nothing: the error is passed on, for the channel to be dropped."""
        try:
            history = self._call(
                team,
                "conversations.history",
                client.conversations_history,
                channel=channel,
                limit=HISTORY_LIMIT,
                include_all_metadata=True,
            )
        except Permanent as problem:
            if kept and str(problem) in DM_GONE:
                raise
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

    def _answer_in_view(self, client: WebClient, team: str, message: Any) -> bool:
        """An answer to a press in the App Home shown as a modal (``adapters/slack/answers.py``); False when it is
        not one or cannot be shown so (an expired trigger): it is then posted in the DMs as any other."""
        try:
            return show_answer(lambda name, call, **kwargs: self._call(team, name, call, **kwargs), client, message)
        except Permanent as problem:
            log.info("answer not shown in a modal (%s); sent by DM", problem)
        except Defer as defer:
            if not defer.error:
                raise
            log.info("answer not shown in a modal (%s); sent by DM", defer.error)
        return False

    def _open_modal(self, client: WebClient, team: str, form: Any, trigger_id: str) -> None:
        """Open a form as a modal while its trigger is fresh; the message's button is there if this fails."""
        try:
            self._call(team, "views.open", client.views_open, trigger_id=trigger_id, view=form_view(form))
        except Permanent as problem:
            log.info("modal not opened (%s); the message offers a button instead", problem)
        except Defer as defer:
            if not defer.error:
                raise
            log.info("modal not opened (%s); the message offers a button instead", defer.error)

    def _upload(self, client: WebClient, team: str, channel: str, attachments: list[Any]) -> None:
        uploads = [
            {"content": base64.b64decode(a.content_b64), "filename": a.filename, "title": a.title or a.filename}
            for a in attachments
        ]
        methods = ("files.completeUploadExternal",) + ("files.getUploadURLExternal",) * len(uploads)
        self._call(team, methods, client.files_upload_v2, channel=channel, file_uploads=uploads, pace_channel=channel)

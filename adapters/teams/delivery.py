"""The Teams deliverer: renders an outbox item as Adaptive Cards and posts it, at Teams' pace, once.

* Where: a person's personal chat with the bot, from the conversation reference stored when they
  installed the app or last wrote (pairs get the message in each person's chat: bots cannot open group
  chats); when there is none but their Teams account is known (a team roster, a mention), a personal
  chat is created where the tenant allows it (:mod:`~adapters.teams.personal_chats`). A channel post goes
  to the channel's stored reference; when there is none, or Teams answers that the app is not in that
  team, whoever asked for it is told how to add the app there (``adapters/unreachable.py``). It is always
  a new post: a ``;messageid=`` kept in a reference (a thread in the channel) is left out.
* Nobody else to reach them: when the operator allows it, the app is installed for the person through
  Microsoft Graph and the message goes to the chat that opens (``adapters/teams/graph.py``).
* Nobody to reach: the message is held (``held_for_install``; retried at growing intervals, and at once
  when the person installs the app), the programme's coordinators are told once who must install it, and
  after about a week the person is dropped from the message (:mod:`~adapters.teams.install_hold`).
* Pace: see :mod:`~adapters.teams.pacing`. 429, 412, 502, 503 and 504 back off (``Retry-After`` or
  exponential, with jitter): short waits are slept through, long ones go back to the outbox.
* Exactly once: each activity is journaled (``teams_send``) before it is posted and settled after. An
  activity journaled but never settled (the process died mid-post), or whose post timed out after it
  was sent, is *not* posted again: it is marked ``unknown`` for reconciliation (``rmbot teams
  unconfirmed``) and the person is dropped from the message (:mod:`~adapters.teams.posting`). See
  docs/teams.md.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.teams import cards
from adapters.teams.connector import Connector, Outcome
from adapters.teams.graph import GraphReach
from adapters.teams.install_hold import HOLD, NOTICE_KEY, InstallHold
from adapters.teams.links import IMAGE_TTL, Links
from adapters.teams.pacing import Pacer
from adapters.teams.personal_chats import PersonalChats
from adapters.teams.posting import BACKOFF_BASE, BACKOFF_CAP, CARD, MAX_SLEEP, ActivityPoster, Defer
from adapters.teams.pressed import show_to_each
from adapters.teams.roster import TeamRoster
from adapters.teams.translate import channel_conversation
from adapters.unreachable import report_unreachable
from bot.model import OutgoingMessage, Platform
from bot.ports import DeliveryResult, OutboxItem, Store

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "CARD",
    "GIVE_UP_AFTER",
    "HOLD",
    "MAX_SLEEP",
    "NOTICE_KEY",
    "TeamsDeliverer",
    "make_deliverer",
]

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 10


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_deliverer(settings: Any, store: Store, links: Links | None = None) -> TeamsDeliverer:
    """The outbox deliverer for Teams (``settings``: adapters.settings.Settings)."""
    from adapters.teams.auth import token_source
    from adapters.teams.graph import graph_reach
    from adapters.teams.roster import REREAD_AFTER, TeamRoster
    from adapters.teams.service import links_for

    connector = Connector(token_source(settings))
    return TeamsDeliverer(
        store,
        connector,
        links or links_for(settings),
        Pacer(settings.teams_tenant_budget),
        installer=graph_reach(settings, store),
        roster=TeamRoster(store, connector, every=REREAD_AFTER, max_wait=MAX_SLEEP),
    )


class TeamsDeliverer:
    """Delivers the outbox's Teams messages (called from the worker's sending thread)."""

    platform = Platform.TEAMS.value

    def __init__(
        self,
        store: Store,
        connector: Connector,
        links: Links | None = None,
        pacer: Pacer | None = None,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        installer: GraphReach | None = None,
        roster: TeamRoster | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.links = links
        self.pacer = pacer or Pacer()
        self.now = now
        self.sleep = sleep
        self.jitter = jitter
        self.installer = installer
        self.roster = roster
        self.poster = ActivityPoster(store, connector, self.pacer, sleep, jitter)
        self.chats = PersonalChats(store, self.poster, installer, roster)
        self.held = InstallHold(store, self.platform, now, installer)
        self._tenants: dict[int, str] = {}

    # -- the port ------------------------------------------------------------------------------------

    def deliver(self, item: OutboxItem) -> DeliveryResult:
        """Send ``item`` to its pending recipients (or its channel); see the module docstring."""
        tenant = self._tenant(item.message.tenant_id)
        if item.message.replaces:  # a press shown on the card pressed (adapters/teams/pressed.py)
            return self._show_pressed(item, tenant)
        parts = cards.render(item.message, str(item.id), self._links_of(item.id, item.message))
        if item.message.to.kind == "conversation":
            return self._to_channel(item, tenant, parts)
        delivered: list[int] = []
        dropped: list[int] = []
        waiting: list[int] = []
        for person_id in item.pending:
            try:
                outcome = self._to_person(item, tenant, person_id, parts)
            except Defer as defer:
                return self._deferred(item, defer, delivered)
            if outcome == "delivered":
                delivered.append(person_id)
            elif outcome == "missing":
                waiting.append(person_id)
            else:
                dropped.append(person_id)
        if waiting:
            return self.held.hold(item, delivered, dropped, waiting)
        return DeliveryResult(delivered=delivered, suppressed=dropped)

    def _deferred(self, item: OutboxItem, defer: Defer, delivered: list[int]) -> DeliveryResult:
        if defer.error and item.attempts + 1 >= GIVE_UP_AFTER:
            log.warning("giving up on outbox message %s after %s attempts: %s", item.id, item.attempts + 1, defer.error)
            return DeliveryResult(delivered=delivered, suppressed=[p for p in item.pending if p not in delivered])
        return DeliveryResult(
            delivered=delivered,
            retry_at=self.now() + timedelta(seconds=defer.seconds),
            error=f"teams: {defer.error}" if defer.error else "",
        )

    # -- one person ----------------------------------------------------------------------------------

    def _to_person(self, item: OutboxItem, tenant: str, person_id: int, parts: list[dict[str, Any]]) -> str:
        """Post every part to the person's chat: ``delivered``, ``missing``, ``unknown`` or ``rejected``."""
        chat = self.chats.find(tenant, person_id, item.message)
        if chat is None:
            return "missing"
        for number, card in enumerate(parts):
            key = f"{item.message.idempotency_key}#{person_id}#{number}"
            result = self.poster.post(item, tenant, chat, key, person_id, card)
            if result == "gone":
                self.store.teams.forget_conversation(tenant, chat.conversation_id)
                return "missing"
            if result != "sent":
                return result
        return "delivered"

    def _show_pressed(self, item: OutboxItem, tenant: str) -> DeliveryResult:
        """Replace the pressed card with what the engine decided; a PUT is safe to repeat, so a retry or an
        unknown outcome is tried again, and a card Teams no longer has is left as it is."""

        def put(service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]) -> Outcome:
            self.poster.pace(tenant, conversation)
            outcome = self.connector.update_activity(service_url, conversation, activity_id, activity)
            if outcome.kind in ("retry", "ambiguous"):
                raise Defer(self.poster.back_off(tenant, conversation, outcome, item.attempts), outcome.error)
            return outcome

        try:
            return show_to_each(self.store, tenant, item, put, self._links_of)
        except Defer as defer:
            return self._deferred(item, defer, [])

    # -- one channel ---------------------------------------------------------------------------------

    def _to_channel(self, item: OutboxItem, tenant: str, parts: list[dict[str, Any]]) -> DeliveryResult:
        wanted = item.message.to.conversation.lstrip("#")
        chat = self.store.teams.conversation(tenant, wanted)
        if chat is not None:  # a new post, never a reply in a thread (a reference stored with its ;messageid=)
            chat = replace(chat, conversation_id=channel_conversation(chat.conversation_id))
        if chat is None:
            self._unreachable(item.message)
            return DeliveryResult(
                error=f"teams: no conversation {wanted!r} known in tenant {tenant}: install the app in that team first"
            )
        try:
            for number, card in enumerate(parts):
                result = self.poster.post(item, tenant, chat, f"{item.message.idempotency_key}#c#{number}", None, card)
                if result == "gone":  # 403 or 404: the app is not (or no longer) in that team
                    self._unreachable(item.message)
                if result != "sent":
                    return DeliveryResult(error=f"teams: channel post {result}")
        except Defer as defer:
            return self._deferred(item, defer, [])
        return DeliveryResult()

    def _unreachable(self, message: OutgoingMessage) -> None:
        """Tell whoever asked for a channel post that it could not be made, and how to let the app in."""
        report_unreachable(self.store, message, self.platform, "teams.channel_unreachable")

    # -- helpers -------------------------------------------------------------------------------------

    def _links_of(self, outbox_id: int, message: OutgoingMessage) -> cards.LinkFor | None:
        """The signed links of the attachments of ``message``, the outbox row ``outbox_id`` (None: no links)."""
        links = self.links
        if links is None or not links.enabled:
            return None
        attachments = message.attachments

        def link(index: int) -> str:
            image = attachments[index].media_type.startswith("image/")
            return links.url(outbox_id, index, IMAGE_TTL if image else None)

        return link

    def _tenant(self, tenant_id: int) -> str:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            with self.store.unit_of_work() as uow:
                row = uow.tenants.get(tenant_id)
            tenant = self._tenants[tenant_id] = row.external_id if row else ""
        return tenant

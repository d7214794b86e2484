"""The Teams deliverer: renders an outbox item as Adaptive Cards and posts it, at Teams' pace, once.

* Where: a person's personal chat with the bot, from the conversation reference stored when they
  installed the app or last wrote (pairs get the message in each person's chat: bots cannot open group
  chats); when there is none but their Teams account is known (a team roster, a mention), a personal
  chat is created where the tenant allows it. A channel post goes to the channel's stored reference;
  when there is none, or Teams answers that the app is not in that team, whoever asked for it is told
  how to add the app there (``adapters/unreachable.py``). It is always a new post: a ``;messageid=`` kept
  in a reference (a thread in the channel) is left out.
* Nobody else to reach them: when the operator allows it, the app is installed for the person through
  Microsoft Graph and the message goes to the chat that opens (``adapters/teams/graph.py``).
* Nobody to reach: the message is held (``held_for_install``; retried at growing intervals, and at once
  when the person installs the app), the programme's coordinators are told once who must install it, and
  after about a week the person is dropped from the message.
* Pace: see :mod:`~adapters.teams.pacing`. 429, 412, 502, 503 and 504 back off (``Retry-After`` or
  exponential, with jitter): short waits are slept through, long ones go back to the outbox.
* Exactly once: each activity is journaled (``teams_send``) before it is posted and settled after. An
  activity journaled but never settled (the process died mid-post), or whose post timed out after it
  was sent, is *not* posted again: it is marked ``unknown`` for reconciliation (``rmbot teams
  unconfirmed``) and the person is dropped from the message. See docs/teams.md.
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
from adapters.teams.graph import GraphReach, Later
from adapters.teams.links import IMAGE_TTL, Links
from adapters.teams.pacing import Pacer
from adapters.teams.pressed import show_to_each
from adapters.teams.roster import TeamRoster
from adapters.teams.translate import channel_conversation
from adapters.unreachable import report_unreachable
from bot.model import Address, OutgoingMessage, Platform
from bot.ports import ChatAccount, ConversationReference, DeliveryResult, OutboxItem, SendState, Store
from bot.wording import say

log = logging.getLogger(__name__)

MAX_SLEEP = 2.0
BACKOFF_BASE, BACKOFF_CAP = 1.0, 120.0
GIVE_UP_AFTER = 10
HOLD = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12)] + [timedelta(days=1)] * 6
"""How long a message waits, attempt after attempt, for a recipient who has not installed the app."""
NOTICE_KEY = "teams:install:"
CARD = "application/vnd.microsoft.card.adaptive"


class _Defer(Exception):
    def __init__(self, seconds: float, error: str = "") -> None:
        super().__init__(error)
        self.seconds, self.error = seconds, error


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
            except _Defer as defer:
                return self._deferred(item, defer, delivered)
            if outcome == "delivered":
                delivered.append(person_id)
            elif outcome == "missing":
                waiting.append(person_id)
            else:
                dropped.append(person_id)
        if waiting:
            return self._hold(item, delivered, dropped, waiting)
        return DeliveryResult(delivered=delivered, suppressed=dropped)

    def _deferred(self, item: OutboxItem, defer: _Defer, delivered: list[int]) -> DeliveryResult:
        if defer.error and item.attempts + 1 >= GIVE_UP_AFTER:
            log.warning("giving up on outbox message %s after %s attempts: %s", item.id, item.attempts + 1, defer.error)
            return DeliveryResult(delivered=delivered, suppressed=[p for p in item.pending if p not in delivered])
        return DeliveryResult(
            delivered=delivered,
            retry_at=self.now() + timedelta(seconds=defer.seconds),
            error=f"teams: {defer.error}" if defer.error else "",
        )

    def _hold(self, item: OutboxItem, delivered: list[int], dropped: list[int], waiting: list[int]) -> DeliveryResult:
        """Recipients without a chat: tell coordinators, wait for them to install, drop them in the end."""
        for person_id in waiting:
            if self.installer is None or not self.installer.installing(person_id):
                self._notify_coordinators(item.message, person_id)
        if item.attempts >= len(HOLD):
            log.warning("outbox message %s: people %s never installed the Teams app; dropped", item.id, waiting)
            return DeliveryResult(delivered=delivered, suppressed=dropped + waiting)
        if dropped:  # settled now: a held result only records who was delivered
            self.store.outbox.suppressed(item.id, dropped, "undeliverable", self.now())
        self.store.teams.hold_for_install(item.id)
        return DeliveryResult(
            delivered=delivered,
            retry_at=self.now() + HOLD[item.attempts],
            error=f"teams: people {waiting} have not installed the app",
        )

    # -- one person ----------------------------------------------------------------------------------

    def _to_person(self, item: OutboxItem, tenant: str, person_id: int, parts: list[dict[str, Any]]) -> str:
        """Post every part to the person's chat: ``delivered``, ``missing``, ``unknown`` or ``rejected``."""
        chat = self._personal_chat(tenant, person_id, item.message)
        if chat is None:
            return "missing"
        for number, card in enumerate(parts):
            key = f"{item.message.idempotency_key}#{person_id}#{number}"
            result = self._post(item, tenant, chat, key, person_id, card)
            if result == "gone":
                self.store.teams.forget_conversation(tenant, chat.conversation_id)
                return "missing"
            if result != "sent":
                return result
        return "delivered"

    def _personal_chat(self, tenant: str, person_id: int, message: OutgoingMessage) -> ConversationReference | None:
        """The person's stored personal chat, or one created for them where Teams allows it (their account
        known, if need be from the rosters of the tenant's teams read again), or one that installing the app
        for them through Microsoft Graph opens (``adapters/teams/graph.py``)."""
        user, known, chat = self.store.teams.chat_for_person(tenant, person_id)
        if chat is None and not known and self.roster is not None and self.roster.refresh(tenant).kept:
            user, known, chat = self.store.teams.chat_for_person(tenant, person_id)
        if chat is None and known:
            chat = self._create_chat(tenant, user, known[0])
        if chat is None and self.installer is not None:
            try:
                chat = self.installer.chat_for(message, tenant, person_id, user, known)
            except Later as later:
                raise _Defer(later.seconds, later.error) from None
        return chat

    def _create_chat(self, tenant: str, user: str, account: ChatAccount) -> ConversationReference | None:
        service = account.service_url or self.store.teams.service_url(tenant)
        bot = self.store.teams.bot_id(tenant)
        if not service or not bot:
            return None
        self._pace(tenant, None)
        outcome = self.connector.create_conversation(
            service,
            {
                "bot": {"id": bot},
                "members": [{"id": account.account_id}],
                "isGroup": False,
                "tenantId": tenant,
                "channelData": {"tenant": {"id": tenant}},
            },
        )
        if outcome.kind == "sent" and outcome.id:
            self.store.teams.remember_conversation(
                {
                    "tenant_key": tenant,
                    "conversation_id": outcome.id,
                    "conversation_type": "personal",
                    "user_id": account.user_id or user,
                    "account_id": account.account_id,
                    "name": account.name,
                    "service_url": service,
                    "bot_id": bot,
                },
            )
            return self.store.teams.personal_chat(tenant, [account.account_id])
        if outcome.kind in ("retry", "ambiguous"):  # creating the same 1:1 chat twice is harmless
            raise _Defer(self._back_off(tenant, None, outcome), outcome.error)
        log.info("cannot open a Teams chat with %s: %s", account.account_id, outcome.error)
        return None

    def _show_pressed(self, item: OutboxItem, tenant: str) -> DeliveryResult:
        """Replace the pressed card with what the engine decided; a PUT is safe to repeat, so a retry or an
        unknown outcome is tried again, and a card Teams no longer has is left as it is."""

        def put(service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]) -> Outcome:
            self._pace(tenant, conversation)
            outcome = self.connector.update_activity(service_url, conversation, activity_id, activity)
            if outcome.kind in ("retry", "ambiguous"):
                raise _Defer(self._back_off(tenant, conversation, outcome, item.attempts), outcome.error)
            return outcome

        try:
            return show_to_each(self.store, tenant, item, put, self._links_of)
        except _Defer as defer:
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
                result = self._post(item, tenant, chat, f"{item.message.idempotency_key}#c#{number}", None, card)
                if result == "gone":  # 403 or 404: the app is not (or no longer) in that team
                    self._unreachable(item.message)
                if result != "sent":
                    return DeliveryResult(error=f"teams: channel post {result}")
        except _Defer as defer:
            return self._deferred(item, defer, [])
        return DeliveryResult()

    def _unreachable(self, message: OutgoingMessage) -> None:
        """Tell whoever asked for a channel post that it could not be made, and how to let the app in."""
        report_unreachable(self.store, message, self.platform, "teams.channel_unreachable")

    # -- one activity --------------------------------------------------------------------------------

    def _post(
        self,
        item: OutboxItem,
        tenant: str,
        chat: ConversationReference,
        key: str,
        person_id: int | None,
        card: dict[str, Any],
    ) -> str:
        """Post one card, journaled: ``sent``, ``unknown`` (never repeated), ``gone`` or ``rejected``."""
        for attempt in range(3):
            self._pace(tenant, chat.conversation_id)
            earlier = self.store.teams.begin_send(key, item.id, person_id, chat.conversation_id)
            if earlier == SendState.SENT:
                return "sent"
            if earlier is not None:
                if earlier == SendState.SENDING:
                    self.store.teams.settle_send(
                        key, SendState.UNKNOWN, error="interrupted after it was handed to Teams; not sent again"
                    )
                log.warning("Teams activity %s may or may not have been delivered: left for reconciliation", key)
                return SendState.UNKNOWN.value
            outcome = self.connector.post_activity(
                chat.service_url, chat.conversation_id, self._activity(item.message, chat, card)
            )
            if outcome.kind == "sent":
                self.store.teams.settle_send(key, SendState.SENT, activity_id=outcome.id)
                return "sent"
            if outcome.kind == "ambiguous":
                self.store.teams.settle_send(key, SendState.UNKNOWN, error=outcome.error)
                log.warning("Teams activity %s: %s; not sent again, left for reconciliation", key, outcome.error)
                return SendState.UNKNOWN.value
            self.store.teams.cancel_send(key)
            if outcome.kind == "gone":
                return "gone"
            if outcome.kind == "rejected":
                log.warning("Teams refused activity %s: %s", key, outcome.error)
                return "rejected"
            wait = self._back_off(tenant, chat.conversation_id, outcome, attempt + item.attempts)
            if wait > MAX_SLEEP or attempt == 2:
                raise _Defer(wait, outcome.error)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _pace(self, tenant: str, conversation: str | None) -> None:
        wait = self.pacer.acquire(tenant, conversation, max_wait=MAX_SLEEP, sleep=self.sleep)
        if wait:
            raise _Defer(wait)

    def _back_off(self, tenant: str, conversation: str | None, outcome: Outcome, attempt: int = 0) -> float:
        """How long to wait after a refusal (``Retry-After``, or exponential with jitter); pauses the pacer."""
        if outcome.retry_after is not None:
            wait = outcome.retry_after + self.jitter(0.0, 0.5)
        else:
            wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 10)) * self.jitter(0.5, 1.0)
        if outcome.status in (412, 429, 503):
            self.pacer.pause(tenant, conversation, wait)
        return wait

    @staticmethod
    def _activity(message: OutgoingMessage, chat: ConversationReference, card: dict[str, Any]) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": "message",
            "conversation": {"id": chat.conversation_id},
            "summary": cards.summary(message),
            "attachments": [{"contentType": CARD, "content": card}],
        }
        if chat.bot_id:
            activity["from"] = {"id": chat.bot_id}
        if chat.conversation_type == "personal":
            activity["channelData"] = {"notification": {"alert": True}}
        return activity

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

    def _notify_coordinators(self, message: OutgoingMessage, person_id: int) -> None:
        """Queue, once, a note to the programme's coordinators that ``person_id`` must install the app."""
        if message.programme_id is None or message.idempotency_key.startswith(NOTICE_KEY):
            return
        try:
            with self.store.unit_of_work() as uow:
                person = uow.people.get(person_id)
                programme = uow.programmes.get(message.programme_id)
                if person is None or programme is None:
                    return
                for coordinator in uow.coordinators.of_programme(programme.id):
                    if coordinator == person_id:
                        continue
                    uow.outbox.add(
                        OutgoingMessage(
                            tenant_id=message.tenant_id,
                            to=Address.person(coordinator),
                            programme_id=programme.id,
                            idempotency_key=f"{NOTICE_KEY}{programme.id}:{person_id}:{coordinator}",
                            text=say("teams.install_needed", name=person.name, programme=programme.name),
                        ),
                        platform=self.platform,
                    )
        except Exception:  # noqa: BLE001 - a note to coordinators must never stop delivery
            log.exception("could not queue the install note for person %s", person_id)

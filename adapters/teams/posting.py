"""Posting one Teams activity for the deliverer: paced, backed off after a refusal, and journaled so that it is
never posted twice.

* Pace: see :mod:`~adapters.teams.pacing`. 429, 412, 502, 503 and 504 back off (``Retry-After`` or
  exponential, with jitter): short waits are slept through, long ones raise :class:`Defer` (the message goes
  back to the outbox).
* Exactly once: each activity is journaled (``teams_send``) before it is posted and settled after. An
  activity journaled but never settled (the process died mid-post), or whose post timed out after it was
  sent, is *not* posted again: it is marked ``unknown`` for reconciliation (``rmbot teams unconfirmed``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from adapters.teams import cards
from adapters.teams.connector import Connector, Outcome
from adapters.teams.pacing import Pacer
from bot.model import OutgoingMessage
from bot.ports import ConversationReference, OutboxItem, SendState, Store

log = logging.getLogger(__name__)

MAX_SLEEP = 2.0
BACKOFF_BASE, BACKOFF_CAP = 1.0, 120.0
CARD = "application/vnd.microsoft.card.adaptive"


class Defer(Exception):
    """Stop delivering this message for now: try again in ``seconds`` (``error``: why, "" for a mere pause)."""

    def __init__(self, seconds: float, error: str = "") -> None:
        super().__init__(error)
        self.seconds, self.error = seconds, error


class ActivityPoster:
    """Posts activities to Teams conversations at Teams' pace, each at most once."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        pacer: Pacer,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.store = store
        self.connector = connector
        self.pacer = pacer
        self.sleep = sleep
        self.jitter = jitter

    def post(
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
            self.pace(tenant, chat.conversation_id)
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
                chat.service_url, chat.conversation_id, activity(item.message, chat, card)
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
            wait = self.back_off(tenant, chat.conversation_id, outcome, attempt + item.attempts)
            if wait > MAX_SLEEP or attempt == 2:
                raise Defer(wait, outcome.error)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def pace(self, tenant: str, conversation: str | None) -> None:
        """Wait for a turn in the tenant's (and conversation's) budget; raise :class:`Defer` if it is far off."""
        wait = self.pacer.acquire(tenant, conversation, max_wait=MAX_SLEEP, sleep=self.sleep)
        if wait:
            raise Defer(wait)

    def back_off(self, tenant: str, conversation: str | None, outcome: Outcome, attempt: int = 0) -> float:
        """How long to wait after a refusal (``Retry-After``, or exponential with jitter); pauses the pacer."""
        if outcome.retry_after is not None:
            wait = outcome.retry_after + self.jitter(0.0, 0.5)
        else:
            wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 10)) * self.jitter(0.5, 1.0)
        if outcome.status in (412, 429, 503):
            self.pacer.pause(tenant, conversation, wait)
        return wait


def activity(message: OutgoingMessage, chat: ConversationReference, card: dict[str, Any]) -> dict[str, Any]:
    """The message activity that carries ``card`` to ``chat`` (a personal chat's with a notification alert)."""
    posted: dict[str, Any] = {
        "type": "message",
        "conversation": {"id": chat.conversation_id},
        "summary": cards.summary(message),
        "attachments": [{"contentType": CARD, "content": card}],
    }
    if chat.bot_id:
        posted["from"] = {"id": chat.bot_id}
    if chat.conversation_type == "personal":
        posted["channelData"] = {"notification": {"alert": True}}
    return posted

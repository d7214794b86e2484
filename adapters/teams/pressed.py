"""A press shown in the Teams card that was pressed, as the engine decided it (issue #18).

The way in (:func:`pressed_in`, called by ``translate.py``): a button pressed on a card the bot posted in a
person's personal chat (an ``Action.Execute`` invoke, or the ``Action.Submit`` fallback's message) carries a
neutral :class:`~bot.model.Pressed` in its event: the card's activity (``replyToId``) in that conversation, the
outbox message it was rendered from (``rmbot_ref``) and which of its cards it was (``rmbot_part``), opaque to
the engine, and the label pressed. Presses in channels carry none (a changed card would change for everyone).

The way out (:func:`show_to_each`, called by ``delivery.py``): the engine answers such a press with an outbox
message that ``replaces`` the card (``bot/pressed.py``), written in the same transaction as the press's effect,
so the update is as durable as any message and says what the engine decided: the choice ("✓ Yes, I'm in"), or
that the card no longer applies; a press refused for another reason queues nothing and the buttons stay. The
deliverer renders the pressed card again from its outbox message, takes its controls out, puts the note in
their place, and replaces the activity (``PUT {serviceUrl}/v3/conversations/{id}/activities/{activityId}``).
The same PUT made twice gives the same card, so a retry after a crash, a timeout or a lease taken over changes
nothing more. Teams cannot be asked what a card shows now, so a journal row (``teams_send``, key
``pressed:…``) records that a choice was shown on an activity: a later outdated press of the same card (pressed
twice before the first update arrived) keeps the choice instead of saying the card no longer applies.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.teams import cards
from adapters.teams.connector import Outcome
from bot.model import OutgoingMessage, Pressed
from bot.ports import DeliveryResult, OutboxItem, SendState, Store

log = logging.getLogger(__name__)

PLATFORM = "teams"
SEPARATOR = "|"
CARD = "application/vnd.microsoft.card.adaptive"
TYPED = {"text", "long_text", "integer", "number", "date", "time_zone", "working_hours", "cadence"}
"""Question kinds whose Send press is shown with what was typed (a pick is shown as done)."""


@dataclass(frozen=True)
class PressedCard:
    """Where a pressed card is: its outbox message and card number, and its activity in a conversation."""

    outbox_id: int
    part: int
    activity_id: str
    conversation_id: str

    @property
    def ref(self) -> str:
        """The neutral reference (:attr:`~bot.model.Pressed.ref`) to this card."""
        return SEPARATOR.join((str(self.outbox_id), str(self.part), self.activity_id, self.conversation_id))

    def journal_key(self, tenant: str) -> str:
        """The ``teams_send`` key that records a choice shown on this card, in the Teams tenant ``tenant``."""
        digest = hashlib.sha256(f"{tenant}\n{self.conversation_id}\n{self.activity_id}".encode()).hexdigest()[:40]
        return f"pressed:{digest}"


def parse_ref(ref: str) -> PressedCard | None:
    """The card a reference made by :attr:`PressedCard.ref` names; None for anything else."""
    outbox, part, activity, conversation = (ref.split(SEPARATOR, 3) + ["", "", "", ""])[:4]
    if not outbox.isdecimal() or not part.isdecimal() or not activity or not conversation:
        return None
    return PressedCard(int(outbox), int(part), activity, conversation)


def _label(data: dict[str, Any], typed: str) -> str:
    action = str(data.get(cards.ACTION) or "")
    if action == cards.PICK:
        return ""
    if action == cards.ANSWER and not data.get(cards.VALUE):
        return typed if str(data.get(cards.KIND) or "text") in TYPED else ""
    return str(data.get(cards.LABEL) or "")


def pressed_in(activity: dict[str, Any], data: dict[str, Any], typed: str = "") -> Pressed | None:
    """The card a press was made on, when the bot can show the press there: a card it posted (``rmbot_ref``)
    in a personal chat, the activity naming it (``replyToId``); None otherwise. ``typed``: what a question's
    Send button sent as the answer."""
    conversation = activity.get("conversation") or {}
    kind = conversation.get("conversationType") or ("groupChat" if conversation.get("isGroup") else "personal")
    ref, activity_id = str(data.get(cards.REF) or ""), str(activity.get("replyToId") or "")
    part = data.get(cards.PART, 0)
    if kind != "personal" or not ref.isdecimal() or not activity_id or not conversation.get("id"):
        return None
    if not isinstance(part, int) or isinstance(part, bool) or part < 0 or SEPARATOR in activity_id:
        return None
    card = PressedCard(int(ref), part, activity_id, str(conversation["id"]))
    step = str(data.get(cards.STEP) or "") if data.get(cards.ACTION) == cards.ANSWER else ""
    return Pressed(ref=card.ref, label=_label(data, typed), question=step)


def show_pressed(
    store: Store,
    tenant: str,
    person_id: int,
    message: OutgoingMessage,
    put: Callable[[str, str, str, dict[str, Any]], Outcome],
    link_for: Callable[[int, OutgoingMessage], cards.LinkFor | None],
) -> Outcome | None:
    """Show ``message`` (an outbox message that ``replaces`` a pressed card) on that card: render it again, its
    controls replaced by the note, and replace the activity (``put(service URL, conversation, activity id,
    activity)``). Returns the PUT's outcome, or None when there is nothing to change: a card that no longer
    applies already shows the choice made on it, or the card cannot be shown again (its message redacted, its
    conversation gone, a reference nobody made)."""
    pressed = parse_ref(message.replaces)
    if pressed is None:
        return None
    original = store.outbox.message_for(pressed.outbox_id, PLATFORM, person_id)
    chat = store.teams.conversation(tenant, pressed.conversation_id)
    if original is None or chat is None or chat.conversation_id != pressed.conversation_id:
        return None
    key = pressed.journal_key(tenant)
    earlier = store.teams.begin_send(key, pressed.outbox_id, person_id, pressed.conversation_id)
    if message.outdated:
        if earlier is not None:
            return None  # a choice was shown on it (pressed twice before the first update): it keeps that
        store.teams.cancel_send(key)  # only a choice shown is recorded
    content = cards.answered(
        original, message.text, link_for(pressed.outbox_id, original), pressed.part, str(pressed.outbox_id)
    )
    activity: dict[str, Any] = {
        "type": "message",
        "id": pressed.activity_id,
        "conversation": {"id": pressed.conversation_id},
        "attachments": [{"contentType": CARD, "content": content}],
    }
    if chat.bot_id:
        activity["from"] = {"id": chat.bot_id}
    outcome = put(chat.service_url, pressed.conversation_id, pressed.activity_id, activity)
    if message.outdated:
        return outcome
    if outcome.kind == "sent":
        store.teams.settle_send(key, SendState.SENT, activity_id=pressed.activity_id)
    elif outcome.kind in ("gone", "rejected"):
        store.teams.cancel_send(key)
    return outcome


def show_to_each(
    store: Store,
    tenant: str,
    item: OutboxItem,
    put: Callable[[str, str, str, dict[str, Any]], Outcome],
    link_for: Callable[[int, OutgoingMessage], cards.LinkFor | None],
) -> DeliveryResult:
    """Deliver ``item`` (a message that ``replaces`` a pressed card) to its pending recipient (whoever pressed):
    shown, or nothing left to show; a card Teams refuses or no longer has (``gone``, ``rejected``) is left as it
    is and the recipient dropped. ``put`` raises to defer the item (a 429, a 5xx, an unknown outcome)."""
    dropped: list[int] = []
    for person_id in item.pending:
        outcome = show_pressed(store, tenant, person_id, item.message, put, link_for)
        if outcome is not None and outcome.kind != "sent":
            log.info("the pressed Teams card of outbox message %s cannot be updated: %s", item.id, outcome.error)
            dropped.append(person_id)
    return DeliveryResult(delivered=[p for p in item.pending if p not in dropped], suppressed=dropped)

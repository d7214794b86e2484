"""A press shown in the Slack message that was pressed: the choice, without the buttons.

The way in (:func:`pressed_in`, called by ``translate.py``): a button or select pressed in a message the bot
posted in a person's DM carries a neutral :class:`~bot.model.Pressed` in its event: that message's channel and
``ts`` (opaque to the engine) and the label of what was chosen. Presses in the App Home, in channels (where a
changed message would change for everyone: the call for volunteers stays for the next person) and in a pair's
group DM (the other member may still have to answer) carry none, and their messages stay as they are.

The way out (:func:`show_pressed`, called by ``delivery.py``): the engine answers such a press with an outbox
message that ``replaces`` the one pressed (``bot/pressed.py``), written in the same transaction as the press's
effect, so the update is as durable as any message and says what the engine decided ("✓ No, thanks", or that
the button no longer applies). The deliverer reads the pressed message as Slack shows it
(``conversations.history`` at its ``ts``), takes its controls out, puts the note in their place and calls
``chat.update``; a press that no longer applied leaves a message that already shows its choice as it is.
Doing it again gives the same message (the note has a fixed ``block_id`` and replaces an earlier one; nothing
is sent when the message already reads so), so a send repeated after a crash or a lease taken over changes
nothing more: exactly once in effect. ``chat.update`` is used rather than the payload's ``response_url``: it works for every message the bot
posted, however late the outbox gets to it, while a ``response_url`` lasts 30 minutes and five uses. A message
Slack no longer has, or no longer lets the bot change (deleted, its DM gone, past the edit window: ``GONE``), is an
expected end: the update is settled quietly, neither retried nor logged as a failure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from adapters.slack.mrkdwn import chunks, to_mrkdwn
from adapters.slack.render import (
    CONTEXT_TEXT,
    MAX_BLOCKS,
    PICK,
    SUBMIT,
    RenderError,
    answered_question,
    engine_action,
)
from adapters.slack.webapi import Permanent
from bot.model import OutgoingMessage, Pressed

log = logging.getLogger(__name__)

NOTE_BLOCK = "rmbot_pressed"
"""The ``block_id`` of the note that replaces a pressed message's controls."""
CONTROLS = {"actions", "input"}
"""Blocks that hold controls, taken out of a pressed message."""
INTERACTIVE = {
    "button",
    "static_select",
    "multi_static_select",
    "overflow",
    "datepicker",
    "timepicker",
    "radio_buttons",
    "checkboxes",
    "users_select",
    "conversations_select",
    "channels_select",
    "external_select",
}
"""Element types that can sit in a section's ``accessory`` and are taken out with the controls."""
SEPARATOR = " "
TS = re.compile(r"\d{1,12}\.\d{1,9}")
"""What a message's ``ts`` looks like (seconds, a dot, a sequence): anything else names no message of Slack's."""
GONE = {
    "message_not_found",
    "channel_not_found",
    "cant_update_message",
    "edit_window_closed",
    "is_archived",
    "not_in_channel",
}
"""Slack's answers that say the pressed message cannot be changed any more: the update has nothing left to do."""


def ref_of(channel: str, ts: str) -> str:
    """The neutral reference to the message ``ts`` of ``channel`` (:attr:`~bot.model.Pressed.ref`)."""
    return f"{channel}{SEPARATOR}{ts}"


def parse_ref(ref: str) -> tuple[str, str]:
    """``(channel, ts)`` from a reference made by :func:`ref_of`; :class:`RenderError` for anything else."""
    channel, _, ts = ref.partition(SEPARATOR)
    if not channel or not ts or SEPARATOR in ts:
        raise RenderError(f"not a Slack message reference: {ref[:80]!r}")
    return channel, ts


def _text(value: Any) -> str:
    return str((value or {}).get("text") or "") if isinstance(value, dict) else ""


def _picked_labels(body: dict[str, Any]) -> list[str]:
    """The labels chosen in a message's pick-list selects, in the order of the selects (for its Send button)."""
    chosen: list[tuple[int, list[str]]] = []
    for elements in ((body.get("state") or {}).get("values") or {}).values():
        for action_id, state in (elements or {}).items():
            if not str(action_id).startswith(PICK):
                continue
            options = state.get("selected_options") or (
                [state["selected_option"]] if state.get("selected_option") else []
            )
            place = str(action_id).split("|", 1)[-1]
            chosen.append((int(place) if place.isdecimal() else 0, [_text(o.get("text")) for o in options if o]))
    labels: list[str] = []
    for _, picked in sorted(chosen, key=lambda item: item[0]):
        labels += [label for label in picked if label and label not in labels]
    return labels


def label_of(body: dict[str, Any]) -> str:
    """What the person chose, as Slack showed it: the button's text, the option picked, or the picks sent."""
    pressed = (body.get("actions") or [{}])[0]
    if engine_action(str(pressed.get("action_id", ""))) == SUBMIT:
        return ", ".join(_picked_labels(body))
    option = pressed.get("selected_option")
    if isinstance(option, dict):
        return _text(option.get("text"))
    return _text(pressed.get("text"))


def pressed_in(body: dict[str, Any]) -> Pressed | None:
    """The message a ``block_actions`` press was made in, when the bot can show the press there: a message
    (not the App Home, not an ephemeral one) in a one-to-one DM; None otherwise."""
    container = body.get("container") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    if container.get("type") != "message" or container.get("is_ephemeral") or not channel.startswith("D"):
        return None
    if not TS.fullmatch(ts):  # a damaged payload: the press still counts, no message is named for the update
        return None
    if SEPARATOR in channel or SEPARATOR in ts:
        return None
    block = str(((body.get("actions") or [{}])[0]).get("block_id") or "")
    return Pressed(ref=ref_of(channel, ts), label=label_of(body), question=answered_question(block))


def answered_blocks(blocks: list[dict[str, Any]], note: str, keep_note: bool = False) -> list[dict[str, Any]]:
    """``blocks`` of a pressed message without their controls, and ``note`` (neutral markdown) in their place;
    applied to its own result, the same blocks again. ``keep_note``: a note already there (the choice made in
    the message) stays, and ``note`` is not added."""
    earlier = [b for b in blocks if b.get("block_id") == NOTE_BLOCK]
    if keep_note and earlier:
        note_block = earlier[-1]
    else:
        text = next(iter(chunks(to_mrkdwn(note), CONTEXT_TEXT)), "") or " "
        note_block = ContextBlock(block_id=NOTE_BLOCK, elements=[MarkdownTextObject(text=text)]).to_dict()
    kept: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") in CONTROLS or block.get("block_id") == NOTE_BLOCK:
            continue
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") in INTERACTIVE:
            block = {k: v for k, v in block.items() if k != "accessory"}
        kept.append(block)
    return [*kept[: MAX_BLOCKS - 1], note_block]


def show_pressed(call: Callable[..., Any], client: WebClient, message: OutgoingMessage) -> None:
    """Show ``message`` (an outbox message that ``replaces`` a pressed one) in the message pressed: read it as
    Slack shows it, take its controls out, add the note, ``chat.update`` it. ``call(name, method, **kwargs)``
    makes the deliverer's paced, classified Web API call. A message that is gone (``GONE``) settles it quietly."""
    channel, ts = parse_ref(message.replaces)
    try:
        _update(call, client, message, channel, ts)
    except Permanent as problem:
        if str(problem) not in GONE:
            raise
        log.info("the pressed message %s in %s cannot be changed (%s); nothing to update", ts, channel, problem)


def _update(call: Callable[..., Any], client: WebClient, message: OutgoingMessage, channel: str, ts: str) -> None:
    history = call(
        "conversations.history",
        client.conversations_history,
        channel=channel,
        latest=ts,
        oldest=ts,
        inclusive=True,
        limit=1,
        include_all_metadata=True,
    )
    found = next((m for m in history.get("messages") or [] if m.get("ts") == ts), None)
    if found is None:
        raise Permanent("message_not_found")
    blocks = list(found.get("blocks") or [])
    shown = answered_blocks(blocks, message.text, keep_note=message.outdated)
    if shown == blocks:
        return  # it shows this already (an update made before a crash, or an old press of a settled message)
    update: dict[str, Any] = {"channel": channel, "ts": ts, "text": found.get("text") or " ", "blocks": shown}
    metadata = found.get("metadata")
    if isinstance(metadata, dict) and metadata.get("event_type"):
        update["metadata"] = {
            "event_type": metadata["event_type"],
            "event_payload": metadata.get("event_payload") or {},
        }
    call("chat.update", client.chat_update, **update)

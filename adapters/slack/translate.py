"""Slack payloads as neutral :class:`~bot.model.InboundEvent` objects.

Slack escapes ``&``, ``<`` and ``>`` in what people type and wraps mentions, channels and links in
``<…>``; :func:`readable` turns text back into what the person typed, with each user mention and channel
resolved here: ``<@U123|amara>`` becomes the neutral word ``@amara`` listed in ``mentions`` (``@amara`` →
``U123``), ``<#C123|general>`` becomes ``#general`` listed in ``channels``, so the engine never sees
Slack's syntax. A leading ``mentoring`` (or the slash command typed in a DM) is stripped and the event
marked ``addressed``. Every event carries an id that is the same on a retry: the Events API
``event_id``, or the interaction's ``trigger_id``. Typed text (messages, mentions, slash commands) is read up
to ``READ_LIMIT`` characters and kept up to ``TEXT_LIMIT``; longer text is marked (``text_length``) for the
engine to refuse. Button values and forms are bounded by Slack itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install

from adapters.slack.answers import view_conversation
from adapters.slack.forms import submitted
from adapters.slack.pressed import pressed_in
from adapters.slack.render import ANSWER, PICK, SUBMIT, engine_action
from bot.commands.registry import ADDRESS_WORD, address
from bot.mentions import mention_word
from bot.model import READ_LIMIT, Action, InboundEvent, Platform, capped

_TOKEN = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"^@([UW][A-Z0-9]+)(?:\|([^>]*))?$")
COMMAND = "/mentoring"
"""The app's slash command (see the manifest): typed at the start of a DM it addresses the bot, as in Teams."""
LEADING = (COMMAND, ADDRESS_WORD)
HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast"}


def team_of(body: dict[str, Any]) -> str:
    """The tenant a payload comes from: the enterprise of an org-wide install on Enterprise Grid (one tenant for
    the whole organisation), else the workspace (``team_id``, ``team.id``), else the enterprise."""
    if extract_is_enterprise_install(body):
        enterprise = extract_enterprise_id(body)
        if enterprise:
            return str(enterprise)
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    if not team and body.get("authorizations"):
        team = body["authorizations"][0].get("team_id")
    return str(team or body.get("enterprise_id") or (body.get("enterprise") or {}).get("id") or "")


def _when(seconds: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def _plain(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def readable(text: str, without: str = "") -> tuple[str, dict[str, str], dict[str, str]]:
    """Slack message text as typed, mentions and channels as neutral words; returns (text, mentions,
    channels), each word mapped to its Slack id. A mention of ``without`` (the bot itself) is dropped."""
    mentions: dict[str, str] = {}
    channels: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        user = _USER.match(inner)
        if user:
            if user.group(1) == without:
                return " "
            word = mention_word("@", _plain(user.group(2) or ""), mentions, user.group(1))
            mentions[word] = user.group(1)
            return word
        target, _, shown = inner.partition("|")
        if target.startswith("#C") or target.startswith("#G"):
            word = mention_word("#", _plain(shown), channels, target[1:])
            channels[word] = target[1:]
            return word
        if target.startswith("!"):
            return "@" + (shown or target[1:].split("^")[0])
        return (
            shown if shown and shown != target and not target.startswith("mailto:") else target.removeprefix("mailto:")
        )

    out = _TOKEN.sub(replace, text or "")
    return _plain(out), mentions, channels


def typed_text(raw: Any, without: str = "") -> tuple[str, dict[str, str], dict[str, str], int]:
    """:func:`readable` of what someone typed, read only up to ``READ_LIMIT`` characters; returns (text,
    mentions, channels, length), ``length`` the raw length when it was longer than that (else 0), for
    :func:`~bot.model.capped`."""
    text = str(raw or "")
    return (*readable(text[:READ_LIMIT], without), len(text) if len(text) > READ_LIMIT else 0)


def from_command(body: dict[str, Any]) -> InboundEvent:
    """A ``/mentoring`` slash command (its text is a command, with or without the word mentoring)."""
    typed, mentions, channels, length = typed_text(body.get("text"))
    text, text_length = capped(address(typed, (str(body.get("command") or COMMAND), *LEADING))[0], length)
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=team_of(body),
        event_id=f"cmd:{body.get('trigger_id')}",
        user=body.get("user_id", ""),
        user_name=body.get("user_name", ""),
        conversation=body.get("channel_id", ""),
        text=text,
        text_length=text_length,
        mentions=mentions,
        channels=channels,
        addressed=True,
        occurred_at=datetime.now(UTC),
        kind="command",
        trigger_id=body.get("trigger_id", ""),
    )


def from_message(body: dict[str, Any]) -> InboundEvent | None:
    """A direct message to the bot (``message.im``); None for anything else (edits, bots, channels)."""
    event = body.get("event", {})
    if event.get("channel_type") != "im" or event.get("subtype") not in HANDLED_SUBTYPES:
        return None
    if event.get("bot_id") or not event.get("user"):
        return None
    typed, mentions, channels, length = typed_text(event.get("text"))
    if not typed.strip() and event.get("subtype") == "file_share":
        return None  # a file with nothing said: nothing to answer
    text, addressed = address(typed, LEADING)
    text, text_length = capped(text, length)
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=team_of(body),
        event_id=str(body.get("event_id")),
        user=event["user"],
        conversation=event.get("channel", ""),
        text=text,
        text_length=text_length,
        mentions=mentions,
        channels=channels,
        addressed=addressed,
        occurred_at=_when(event.get("ts") or body.get("event_time")),
        kind="message",
    )


def from_mention(body: dict[str, Any], bot_user: str) -> InboundEvent | None:
    """``@bot join`` in a channel: a command; the answer comes by DM."""
    event = body.get("event", {})
    if event.get("bot_id") or not event.get("user"):
        return None
    typed, mentions, channels, length = typed_text(event.get("text"), without=bot_user)
    text, addressed = address(" ".join(typed.split()), LEADING)
    text, text_length = capped(text, length)
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=team_of(body),
        event_id=str(body.get("event_id")),
        user=event["user"],
        conversation=event.get("channel", ""),
        text=text,
        text_length=text_length,
        mentions=mentions,
        channels=channels,
        addressed=addressed,
        occurred_at=_when(event.get("ts")),
        kind="command",
    )


def _picked(body: dict[str, Any]) -> list[str]:
    """The choices made in a message's pick-list selects, in the order of the selects."""
    values = (body.get("state") or {}).get("values") or {}
    chosen: list[tuple[str, list[str]]] = []
    for elements in values.values():
        for action_id, state in elements.items():
            if action_id.startswith(PICK):
                options = state.get("selected_options") or (
                    [state["selected_option"]] if state.get("selected_option") else []
                )
                chosen.append((action_id, [o["value"] for o in options if o]))
    ordered: list[str] = []
    for _, picked in sorted(chosen, key=lambda item: int(item[0].split("|")[1] or 0)):
        ordered += [value for value in picked if value not in ordered]
    return ordered


def from_block_action(body: dict[str, Any]) -> InboundEvent | None:
    """A button or select in a message or the App Home; None for controls that only wait (pick lists)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    pressed = actions[0]
    action_id = pressed.get("action_id", "")
    value = pressed.get("value") or (pressed.get("selected_option") or {}).get("value", "")
    user = body.get("user") or {}
    conversation = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id", "")
    view = body.get("view") or {}
    if not conversation and view.get("type") in ("home", "modal") and body.get("trigger_id"):
        conversation = view_conversation(str(view["type"]), str(body["trigger_id"]))  # answered in a modal
    common: dict[str, Any] = dict(
        platform=Platform.SLACK,
        tenant=team_of(body),
        user=user.get("id", ""),
        user_name=user.get("name", ""),
        conversation=conversation,
        trigger_id=body.get("trigger_id", ""),
        event_id=f"act:{body.get('trigger_id') or pressed.get('action_ts')}",
        occurred_at=_when(pressed.get("action_ts")),
        pressed=pressed_in(body),  # the DM message pressed, to show the choice in it (adapters/slack/pressed.py)
    )
    kind = engine_action(action_id)
    if kind == PICK:
        return None
    if kind == SUBMIT:
        return InboundEvent(text=", ".join(_picked(body)), kind="message", **common)
    if kind == ANSWER:
        return InboundEvent(text=value, kind="message", **common)
    return InboundEvent(action=Action(id=kind, value=value), kind="action", **common)


def from_view_submission(body: dict[str, Any]) -> InboundEvent:
    """A submitted modal: the form's action with every answered field in ``values``."""
    view = body.get("view") or {}
    action, value, values, conversation = submitted(view)
    user = body.get("user") or {}
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=team_of(body),
        event_id=f"view:{view.get('id')}:{body.get('trigger_id') or view.get('hash')}",
        user=user.get("id", ""),
        user_name=user.get("name", ""),
        conversation=conversation,
        action=Action(id=action, value=value, values=values),
        occurred_at=datetime.now(UTC),
        kind="action",
        trigger_id=body.get("trigger_id", ""),
    )

"""Group DMs (``message.mpim``): commands typed in a pair's group DM, addressed to the bot.

People in a group DM with the bot talk among themselves; only a message that addresses the bot (starting with
``mentoring``, or mentioning it) is a command. The event lists the people in the group DM
(``InboundEvent.members``, from ``conversations.members``), and the engine answers a pair's own command there,
to the pair, only when those people are exactly that pair (``bot/group_chats.py``); anything else is answered
privately. A mention in a group DM arrives twice (``message.mpim`` and ``app_mention``): both carry the id of
the message (``msg:CHANNEL:TS``), so the inbox keeps one.

No Web API call tells a group DM from a channel before the acknowledgement: a message event says so itself
(``channel_type``), and an ``app_mention`` is judged by its channel id. ``C…`` is a channel: the command is
answered privately. ``G…`` may be a group DM (or a private channel made before 2021): the mention is keyed by its
message, so in a group DM it is the same command as the ``message.mpim`` that brings it too, with the people.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import HANDLED_SUBTYPES, LEADING, team_of, typed_text
from bot.commands.registry import address
from bot.model import InboundEvent, Platform, capped

log = logging.getLogger(__name__)
MAX_MEMBERS = 16
"""A group DM holds at most 9 people; anything bigger is not a pair's group DM."""
MEMBERS_TIMEOUT = 1.0
"""Seconds the people of a group DM may take to arrive: the ack waits for them, and must leave within Slack's 3 s
(a profile lookup of the sender may take 1.5 s more: ``adapters/slack/directory.py``)."""


def _sent_at(seconds: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def message_id(event: dict[str, Any]) -> str:
    """The id of a message the same whichever event brings it (``message.mpim`` or ``app_mention``)."""
    return f"msg:{event.get('channel', '')}:{event.get('ts', '')}"


def from_group_message(body: dict[str, Any], bot_user: str) -> InboundEvent | None:
    """A message in a group DM (``message.mpim``) that addresses the bot: a command; None for anything else
    (people talking among themselves, edits, bots). ``members`` is left for :func:`group_members` to fill."""
    event = body.get("event", {})
    if event.get("channel_type") != "mpim" or event.get("subtype") not in HANDLED_SUBTYPES:
        return None
    if event.get("bot_id") or not event.get("user"):
        return None
    raw = str(event.get("text") or "")
    mentioned = bool(bot_user) and f"<@{bot_user}" in raw
    typed, mentions, channels, length = typed_text(raw, without=bot_user)
    text, addressed = address(" ".join(typed.split()), LEADING)
    if not addressed and not mentioned:
        return None
    text, text_length = capped(text, length)
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=team_of(body),
        event_id=message_id(event),
        user=event["user"],
        conversation=str(event.get("channel", "")),
        text=text,
        text_length=text_length,
        mentions=mentions,
        channels=channels,
        addressed=True,
        occurred_at=_sent_at(event.get("ts") or body.get("event_time")),
        kind="command",
    )


async def group_members(client: AsyncWebClient, channel: str, bot_user: str) -> tuple[str, ...]:
    """The people of the group DM ``channel`` (the bot left out). Any failure, or no answer within
    :data:`MEMBERS_TIMEOUT`, gives (): the answer is then private, never shown to people it may not be for."""
    try:
        listed = await asyncio.wait_for(
            client.conversations_members(channel=channel, limit=MAX_MEMBERS + 1), MEMBERS_TIMEOUT
        )
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as problem:
        log.info("the people of %s could not be listed (%s); answering privately", channel, problem)
        return ()
    members = [str(user) for user in listed.get("members") or [] if user != bot_user]
    more = (listed.get("response_metadata") or {}).get("next_cursor")
    if not members or len(members) > MAX_MEMBERS or more:
        return ()
    return tuple(sorted(members))


async def group_command(client: AsyncWebClient, body: dict[str, Any], bot_user: str) -> InboundEvent | None:
    """A ``message.mpim`` addressed to the bot, with the people of its group DM; None for any other message."""
    event = from_group_message(body, bot_user)
    if event is None:
        return None
    return event.model_copy(update={"members": await group_members(client, event.conversation, bot_user)})


def mention_in_group(event: InboundEvent | None, body: dict[str, Any]) -> InboundEvent | None:
    """An ``app_mention`` keyed by its message when it may have been made in a group DM (a ``G…`` channel), so
    that it and the ``message.mpim`` of the same message are one command; a mention in a channel as it is. No
    Web API call: this runs before the acknowledgement."""
    if event is None or not event.conversation.startswith("G"):
        return event
    return event.model_copy(update={"event_id": message_id(body.get("event", {}))})

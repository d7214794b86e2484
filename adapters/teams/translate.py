"""Bot Framework activities (as the JSON Teams posts) to neutral events, references and accounts.

Works on the plain JSON of an activity, so it does not depend on any SDK. The tenant is the Teams tenant
(``channelData.tenant.id`` or ``conversation.tenantId``); the person is the Azure AD object id when Teams
sends it (stable across conversations, and what the HR directory's ``teams_user_id`` holds), else the
Teams account id; the event id is the activity id, which Teams keeps when it re-sends an activity.
Mentions of the bot are removed from the text; other mentions are resolved here into neutral words:
a person's ``<at>Jane Doe</at>`` becomes ``@Jane.Doe`` listed in ``mentions`` (mapped to the person's id),
a channel's becomes ``#General`` listed in ``channels`` (mapped to the channel's ``19:`` id). A leading
``mentoring`` (or ``/mentoring``) is stripped and the event marked ``addressed``. The person's time zone
(``clientInfo.timezone``, else ``localTimezone``) travels in the event when it is a real IANA name. A channel's
reference is kept without the ``;messageid=`` of the thread the activity came from. A typed message is read
up to ``READ_LIMIT`` characters and kept up to ``TEXT_LIMIT``; longer text is marked (``text_length``) for
the engine to refuse. Card inputs and button values are bounded by Teams itself. A press on a card in a
personal chat names that card (``InboundEvent.pressed``, :mod:`adapters.teams.pressed`), so the engine's
outcome is shown on it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from adapters.teams.cards import (
    ACTION,
    ANSWER,
    ANSWER_INPUT,
    FORM_ACTION,
    FORM_FIELDS,
    FORM_PREFIX,
    FORM_SUBMIT,
    KIND,
    PICK,
    PICK_ACTION,
    PICK_INPUT,
    VALUE,
)
from adapters.teams.inputs import field_value
from adapters.teams.pressed import pressed_in
from bot.commands.registry import ADDRESS_WORD, address
from bot.mentions import mention_word
from bot.model import READ_LIMIT, Action, InboundEvent, Platform, capped
from bot.zones import iana_zone

CARD_ACTION = "adaptiveCard/action"
_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
LEADING = ("/mentoring", ADDRESS_WORD)
"""The words that may come before a command typed to the bot (``/mentoring`` as people know it from Slack)."""


def tenant_of(activity: dict[str, Any]) -> str:
    """The Teams tenant id of an activity (outside Teams, e.g. the Bot Framework Emulator: its channel id)."""
    tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
    tenant = tenant or (activity.get("conversation") or {}).get("tenantId")
    channel = str(activity.get("channelId") or "")
    return str(tenant or ("" if channel in ("msteams", "") else channel))


def user_of(account: dict[str, Any] | None) -> str:
    """The id a person is known by: the Azure AD object id if present, else the Teams account id."""
    account = account or {}
    return str(account.get("aadObjectId") or account.get("id") or "")


def conversation_type(activity: dict[str, Any]) -> str:
    """``personal``, ``channel`` or ``groupChat``."""
    conversation = activity.get("conversation") or {}
    kind = conversation.get("conversationType")
    if kind:
        return str(kind)
    return "groupChat" if conversation.get("isGroup") else "personal"


def time_zone_of(activity: dict[str, Any]) -> str:
    """The sender's IANA time zone: ``timezone`` of the ``clientInfo`` entity, else the activity's
    ``localTimezone``; "" when neither is a zone ``zoneinfo`` knows."""
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "clientInfo":
            zone = iana_zone(str(entity.get("timezone") or ""))
            if zone:
                return zone
    return iana_zone(str(activity.get("localTimezone") or ""))


def channel_conversation(conversation_id: str) -> str:
    """A channel's own conversation id: without the ``;messageid=`` that names one thread in it (a post to
    an id with it is a reply in that thread; without it, a new post in the channel)."""
    return conversation_id.split(";messageid=", 1)[0]


def when(activity: dict[str, Any]) -> datetime:
    """The activity's timestamp (now when missing or unreadable)."""
    try:
        return datetime.fromisoformat(str(activity["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return datetime.now(UTC)


def bot_added(activity: dict[str, Any]) -> bool | None:
    """True when the activity installs or adds the bot, False when it removes it, None otherwise."""
    kind = activity.get("type")
    if kind == "installationUpdate":
        action = str(activity.get("action") or "")
        return True if action.startswith("add") else False if action == "remove" else None
    if kind == "conversationUpdate":
        bot = (activity.get("recipient") or {}).get("id")
        if any(m.get("id") == bot for m in activity.get("membersAdded") or []):
            return True
        if any(m.get("id") == bot for m in activity.get("membersRemoved") or []):
            return False
    return None


def reference_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The conversation reference to keep for proactive messages (None without a conversation or URL)."""
    conversation = activity.get("conversation") or {}
    if not conversation.get("id") or not activity.get("serviceUrl") or not tenant_of(activity):
        return None
    kind = conversation_type(activity)
    channel_data = activity.get("channelData") or {}
    sender = activity.get("from") or {}
    conversation_id = str(conversation["id"])
    reference = {
        "tenant_key": tenant_of(activity),
        "conversation_id": channel_conversation(conversation_id) if kind == "channel" else conversation_id,
        "conversation_type": kind,
        "service_url": str(activity["serviceUrl"]),
        "bot_id": str((activity.get("recipient") or {}).get("id") or ""),
        "team_id": str((channel_data.get("team") or {}).get("id") or ""),
    }
    if kind == "personal" and sender.get("id") and sender.get("id") != reference["bot_id"]:
        reference.update(user_id=user_of(sender), account_id=str(sender["id"]), name=str(sender.get("name") or ""))
    elif kind == "channel":
        reference["name"] = str((channel_data.get("channel") or {}).get("name") or conversation.get("name") or "")
    return reference


def accounts_of(activity: dict[str, Any], mentioned: bool = True) -> list[dict[str, Any]]:
    """Teams accounts the activity shows (sender, members added and, with ``mentioned``, people mentioned),
    bots left out."""
    bot = (activity.get("recipient") or {}).get("id")
    found = [activity.get("from") or {}, *(activity.get("membersAdded") or [])]
    if mentioned:
        found += [e.get("mentioned") or {} for e in activity.get("entities") or [] if e.get("type") == "mention"]
    out: dict[str, dict[str, Any]] = {}
    for account in found:
        account_id = str(account.get("id") or "")
        if not account_id.startswith("29:") or account_id == bot:
            continue
        known = out.setdefault(
            account_id,
            {"account_id": account_id, "user_id": "", "name": "", "service_url": str(activity.get("serviceUrl") or "")},
        )
        known["user_id"] = known["user_id"] or str(account.get("aadObjectId") or "")
        known["name"] = known["name"] or str(account.get("name") or "")
    return list(out.values())


def readable(activity: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str], bool]:
    """The text as typed, mentions as neutral words; returns (text, mentions, channels, whether the bot was
    mentioned), each word mapped to the person's or the channel's id. Only the first ``READ_LIMIT``
    characters are read (see :func:`event_of`)."""
    text = str(activity.get("text") or "")[:READ_LIMIT]
    bot = (activity.get("recipient") or {}).get("id")
    mentions: dict[str, str] = {}
    channels: dict[str, str] = {}
    bot_mentioned = False
    for entity in activity.get("entities") or []:
        if entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        shown = str(entity.get("text") or "")
        if not shown or shown not in text:
            continue
        account = str(mentioned.get("id") or "")
        if account == bot:
            bot_mentioned = True
            text = text.replace(shown, " ")
            continue
        name = _AT.sub(r"\1", shown) or str(mentioned.get("name") or "")
        if account.startswith("19:"):
            word = mention_word("#", name, channels, account)
            channels[word] = account
        else:
            who = str(mentioned.get("aadObjectId") or account)
            word = mention_word("@", name, mentions, who)
            mentions[word] = who
        text = text.replace(shown, word)
    text = _AT.sub(r"\1", text).replace("\u00a0", " ")
    return " ".join(text.split()), mentions, channels, bot_mentioned


def card_data(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The data of a pressed card button: an ``Action.Submit`` message's value, or an invoke's action data."""
    value = activity.get("value")
    if not isinstance(value, dict):
        return None
    if activity.get("type") == "invoke":
        data = (value.get("action") or {}).get("data")
        return data if isinstance(data, dict) else None
    return value


def _typed(kind: str, data: dict[str, Any]) -> str:
    value = field_value(kind, ANSWER_INPUT, data)
    return ", ".join(value) if isinstance(value, list) else str(value or "")


def event_of(activity: dict[str, Any]) -> InboundEvent | None:
    """The neutral event for an activity, or None for activities the engine has nothing to do with."""
    kind = activity.get("type")
    sender = activity.get("from") or {}
    bot = (activity.get("recipient") or {}).get("id")
    tenant = tenant_of(activity)
    if not tenant or not sender.get("id") or sender.get("id") == bot:
        return None
    common: dict[str, Any] = dict(
        platform=Platform.TEAMS,
        tenant=tenant,
        user=user_of(sender),
        user_name=str(sender.get("name") or ""),
        conversation=str((activity.get("conversation") or {}).get("id") or ""),
        occurred_at=when(activity),
        time_zone=time_zone_of(activity),
    )
    personal = conversation_type(activity) == "personal"
    if kind in ("conversationUpdate", "installationUpdate"):
        if personal and bot_added(activity):  # both activities of one install share this id: one welcome
            return InboundEvent(event_id=f"welcome:{common['conversation']}", text="help", kind="command", **common)
        return None
    if not activity.get("id") or kind not in ("message", "invoke"):
        return None
    if kind == "invoke" and activity.get("name") != CARD_ACTION:
        return None
    common["event_id"] = str(activity["id"])
    data = card_data(activity)
    if data is not None and data.get(ACTION):
        event = _pressed(data, common)
        if event is None:
            return None
        shown = pressed_in(activity, data, event.text if event.action is None else "")
        return event.model_copy(update={"pressed": shown}) if shown is not None else event
    if kind != "message":
        return None
    typed, mentions, channels, bot_mentioned = readable(activity)
    if not typed and not bot_mentioned:
        return None
    text, addressed = address(typed, LEADING)
    raw = len(str(activity.get("text") or ""))
    text, text_length = capped(text, raw if raw > READ_LIMIT else 0)
    return InboundEvent(
        text=text,
        text_length=text_length,
        mentions=mentions,
        channels=channels,
        addressed=addressed,
        kind="message" if personal else "command",
        **common,
    )


def _pressed(data: dict[str, Any], common: dict[str, Any]) -> InboundEvent | None:
    action = str(data[ACTION])
    if action == ANSWER:
        text = str(data.get(VALUE) or "") or _typed(str(data.get(KIND) or "text"), data)
        return InboundEvent(text=text, kind="message", **common)
    if action == PICK:
        if not data.get(PICK_ACTION):
            return None
        return InboundEvent(
            action=Action(id=str(data[PICK_ACTION]), value=str(data.get(PICK_INPUT) or "")), kind="action", **common
        )
    if action == FORM_SUBMIT:
        declared = data.get(FORM_FIELDS)
        fields = declared if isinstance(declared, dict) else {}
        values = {fid: field_value(str(fkind), FORM_PREFIX + fid, data) for fid, fkind in fields.items()}
        return InboundEvent(
            action=Action(
                id=str(data.get(FORM_ACTION) or ""),
                value=str(data.get(VALUE) or ""),  # the questionnaire the form belongs to
                values={k: v for k, v in values.items() if v is not None},
            ),
            kind="action",
            **common,
        )
    return InboundEvent(action=Action(id=action, value=str(data.get(VALUE) or "")), kind="action", **common)

"""Telling whoever asked for a post in a channel that it could not be made, and how to fix it.

A post in a conversation (``program announce #channel``) has no recipients of its own, so when the platform
refuses it (Slack: the bot is not in that private channel, or it does not exist; Teams: the app is not in
that team) nobody would ever hear of it. The deliverer calls :func:`report_unreachable` instead: the person
who asked (``OutgoingMessage.requested_by``; else the programme's coordinators) gets a direct message,
queued once, naming the channel as people know it and saying how to let the bot in.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.model import Address, OutgoingMessage
from bot.ports import Store
from bot.wording import say

log = logging.getLogger(__name__)
NOTICE_KEY = "unreachable:"


def channel_name(address: Address) -> str:
    """The conversation as people know it: its label (``#general``), else what the message was addressed to."""
    return address.label or address.conversation


def report_unreachable(store: Store, message: OutgoingMessage, platform: str, wording: str, **values: Any) -> int:
    """Queue the ``wording`` message (with ``channel``, ``programme`` and ``values``) for whoever asked for
    ``message``, a post in a conversation that could not be made; returns how many people were told. Never
    raises: the failed post itself is recorded whatever happens here."""
    if message.to.kind != "conversation" or message.idempotency_key.startswith(NOTICE_KEY):
        return 0
    try:
        with store.unit_of_work() as uow:
            programme = uow.programmes.get(message.programme_id) if message.programme_id is not None else None
            if message.requested_by is not None:
                people = [message.requested_by]
            else:
                people = uow.coordinators.of_programme(programme.id) if programme is not None else []
            text = say(
                wording,
                channel=channel_name(message.to),
                programme=programme.name if programme is not None else "",
                **values,
            )
            told = 0
            for person_id in people:
                notice = OutgoingMessage(
                    tenant_id=message.tenant_id,
                    to=Address.person(person_id),
                    idempotency_key=f"{NOTICE_KEY}{message.idempotency_key}:{person_id}"[:300],
                    text=text,
                )
                if uow.outbox.add(notice, platform=platform):
                    told += 1
        return told
    except Exception:  # noqa: BLE001 - a note about a failed post must never stop delivery
        log.exception("could not tell anyone that a post in %s failed", channel_name(message.to))
        return 0

"""The App Home tab, published on ``app_home_opened``: the neutral dashboard as a Slack home view.

The content is :mod:`bot.reports.dashboard` (the same view the ``dashboard`` command sends in Teams and
on the console); this module only reads it from the store and renders it with the Block Kit renderer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View

from adapters.slack.mrkdwn import label
from adapters.slack.render import MAX_MODAL_BLOCKS, context_blocks, message_blocks, text_sections
from bot.commands.registry import Registry
from bot.model import OutgoingMessage, Platform
from bot.ports import Store
from bot.reports.dashboard import build_dashboard, dashboard_message
from bot.wording import say


def load(store: Store, team: str, user: str, registry: Registry, now: datetime) -> OutgoingMessage | None:
    """The dashboard of the person behind a Slack user; None when the store does not know them."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find(Platform.SLACK.value, team)
        person = tenant and uow.people.by_identity(tenant.id, Platform.SLACK.value, user)
        if not tenant or not person:
            return None
        return dashboard_message(
            build_dashboard(uow, person, registry, now), tenant.id, person.id, f"home:{team}:{user}"
        )


def home_blocks(board: OutgoingMessage | None, updated: datetime) -> list[Block]:
    """Every block of the home tab, in order (the caller keeps the first 100)."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=label(say("slack.home.title"), 150)))]
    if board is None:
        return blocks + text_sections(say("dashboard.stranger"))
    footer = context_blocks([say("slack.home.updated", when=updated.strftime("%Y-%m-%d %H:%M UTC"))])
    return blocks + message_blocks(board)[: MAX_MODAL_BLOCKS - len(blocks) - len(footer)] + footer


def home_view(board: OutgoingMessage | None, updated: datetime) -> dict[str, Any]:
    """The home tab as a validated view (slack_sdk checks its limits; at most 100 blocks)."""
    return View(type="home", blocks=home_blocks(board, updated)[:MAX_MODAL_BLOCKS]).to_dict()

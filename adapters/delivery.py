"""The deliverers of the platforms this deployment serves (Slack and Teams plug in here)."""

from __future__ import annotations

from adapters.settings import Settings
from bot.ports import Deliverer


def deliverers_for(settings: Settings) -> list[Deliverer]:
    """Deliverers for every configured platform. Console messages wait for the console to show them."""
    deliverers: list[Deliverer] = []
    return deliverers

"""The deliverers of the platforms this deployment serves (Slack and Teams plug in here)."""

from __future__ import annotations

from adapters.settings import Settings
from bot.ports import Deliverer, Store


def deliverers_for(settings: Settings, store: Store | None = None) -> list[Deliverer]:
    """Deliverers for every configured platform. Console messages wait for the console to show them.

    ``store`` (the open store) is needed by platforms that look people up and keep their own records."""
    from adapters.redaction import protect_settings

    protect_settings(settings)
    deliverers: list[Deliverer] = []
    if settings.slack_configured and store is not None:
        from adapters.slack.delivery import make_deliverer

        deliverers.append(make_deliverer(settings, store))
    if settings.teams_configured and store is not None:
        from adapters.teams.delivery import make_deliverer as make_teams_deliverer

        deliverers.append(make_teams_deliverer(settings, store))
    return deliverers

"""What the fake Slack records and answers with: a recorded Web API call, Slack's rate tiers and the limits
the fake enforces, a ``users.info`` user object, and where the Slack conformance kit lives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "specs" / "slack"


@dataclass
class Call:
    """One Web API call the fake answered."""

    method: str
    args: dict[str, Any]
    token: str
    team: str
    at: float
    status: int = 200
    ok: bool = True


TIERS = json.loads((SPECS / "rate_limit_tiers.json").read_text(encoding="utf-8"))
"""Slack's Web API rate tiers (calls a minute per method and workspace) and the tier of each method the bot calls."""


def tier_limits(burst_share: float = 0.2, scale: float = 1.0) -> dict[str, tuple[float, float]]:
    """Slack's tiers as :attr:`Limits.methods`: (calls a minute, burst) per method, a burst being
    ``burst_share`` of a minute's calls."""
    per_minute = {method: TIERS["per_minute"][str(tier)] * scale for method, tier in TIERS["methods"].items()}
    return {method: (rate, max(1.0, rate * burst_share)) for method, rate in per_minute.items()}


@dataclass
class Limits:
    """Slack-like limits: ``workspace`` requests per second per team, ``per_channel`` posts a second, and
    ``methods``: per method, (calls a minute, burst) per team (see :func:`tier_limits`)."""

    workspace: float = 100.0
    per_channel: float = 1.0
    channel_burst: float = 3.0
    methods: dict[str, tuple[float, float]] = field(default_factory=dict)


def slack_user(
    user_id: str, name: str, email: str = "", title: str = "", tz: str = "Europe/London", is_bot: bool = False
) -> dict[str, Any]:
    """A ``users.info`` user object."""
    return {
        "id": user_id,
        "name": name.lower().replace(" ", "."),
        "real_name": name,
        "tz": tz,
        "is_bot": is_bot,
        "deleted": False,
        "profile": {"real_name": name, "display_name": name.split()[0], "email": email, "title": title},
    }

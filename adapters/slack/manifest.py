"""``manifest.yml``, the Slack app manifest at the project root, with this deployment's URLs filled in.

HTTP mode points the slash command, the event subscriptions and interactivity at ``URL/slack/events``
and the OAuth redirect at ``URL/slack/oauth_redirect``; Socket Mode drops the request URLs and switches
``socket_mode_enabled`` on.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parent.parent.parent / "manifest.yml"


@lru_cache(maxsize=1)
def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """The manifest as data."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def bot_scopes() -> list[str]:
    """The bot scopes the manifest asks for (the OAuth install asks for the same)."""
    return list(load_manifest()["oauth_config"]["scopes"]["bot"])


def filled(url: str = "", socket_mode: bool = False) -> dict[str, Any]:
    """The manifest for a server at ``url`` (https://host), or for Socket Mode."""
    manifest = copy.deepcopy(load_manifest())
    base = url.rstrip("/")
    events = f"{base}/slack/events"
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = socket_mode
    for command in manifest["features"].get("slash_commands", []):
        if socket_mode:
            command.pop("url", None)
        else:
            command["url"] = events
    if socket_mode:
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        manifest["oauth_config"].pop("redirect_urls", None)
    else:
        settings["event_subscriptions"]["request_url"] = events
        settings["interactivity"]["request_url"] = events
        manifest["oauth_config"]["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    return manifest


def render(url: str = "", socket_mode: bool = False) -> str:
    """The filled manifest as YAML, in the manifest's own key order."""
    return yaml.safe_dump(filled(url, socket_mode), sort_keys=False, allow_unicode=True, width=100)

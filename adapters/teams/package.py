"""``rmbot teams package``: the Teams app package (manifest.json and two icons, zipped at the root).

The manifest follows schema v1.22: the bot's id is MICROSOFT_APP_ID, it works in personal chats and in
teams, and its command lists come from the vocabulary in ``prompts/commands.yml`` (ten commands per
scope, the schema's limit; titles within 32 and descriptions within 128 characters, as Teams' app
validation asks). Names and descriptions come from ``prompts/messages/teams.yml``.
"""

from __future__ import annotations

import re
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

from adapters.teams import icons
from adapters.teams.markdown import plain
from bot.commands.registry import Registry, Verb
from bot.ports import Store
from bot.wording import say

MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.22"
COMMANDS_PER_LIST = 10
TITLE_MAX, DESCRIPTION_MAX = 32, 128
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class PackageError(ValueError):
    """The package cannot be built as asked (the message says why, for the operator)."""


def _cut(text: str, limit: int) -> str:
    return plain(text, limit)


def _pick(verbs: list[Verb], limit: int = COMMANDS_PER_LIST) -> list[dict[str, str]]:
    """The first ``limit`` verbs, those that work in this version first, in declaration order."""
    ordered = [v for v in verbs if v.handler is not None] + [v for v in verbs if v.handler is None]
    return [
        {"title": _cut(v.name, TITLE_MAX), "description": _cut(v.summary, DESCRIPTION_MAX)} for v in ordered[:limit]
    ]


def command_lists(registry: Registry) -> list[dict[str, Any]]:
    """Personal chat: what works for everyone, then coordinators' verbs; teams: coordinators' verbs."""
    verbs = list(registry.verbs.values())
    anyone = [v for v in verbs if v.who == "anyone"]
    coordinator = [v for v in verbs if v.who == "coordinator"]
    working = [v for v in anyone + coordinator if v.handler is not None]
    personal = working + [v for v in anyone if v.handler is None]
    helper = [v for v in anyone if v.name == "help"]
    team = helper + coordinator
    return [{"scopes": ["personal"], "commands": _pick(personal)}, {"scopes": ["team"], "commands": _pick(team)}]


def manifest(
    bot_id: str,
    website_url: str,
    *,
    version: str = "1.0.0",
    app_id: str = "",
    accent: str = "",
    privacy_url: str = "",
    terms_url: str = "",
    registry: Registry | None = None,
) -> dict[str, Any]:
    """The manifest.json of the app package."""
    if not SEMVER.match(version):
        raise PackageError(say("teams.package.bad_version", given=version))
    accent = accent or icons.load()["accent"]
    if not HEX.match(accent):
        raise PackageError(say("teams.package.bad_color", given=accent))
    if not website_url.startswith("https://"):
        raise PackageError(say("teams.package.needs_url"))
    base = website_url.rstrip("/")
    if registry is None:
        from bot.engine import Engine

        registry = Engine().registry
    document: dict[str, Any] = {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id or bot_id,
        "developer": {
            "name": _cut(say("teams.package.developer"), 32),
            "websiteUrl": website_url,
            "privacyUrl": privacy_url or f"{base}/privacy",
            "termsOfUseUrl": terms_url or f"{base}/terms",
        },
        "name": {"short": _cut(say("teams.package.short_name"), 30), "full": _cut(say("teams.package.full_name"), 100)},
        "description": {
            "short": _cut(say("teams.package.short_description"), 80),
            "full": _cut(say("teams.package.full_description"), 4000),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": accent,
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal", "team"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": command_lists(registry),
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "defaultInstallScope": "personal",
    }
    host = urllib.parse.urlsplit(website_url).hostname
    if host:
        document["validDomains"] = [host]
    return document


def build(out: Path, bot_id: str, website_url: str, **options: Any) -> dict[str, Any]:
    """Write the zip (manifest.json, color.png, outline.png at its root); returns the manifest."""
    import json

    document = manifest(bot_id, website_url, **options)
    icon = icons.load()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        archive.writestr("color.png", icons.colour_icon(icon, document["accentColor"], 192))
        archive.writestr("outline.png", icons.outline_icon(icon, 32))
    return document


def build_for_cli(
    settings: Any, out_file: str, *, website_url: str = "", app_id: str = "", **options: Any
) -> tuple[bool, str]:
    """``rmbot teams package``: (True, what was written) or (False, why not)."""
    from adapters.teams.auth import GUID

    if not GUID.match(settings.microsoft_app_id or ""):
        return False, say("teams.package.needs_app_id")
    if app_id and not GUID.match(app_id):
        return False, say("teams.config.app_id", given=app_id)
    try:
        document = build(
            Path(out_file),
            settings.microsoft_app_id,
            website_url or settings.rmbot_public_url,
            app_id=app_id,
            **options,
        )
    except PackageError as problem:
        return False, str(problem)
    return True, plain(
        say("teams.package.written", path=out_file, bot_id=settings.microsoft_app_id, version=document["version"]), 1000
    )


def unconfirmed_report(store: Store, limit: int = 100) -> str:
    """``rmbot teams unconfirmed``: posts whose outcome is unknown, one line each."""
    rows = store.teams.unconfirmed(limit)
    if not rows:
        return plain(say("teams.unconfirmed.none"), 500)
    lines = [plain(say("teams.unconfirmed.header", count=len(rows)), 500)]
    lines += [
        plain(
            say(
                "teams.unconfirmed.line",
                outbox=row.outbox_id,
                person=row.person_id or "-",
                conversation=row.conversation_id,
                when=row.updated_at,
                error=row.error,
            ),
            2000,
        )
        for row in rows
    ]
    return "\n".join(lines)

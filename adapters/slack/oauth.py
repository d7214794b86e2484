"""Installing to many workspaces: OAuth at ``/slack/install`` and ``/slack/oauth_redirect``.

Installations live in our database (tables ``slack_installations`` and ``slack_bots``, created by
migration 0003), reached through the store's ``bot.ports.SlackRecords`` port, behind slack_sdk's
``AsyncInstallationStore`` interface. Each install
also creates the workspace's tenant, and the person who installed is offered the coordinator role there
(``SlackService.installed``; ``bot/grants.py``). The OAuth ``state`` is signed with ``SLACK_STATE_SECRET`` and
expires after ten minutes, so any replica can finish an install another one started.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from logging import Logger
from typing import Any

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Platform
from bot.ports import Store

log = logging.getLogger(__name__)
STATE_LIFETIME = 600
ROTATE_BEFORE_MINUTES = 120
"""With token rotation, a bot token is exchanged for a new one when it expires within this many minutes."""
OnInstall = Callable[[str, str, str], Awaitable[None]]
"""Called after an install is kept, with the workspace (team id), the installer's user id and the new bot token."""


def _entity(row: dict[str, Any], kind: type) -> Any:
    """An ``Installation`` or ``Bot`` from one of our rows."""
    fields = {k: v for k, v in row.items() if k not in ("id", "client_id")}
    if kind is Bot:
        fields = {k: v for k, v in fields.items() if k in _BOT_FIELDS}
    if isinstance(fields.get("installed_at"), datetime):
        fields["installed_at"] = fields["installed_at"].replace(tzinfo=UTC).timestamp()
    for name in ("bot_token_expires_at", "user_token_expires_at"):
        if isinstance(fields.get(name), datetime):
            fields[name] = fields[name].replace(tzinfo=UTC)
    return kind(**fields)


def bot_of(row: dict[str, Any]) -> Bot:
    """A stored bot row as slack_sdk's ``Bot`` (what its ``TokenRotator`` refreshes)."""
    found: Bot = _entity(row, Bot)
    return found


_BOT_FIELDS = {
    "app_id",
    "enterprise_id",
    "enterprise_name",
    "team_id",
    "team_name",
    "bot_token",
    "bot_id",
    "bot_user_id",
    "bot_scopes",
    "bot_refresh_token",
    "bot_token_expires_at",
    "is_enterprise_install",
    "installed_at",
}


def tenant_of(installation: Installation) -> str:
    """The tenant an installation serves: the enterprise for an org-wide install, else the workspace."""
    if installation.is_enterprise_install and installation.enterprise_id:
        return installation.enterprise_id
    return installation.team_id or installation.enterprise_id or ""


class DbInstallationStore(AsyncInstallationStore):
    """slack_sdk's installation store interface over the store's Slack records (``bot.ports.SlackRecords``)."""

    def __init__(self, store: Store, client_id: str, on_install: OnInstall | None = None) -> None:
        self.store = store
        self.client_id = client_id
        self.on_install = on_install

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        """Keep an installation (and its bot), make sure the tenant exists (the workspace, or the whole organisation
        for an org-wide install on Enterprise Grid), resume it if it had removed the app (its held messages are
        due at once), and tell ``on_install`` who installed it (a failure there is logged: the installation itself
        is kept)."""
        bot = installation.to_bot().to_dict() if installation.bot_token else None
        team = tenant_of(installation)
        name = (installation.enterprise_name if installation.is_enterprise_install else None) or installation.team_name
        await asyncio.to_thread(self.store.slack.save_installation, self.client_id, installation.to_dict(), bot)
        await asyncio.to_thread(self._tenant, team, name or installation.enterprise_name or "")
        resumed = await asyncio.to_thread(self.store.slack.reinstalled, team, datetime.now(UTC))
        if resumed:
            log.info("Slack tenant %s installed the app again: %d held messages are due", team, resumed)
        if self.on_install is not None and installation.user_id and installation.bot_token:
            try:
                await self.on_install(team, installation.user_id, installation.bot_token)
            except Exception:  # noqa: BLE001 - the workspace is installed; only the installer's offer is lost
                log.exception("offering the coordinator role to whoever installed workspace %s failed", team)

    def _tenant(self, team: str, name: str) -> None:
        with self.store.unit_of_work() as uow:
            uow.tenants.ensure(Platform.SLACK.value, team, name)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.slack.save_installation, self.client_id, None, bot.to_dict())

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        team_id = None if is_enterprise_install else team_id
        row = await asyncio.to_thread(self.store.slack.find_bot, self.client_id, enterprise_id, team_id)
        return _entity(row, Bot) if row else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team_id = None if is_enterprise_install else team_id
        row = await asyncio.to_thread(
            self.store.slack.find_installation, self.client_id, enterprise_id, team_id, user_id
        )
        return _entity(row, Installation) if row else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.slack.remove, self.client_id, enterprise_id, team_id, bots=True)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.store.slack.remove, self.client_id, enterprise_id, team_id, bots=False, user_id=user_id
        )


class SignedStateStore(AsyncOAuthStateStore):
    """OAuth states that need no storage: a random nonce, an expiry, and an HMAC over both."""

    def __init__(self, secret: str, lifetime: int = STATE_LIFETIME) -> None:
        self.key = secret.encode()
        self.lifetime = lifetime

    @property
    def logger(self) -> Logger:
        return log

    def _sign(self, body: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self.key, body.encode(), hashlib.sha256).digest()).decode().rstrip("=")

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        body = f"{secrets.token_urlsafe(16)}.{int(time.time()) + self.lifetime}"
        return f"{body}.{self._sign(body)}"

    async def async_consume(self, state: str) -> bool:
        body, _, signature = state.rpartition(".")
        expires = body.rpartition(".")[2]
        return (
            bool(body)
            and hmac.compare_digest(signature, self._sign(body))
            and expires.isdecimal()
            and int(expires) >= time.time()
        )


def oauth_settings(
    store: Store,
    client_id: str,
    client_secret: str,
    state_secret: str,
    scopes: list[str],
    on_install: OnInstall | None = None,
    api_url: str = "",
) -> AsyncOAuthSettings:
    """Bolt's OAuth settings: our installation store (telling ``on_install`` who installed), signed states, the
    manifest's bot scopes, and bot tokens refreshed (token rotation) through the Web API at ``api_url``."""
    installations = DbInstallationStore(store, client_id, on_install)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=scopes,
        installation_store=installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MINUTES,
        state_store=SignedStateStore(state_secret),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )
    settings.authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MINUTES,
        bot_only=True,
        client=AsyncWebClient(base_url=api_url) if api_url else None,
    )
    return settings

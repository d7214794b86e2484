"""Bot Framework authentication, through botbuilder: the inbound JWT check and the outbound bot token.

This is the only module that imports botbuilder (archived upstream; its successor is the Microsoft 365
Agents SDK): moving SDKs changes this file (and the tests, which speak the protocol, not at all).

* Inbound: with ``MICROSOFT_APP_ID`` set, every request must carry a Bot Framework JWT, signed by a key
  published at the OpenID metadata URL (Microsoft's, or ``TEAMS_OPENID_METADATA_URL`` for other clouds
  and tests), issued by ``https://api.botframework.com``, for this app (``aud``) and this activity's
  service URL. Anything else is refused with 401. Without an app id, requests are not authenticated.
* Outbound: the bot's access token for the connector, from Microsoft Entra ID: the bot's own tenant
  (``login.microsoftonline.com/<tenant id>``) for a single-tenant bot, the default and the only kind Azure
  creates now; ``botframework.com`` for a bot registered as multi-tenant before (``tokens.py``, no SDK); Azure's
  instance metadata for a user-assigned managed identity (botbuilder's ``ManagedIdentityAppCredentials``).
  Inbound tokens are the Bot Framework's whatever the bot's type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from adapters.settings import ConfigurationError, Settings
from adapters.teams.tokens import MULTI_TENANT_AUTHORITY, ClientCredentials
from bot.wording import say

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def app_type(settings: Settings) -> str:
    """The canonical spelling of MICROSOFT_APP_TYPE (raises ConfigurationError for anything else)."""
    canonical = APP_TYPES.get(settings.microsoft_app_type.replace("-", "").replace("_", "").lower())
    if canonical is None:
        raise ConfigurationError(say("teams.config.app_type", given=settings.microsoft_app_type))
    return canonical


def check_settings(settings: Settings) -> None:
    """Refuse, in one line, Teams credentials that cannot work."""
    kind = app_type(settings)
    if not settings.microsoft_app_id:
        return
    if not GUID.match(settings.microsoft_app_id):
        raise ConfigurationError(say("teams.config.app_id", given=settings.microsoft_app_id))
    if kind != "UserAssignedMSI" and not settings.microsoft_app_password:
        raise ConfigurationError(say("teams.config.password", app_type=kind))
    if kind != "MultiTenant" and not settings.microsoft_app_tenant_id:
        raise ConfigurationError(say("teams.config.tenant", app_type=kind))
    if not settings.teams_login_url.startswith("https://"):
        raise ConfigurationError(say("teams.config.login_url", given=settings.teams_login_url))
    if settings.rmbot_public_url and not settings.rmbot_public_url.startswith("https://"):
        raise ConfigurationError(say("teams.config.public_url", given=settings.rmbot_public_url))


def configuration(settings: Settings) -> SimpleNamespace:
    """The configuration object botbuilder's ``ConfigurationBotFrameworkAuthentication`` reads."""
    values: dict[str, Any] = {
        "APP_ID": settings.microsoft_app_id or None,
        "APP_PASSWORD": settings.microsoft_app_password or None,
        "APP_TENANTID": settings.microsoft_app_tenant_id or None,
        # without an app id nothing is authenticated (local testing), whatever the type
        "APP_TYPE": app_type(settings) if settings.microsoft_app_id else "MultiTenant",
    }
    if settings.teams_openid_metadata_url:
        # Any explicit endpoint switches botbuilder to its "parameterized" mode, which then needs every
        # public-cloud constant spelled out; only the metadata URL differs.
        from botbuilder.schema import CallerIdConstants
        from botframework.connector.auth import AuthenticationConstants as Public

        values.update(
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.teams_openid_metadata_url,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=Public.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=Public.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=Public.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            OAUTH_URL=Public.OAUTH_URL,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=Public.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
            CALLER_ID=CallerIdConstants.public_azure_channel,
        )
    return SimpleNamespace(**values)


def make_authentication(settings: Settings) -> Any:
    """botbuilder's aiohttp-integration authentication (``ConfigurationBotFrameworkAuthentication``).

    Only its ``authenticate_request`` is used: running the turn through ``CloudAdapter.process_activity``
    would build a connector client and a token client for every activity (a request then took about
    30 ms instead of 3), and nothing here replies through the turn: replies go through the outbox."""
    from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

    return ConfigurationBotFrameworkAuthentication(configuration(settings))


def parse_activity(body: dict[str, Any]) -> Any:
    """The activity as botbuilder's schema reads it (what authentication looks at)."""
    from botbuilder.schema import Activity

    return Activity().deserialize(body)


def is_metadata_outage(exc: BaseException) -> bool:
    """The signing keys could not be fetched (Microsoft unreachable): not the caller's fault."""
    import requests

    return isinstance(exc, requests.RequestException)


def token_source(settings: Settings) -> Callable[[], str | None]:
    """A function giving the bot's current access token for the connector (None without credentials): from the
    bot's own tenant for a single-tenant bot, from ``botframework.com`` for a multi-tenant one (both in
    ``adapters/teams/tokens.py``), from Azure's instance metadata for a user-assigned managed identity."""
    if not settings.microsoft_app_id:
        return lambda: None
    kind = app_type(settings)
    if kind == "UserAssignedMSI":
        from botframework.connector.auth import ManagedIdentityAppCredentials

        credentials: Any = ManagedIdentityAppCredentials(settings.microsoft_app_id)
        return credentials.get_access_token
    tenant = settings.microsoft_app_tenant_id if kind == "SingleTenant" else MULTI_TENANT_AUTHORITY
    return ClientCredentials(
        settings.teams_login_url, tenant, settings.microsoft_app_id, settings.microsoft_app_password
    )

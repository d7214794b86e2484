"""Bot Framework authentication and the activity model, through the Microsoft 365 Agents SDK and PyJWT.

The adapter left the archived botbuilder for the Agents SDK's packages that fit it: ``microsoft-agents-activity``
(the protocol's activity model, :func:`parse_activity`) and ``microsoft-agents-authentication-msal`` (the
managed identity's token). Only ``adapters/teams/`` imports the SDK; the tests speak the protocol.

* Inbound: with ``MICROSOFT_APP_ID`` set, every request must carry a Bot Framework JWT, signed by a key
  published at the OpenID metadata URL (Microsoft's, or ``TEAMS_OPENID_METADATA_URL`` for other clouds
  and tests) and endorsed for the activity's channel, issued by ``https://api.botframework.com``, for this
  app (``aud``), unexpired, and for this activity's service URL (:mod:`adapters.teams.channel_auth`; the keys
  are fetched asynchronously and kept, :mod:`adapters.teams.signing_keys`). Anything else is refused with
  401. Without an app id, requests are not authenticated.
* Outbound: the bot's access token for the connector, from Microsoft Entra ID: the bot's own tenant
  (``login.microsoftonline.com/<tenant id>``) for a single-tenant bot, the default and the only kind Azure
  creates now; ``botframework.com`` for a bot registered as multi-tenant before (``tokens.py``, MSAL); Azure's
  instance metadata for a user-assigned managed identity (``managed_identity.py``, the Agents SDK's ``MsalAuth``).
  Inbound tokens are the Bot Framework's whatever the bot's type.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from microsoft_agents.activity import Activity
from pydantic import ValidationError

from adapters.settings import ConfigurationError, Settings
from adapters.teams.channel_auth import ChannelAuthentication
from adapters.teams.managed_identity import ManagedIdentityToken
from adapters.teams.signing_keys import SigningKeys, SigningKeysUnavailable
from adapters.teams.tokens import MULTI_TENANT_AUTHORITY, ClientCredentials
from bot.wording import say


class _ReportedByTheService(logging.Filter):
    """The SDK logs every activity its model cannot read as an ERROR with a traceback (and the offending
    input); the service refuses such a request with 400 and logs one warning itself, so that record goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Validation error for Activity")


logging.getLogger("microsoft_agents.activity.activity").addFilter(_ReportedByTheService())

DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
"""Where the Bot Framework publishes the keys that sign its tokens (public cloud)."""

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
    from adapters.teams.graph import check_graph_settings

    check_graph_settings(settings)
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


class BadActivity(ValueError):
    """The body is not an activity the protocol model can read (answered 400)."""


def make_authentication(settings: Settings) -> ChannelAuthentication:
    """The inbound token check (:mod:`adapters.teams.channel_auth`), with the signing keys read from
    ``TEAMS_OPENID_METADATA_URL`` (Microsoft's by default). Without an app id it lets everything in."""
    return ChannelAuthentication(
        settings.microsoft_app_id, SigningKeys(settings.teams_openid_metadata_url or DEFAULT_OPENID_METADATA_URL)
    )


def parse_activity(body: dict[str, Any]) -> Activity:
    """The activity as the Agents SDK's protocol model reads it (raises :class:`BadActivity` when it cannot)."""
    try:
        return Activity.model_validate(body)
    except ValidationError as problem:
        where = sorted({".".join(map(str, error["loc"])) or "activity" for error in problem.errors()})
        raise BadActivity(f"unreadable {', '.join(where)[:200]}") from None
    except Exception as problem:  # noqa: BLE001 - the SDK's own checks (channel id, product info) raise others
        raise BadActivity(f"unreadable activity: {str(problem).splitlines()[0][:200]}") from None


def channel_of(activity: Activity) -> str:
    """The channel the activity says it comes from (``msteams``), without a sub-channel."""
    return activity.channel_id.channel if activity.channel_id else ""


def is_metadata_outage(exc: BaseException) -> bool:
    """The signing keys could not be fetched (Microsoft unreachable): not the caller's fault."""
    return isinstance(exc, SigningKeysUnavailable)


def token_source(settings: Settings) -> Callable[[], str | None]:
    """A function giving the bot's current access token for the connector (None without credentials): from the
    bot's own tenant for a single-tenant bot, from ``botframework.com`` for a multi-tenant one (both in
    ``adapters/teams/tokens.py``), from Azure's instance metadata for a user-assigned managed identity."""
    if not settings.microsoft_app_id:
        return lambda: None
    kind = app_type(settings)
    if kind == "UserAssignedMSI":
        return ManagedIdentityToken(settings.microsoft_app_id)
    tenant = settings.microsoft_app_tenant_id if kind == "SingleTenant" else MULTI_TENANT_AUTHORITY
    return ClientCredentials(
        settings.teams_login_url, tenant, settings.microsoft_app_id, settings.microsoft_app_password
    )

"""The bot's own access token for the Bot Framework connector: the OAuth 2.0 client-credentials grant at
Microsoft Entra ID, through MSAL (``msal.ConfidentialClientApplication``).

A single-tenant bot (the default, and the only kind Azure creates for new bots) asks its own tenant,
``{TEAMS_LOGIN_URL}/{MICROSOFT_APP_TENANT_ID}``; a bot registered as multi-tenant before Azure stopped offering
that asks ``…/botframework.com``. Either way the scope is the connector's, ``https://api.botframework.com/.default``.
MSAL keeps the token in its cache, for every thread that sends, and fetches a new one shortly before it expires.
(A user-assigned managed identity gets its token from Azure's instance metadata instead: see
``adapters/teams/auth.py``.)
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

import msal
import requests

SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT_AUTHORITY = "botframework.com"
KNOWN_LOGIN_HOSTS = {"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}
"""Microsoft's own sign-in hosts; MSAL validates any other authority by its OpenID metadata alone."""


class TokenError(RuntimeError):
    """No token: Microsoft Entra ID refused the credentials, answered nonsense, or could not be reached."""


class ClientCredentials:
    """A callable giving the bot's current token for the connector (or, with ``scope``, another API such as
    Microsoft Graph), fetched when needed.

    ``http_client`` is MSAL's transport (a ``requests.Session`` by default); tests give one that reaches a
    local fake of Microsoft Entra ID."""

    def __init__(
        self,
        login_url: str,
        tenant: str,
        app_id: str,
        secret: str,
        http_client: requests.Session | None = None,
        scope: str = SCOPE,
    ) -> None:
        self.authority = f"{login_url.rstrip('/')}/{urllib.parse.quote(tenant, safe='')}"
        self._app_id, self._secret, self._http_client = app_id, secret, http_client
        self.scope = scope
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """The current token (raises :class:`TokenError` when none can be had)."""
        with self._lock:
            try:
                result: dict[str, Any] = self._application().acquire_token_for_client(scopes=[self.scope]) or {}
            except (requests.RequestException, ValueError) as failure:
                raise TokenError(f"no token from {self.authority}: {type(failure).__name__}") from None
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            # the OAuth error code only (``invalid_client``…), never its description: that may echo what was sent
            raise TokenError(f"{self.authority} refused the bot's credentials: {str(result.get('error', ''))[:80]}")
        return token

    def _application(self) -> msal.ConfidentialClientApplication:
        """MSAL's client, made on first use (it reads the authority's metadata then, not at start-up)."""
        if self._app is None:
            host = urllib.parse.urlsplit(self.authority).hostname or ""
            self._app = msal.ConfidentialClientApplication(
                self._app_id,
                client_credential=self._secret,
                authority=self.authority,
                http_client=self._http_client,
                instance_discovery=None if host in KNOWN_LOGIN_HOSTS else False,
            )
        return self._app

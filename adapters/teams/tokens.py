"""The bot's own access token for the Bot Framework connector: the OAuth 2.0 client-credentials grant at
Microsoft Entra ID.

A single-tenant bot (the default, and the only kind Azure creates for new bots) asks its own tenant,
``{TEAMS_LOGIN_URL}/{MICROSOFT_APP_TENANT_ID}/oauth2/v2.0/token``; a bot registered as multi-tenant before
Azure stopped offering that asks ``…/botframework.com/oauth2/v2.0/token``. Either way the scope is the
connector's, ``https://api.botframework.com/.default``. The token is kept, for every thread that sends, until
five minutes before it expires. (A user-assigned managed identity gets its token from Azure's instance metadata
instead: see ``adapters/teams/auth.py``.)
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT_AUTHORITY = "botframework.com"
REFRESH_MARGIN = 300.0
"""Seconds before its expiry that a kept token is replaced."""
TIMEOUT = 10.0


class TokenError(RuntimeError):
    """No token: Microsoft Entra ID refused the credentials, answered nonsense, or could not be reached."""


class ClientCredentials:
    """A callable giving the bot's current token for the connector, fetched when needed."""

    def __init__(
        self, login_url: str, tenant: str, app_id: str, secret: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = f"{login_url.rstrip('/')}/{urllib.parse.quote(tenant, safe='')}/oauth2/v2.0/token"
        self._form = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret, "scope": SCOPE}
        ).encode()
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def __call__(self) -> str:
        """The current token (raises :class:`TokenError` when none can be had)."""
        with self._lock:
            if not self._token or self._clock() >= self._expires - REFRESH_MARGIN:
                self._token, lifetime = self._fetch()
                self._expires = self._clock() + lifetime
            return self._token

    def _fetch(self) -> tuple[str, float]:
        request = urllib.request.Request(
            self.url,
            data=self._form,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - an https:// URL
                answer: Any = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as refused:
            raise TokenError(
                f"{self.url} refused the bot's credentials: HTTP {refused.code} {_error_code(refused)}"
            ) from None
        except (OSError, ValueError) as failure:
            raise TokenError(f"no answer from {self.url}: {type(failure).__name__}: {failure}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenError(f"{self.url} gave no access token")
        try:
            lifetime = float(answer.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return token, lifetime


def _error_code(refused: urllib.error.HTTPError) -> str:
    """The OAuth error code of a refusal (``invalid_client``…), never its body: that may echo what was sent."""
    try:
        body = json.loads(refused.read() or b"{}")
    except (OSError, ValueError):
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return str(code)[:80] if code else ""

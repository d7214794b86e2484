"""The bot's token for the connector from a user-assigned managed identity (``MICROSOFT_APP_TYPE=UserAssignedMSI``).

Through the Microsoft 365 Agents SDK's MSAL provider (``microsoft_agents.authentication.msal.MsalAuth``, an
MSAL ``ManagedIdentityClient`` underneath): Azure's instance metadata service (or App Service's identity
endpoint) gives the identity's token for the resource ``https://api.botframework.com``; ``MICROSOFT_APP_ID`` is
the identity's client id and there is no secret. The token is kept until five minutes before it expires.
Callers are threads (the deliverer, member lookups), so the SDK's coroutine runs on a loop of its own.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import requests

from adapters.teams.tokens import SCOPE, TokenError

RENEW_BEFORE = 300.0
"""Seconds before expiry at which a kept token is replaced."""


class ManagedIdentityToken:
    """A callable giving the managed identity's current token for the connector."""

    def __init__(self, client_id: str) -> None:
        from microsoft_agents.authentication.msal import MsalAuth
        from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthTypes

        configuration = AgentAuthConfiguration(auth_type=AuthTypes.user_managed_identity, client_id=client_id)
        self._credential = MsalAuth(configuration).get_token_credential()
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """The current token (raises :class:`~adapters.teams.tokens.TokenError` when none can be had)."""
        with self._lock:
            if self._token is None or self._token[1] - RENEW_BEFORE <= time.time():
                try:
                    access: Any = asyncio.run(self._credential.get_token(SCOPE))
                except (requests.RequestException, ValueError) as failure:
                    # the failure's kind only: MSAL's message may carry the metadata service's whole answer
                    raise TokenError(f"no managed identity token: {type(failure).__name__}") from None
                self._token = (str(access.token), float(access.expires_on))
            return self._token[0]

"""The inbound check: is this request really the Bot Framework channel, writing to this bot about this activity?

With ``MICROSOFT_APP_ID`` set, a request must carry ``Authorization: Bearer <JWT>`` where the JWT

* is signed (RS256) by a key published in the Bot Framework's OpenID metadata
  (:mod:`adapters.teams.signing_keys`), and that key is endorsed for the activity's channel (``msteams``);
* was issued by ``https://api.botframework.com``, is for this bot (``aud`` is the app id), and is
  within its validity (``exp``, ``nbf``; five minutes of clock skew allowed, as the Bot Framework SDKs
  allow);
* names the activity's own ``serviceUrl`` (the ``serviceurl`` claim), so a token for one service cannot
  make the bot send to another.

Anything else raises :class:`Unauthenticated` (answered 401); keys that cannot be fetched raise
:class:`~adapters.teams.signing_keys.SigningKeysUnavailable` (answered 503). Only the channel's tokens are
accepted: the Bot Framework Emulator's and skills' tokens, which the old SDK also took, are not.
Without an app id nothing is checked (local testing only; ``rmbot serve`` warns about it).
"""

from __future__ import annotations

from typing import Any

import jwt

from adapters.teams.signing_keys import SigningKeys

ISSUER = "https://api.botframework.com"
ALGORITHM = "RS256"
CLOCK_SKEW = 300
"""Seconds of clock skew allowed on ``exp`` and ``nbf``."""


class Unauthenticated(Exception):
    """The request does not prove that it comes from the Bot Framework for this bot (the reason says why)."""


class ChannelAuthentication:
    """The check of every inbound request's token (see the module docstring)."""

    def __init__(self, app_id: str, keys: SigningKeys) -> None:
        self.app_id = app_id
        self.keys = keys

    async def authenticate_request(self, channel_id: str, service_url: str, header: str | None) -> dict[str, Any]:
        """The token's verified claims (empty when authentication is off); raises :class:`Unauthenticated`."""
        if not self.app_id:
            return {}
        token = _bearer(header)
        try:
            unverified_header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as problem:
            raise Unauthenticated(f"not a JWT: {problem}") from None
        if unverified_header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"signed with {str(unverified_header.get('alg'))[:20]!r}, not {ALGORITHM}")
        if unverified.get("iss") != ISSUER:  # refused before any key is fetched
            raise Unauthenticated(f"issued by {str(unverified.get('iss'))[:100]!r}, not {ISSUER}")
        key_id = unverified_header.get("kid")
        found = await self.keys.get(key_id) if isinstance(key_id, str) and key_id else None
        if found is None:
            raise Unauthenticated(f"signed with key {str(key_id)[:64]!r}, which the OpenID metadata does not publish")
        if not channel_id or channel_id not in found.endorsements:
            raise Unauthenticated(f"the signing key is not endorsed for the channel {channel_id[:40]!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                found.key.key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "aud", "exp"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.PyJWTError as problem:
            raise Unauthenticated(f"the token does not verify: {problem}") from None
        if claims.get("aud") != self.app_id:
            raise Unauthenticated(f"the token is for {str(claims.get('aud'))[:64]!r}, not this bot")
        if not service_url or claims.get("serviceurl") != service_url:
            raise Unauthenticated(
                f"the token is for the service {str(claims.get('serviceurl'))[:100]!r}, "
                f"the activity names {service_url[:100]!r}"
            )
        return claims


def _bearer(header: str | None) -> str:
    """The token of ``Authorization: Bearer <token>``."""
    if not header:
        raise Unauthenticated("no Authorization header")
    parts = header.split(" ")
    if len(parts) != 2 or parts[0] != "Bearer" or not parts[1]:
        raise Unauthenticated("the Authorization header is not 'Bearer <token>'")
    return parts[1]

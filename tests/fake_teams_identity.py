"""Microsoft's identity side of the fake Teams: what the bot checks tokens against and gets its own from.

An OpenID metadata document and a JWKS with an RSA key endorsed for ``msteams``, and ``token()`` signs Bot
Framework tokens with that key (or with a key nobody published; ``rotate_keys()`` publishes a second one);
the token endpoint of Microsoft Entra ID (``POST /{tenant}/oauth2/v2.0/token``) where the bot gets its own
token for the connector; and Azure's instance metadata (``GET /metadata/identity/oauth2/token``) where a
managed identity gets its token. ``MicrosoftIdentity`` is a part of ``FakeTeams``
(``tests/fake_teams_connector.py``), which serves these routes and sets up the state they use.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
LOGIN_URL = "https://login.fake-entra.test"
"""Where tests point TEAMS_LOGIN_URL; ``FakeTeams.login_client()`` carries MSAL's requests there to the fake."""
KEY_ID = "fake-key-1"
NEW_KEY_ID = "fake-key-2"
"""The id of the key ``FakeTeams.rotate_keys()`` publishes beside the first."""


_KEYS: list[rsa.RSAPrivateKey] = []


def signing_key(n: int) -> rsa.RSAPrivateKey:
    """This process's ``n``-th signing key: the fakes' published, wrong and rotated-to keys (0, 1, 2) differ from
    one another, and are made once per process rather than per fake (a 2,048-bit key costs tens of ms)."""
    while len(_KEYS) <= n:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[n]


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def login_transport(base: Callable[[], str]) -> requests.Session:
    """A requests session (MSAL's transport) that sends what is asked of ``LOGIN_URL`` to the fake at ``base()``:
    every fake that hands out Microsoft tokens (Teams, Graph, Entra, calendars) gives MSAL one."""

    class ToFake(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            text = url.decode() if isinstance(url, bytes) else url
            if text.startswith(LOGIN_URL):
                text = base() + text[len(LOGIN_URL) :]
            return super().request(method, text, *args, **kwargs)

    return ToFake()


async def login_metadata(request: web.Request) -> web.Response:
    """Microsoft Entra ID's OpenID metadata for a tenant (MSAL reads its token endpoint from it): a route of every
    fake that stands in for the Microsoft login."""
    tenant = request.match_info["tenant"]
    return web.json_response(
        {
            "issuer": f"{LOGIN_URL}/{tenant}/v2.0",
            "authorization_endpoint": f"{LOGIN_URL}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{LOGIN_URL}/{tenant}/oauth2/v2.0/token",
        }
    )


class MicrosoftIdentity:
    """Tokens, signing keys, Microsoft Entra ID and Azure's instance metadata, as ``FakeTeams`` serves them."""

    base: str
    key: rsa.RSAPrivateKey
    wrong_key: rsa.RSAPrivateKey
    new_key: rsa.RSAPrivateKey | None
    publish_new_key: bool
    key_fetches: int
    metadata_delay: float
    identity_requests: list[dict[str, str]]
    token_requests: list[tuple[str, dict[str, str]]]
    _lock: threading.Lock

    # -- tokens ------------------------------------------------------------------------------------------

    def token(
        self,
        app_id: str,
        service_url: str | None,
        *,
        signed_with: str = "published",
        audience: str | None = None,
        expires_in: int = 3600,
        issuer: str = ISSUER,
        key_id: str | None = None,
    ) -> str:
        """A Bot Framework token as the channel would send it (``signed_with="wrong"``: an unpublished key under
        the published key's id; ``"new"``: the key ``rotate_keys()`` publishes; ``key_id`` overrides the id;
        ``service_url=None`` leaves the ``serviceurl`` claim out)."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": issuer, "aud": audience or app_id, "nbf": now - 10, "exp": now + expires_in}
        if service_url is not None:
            claims["serviceurl"] = service_url
        if signed_with == "new":
            if self.new_key is None:
                self.new_key = signing_key(2)
            key, kid = self.new_key, NEW_KEY_ID
        else:
            key, kid = (self.key if signed_with == "published" else self.wrong_key), KEY_ID
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id or kid})

    def rotate_keys(self) -> None:
        """Microsoft publishes a new signing key (``NEW_KEY_ID``) beside the first."""
        if self.new_key is None:
            self.new_key = signing_key(2)
        self.publish_new_key = True

    @property
    def openid_url(self) -> str:
        """Where the OpenID metadata document (the Bot Framework's, pointing at the keys) is served."""
        return f"{self.base}/openid"

    # -- the endpoints -----------------------------------------------------------------------------------

    async def _openid(self, _request: web.Request) -> web.Response:
        if self.metadata_delay:
            await asyncio.sleep(self.metadata_delay)
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": f"{self.base}/keys", "id_token_signing_alg_values_supported": ["RS256"]}
        )

    def login_client(self) -> requests.Session:
        """A transport for MSAL that reaches this fake wherever it is asked for ``LOGIN_URL`` (MSAL accepts
        only https:// authorities; the fake speaks plain HTTP on 127.0.0.1)."""
        return login_transport(lambda: self.base)

    @staticmethod
    def issued_token(tenant: str) -> str:
        """The access token ``POST /{tenant}/oauth2/v2.0/token`` hands out."""
        return f"entra-token-for-{tenant}"

    async def _token(self, request: web.Request) -> web.Response:
        """The client-credentials grant of Microsoft Entra ID (``login.microsoftonline.com/{tenant}``)."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        tenant = request.match_info["tenant"]
        with self._lock:
            self.token_requests.append((tenant, form))
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_request"}, status=400)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": self.issued_token(tenant)}
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        self.key_fetches += 1
        published = [(KEY_ID, self.key)]
        if self.publish_new_key and self.new_key is not None:
            published.append((NEW_KEY_ID, self.new_key))
        keys = []
        for kid, key in published:
            numbers = key.public_key().public_numbers()
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                    "endorsements": ["msteams"],
                }
            )
        return web.json_response({"keys": keys})

    async def _identity(self, request: web.Request) -> web.Response:
        """Azure's instance metadata service giving a user-assigned managed identity its token (what MSAL's
        ``ManagedIdentityClient`` asks when ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` points here)."""
        with self._lock:
            self.identity_requests.append({**request.query, "Metadata": request.headers.get("Metadata", "")})
        if request.headers.get("Metadata") != "true" or not request.query.get("client_id"):
            return web.json_response({"error": "invalid_request"}, status=400)
        return web.json_response(
            {
                "access_token": self.identity_token(request.query["client_id"]),
                "expires_in": "3599",
                "resource": request.query.get("resource", ""),
                "token_type": "Bearer",
            }
        )

    @staticmethod
    def identity_token(client_id: str) -> str:
        """The access token the instance metadata service hands the managed identity ``client_id``."""
        return f"msi-token-for-{client_id}"

"""A local fake of Google Workspace's Admin SDK Directory API (``users.list``) and of Google's OAuth token endpoint.

``FakeGoogleDirectory`` answers as Google documents it:

* ``POST /token`` with the JWT bearer grant (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
  ``assertion=<JWT>``) that a service account signs: the signature is checked with the public half of the
  key ``service_account()`` generated, ``aud`` must be Google's token endpoint, and the requested ``scope`` must be
  delegated to the account (``401 unauthorized_client`` otherwise, as when domain-wide delegation is missing).
  The token acts as the JWT's ``sub`` (the impersonated administrator).
* ``GET /admin/directory/v1/users?customer=my_customer&maxResults=…&projection=full&pageToken=…&fields=…``:
  ``{"kind": "admin#directory#users", "users": [...], "nextPageToken": "…"}`` with at most ``page_size``
  users a page (fewer than asked, as Google may), partial responses per ``fields``, 401 without a valid
  token, 403 ``forbidden`` when the impersonated user is not an administrator, 400 for a bad page token.

``script()`` makes the next listing requests answer an error (429, 503, 403 quota...) once some pages were
served; every request is recorded.
"""

from __future__ import annotations

import base64
import itertools
import re
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_directory_server import ThreadedFake

USERS_PATH = "/admin/directory/v1/users"
SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"
"""The ``aud`` Google requires in a service account's assertion, wherever the token request is sent."""


def google_user(
    email: str,
    name: str,
    *,
    title: str = "",
    department: str = "",
    manager: str = "",
    location: str = "",
    building: str = "",
    suspended: bool = False,
    archived: bool = False,
) -> dict[str, Any]:
    """A user resource as ``users.list`` with ``projection=full`` gives it (the fields Google documents)."""
    given, _, family = name.partition(" ")
    user: dict[str, Any] = {
        "kind": "admin#directory#user",
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, email).int)[:21],
        "etag": '"fake-etag"',
        "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": name},
        "isAdmin": False,
        "isDelegatedAdmin": False,
        "lastLoginTime": "2026-11-30T09:12:00.000Z",
        "creationTime": "2021-03-01T10:00:00.000Z",
        "agreedToTerms": True,
        "suspended": suspended,
        "archived": archived,
        "changePasswordAtNextLogin": False,
        "ipWhitelisted": False,
        "emails": [{"address": email, "primary": True}],
        "phones": [{"value": "+44 20 7946 0000", "type": "work"}],
        "customerId": "C03az79cb",
        "orgUnitPath": "/",
        "isMailboxSetup": True,
        "isEnrolledIn2Sv": True,
        "isEnforcedIn2Sv": False,
        "includeInGlobalAddressList": True,
    }
    if suspended:
        user["suspensionReason"] = "ADMIN"
    if title or department or location:
        organization = {"title": title, "primary": True, "customType": "", "department": department}
        if location:
            organization["location"] = location
        user["organizations"] = [organization]
    if manager:
        user["relations"] = [{"value": manager, "type": "manager"}]
    if building:
        user["locations"] = [{"type": "desk", "area": "desk", "buildingId": building, "floorName": "2"}]
    return user


def _error(code: int, reason: str, message: str, status: str = "") -> dict[str, Any]:
    """Google's JSON error body."""
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
    }
    if status:
        body["status"] = status
    return {"error": body}


def quota_error() -> dict[str, Any]:
    """The body of a 429 (or 403) that says the quota ran out."""
    return _error(429, "rateLimitExceeded", "Rate Limit Exceeded", "RESOURCE_EXHAUSTED")


def backend_error() -> dict[str, Any]:
    """The body of a 503."""
    return _error(503, "backendError", "Backend Error", "UNAVAILABLE")


def forbidden_error() -> dict[str, Any]:
    """The body of the 403 a non-administrator gets."""
    return _error(403, "forbidden", "Not Authorized to access this resource/api", "PERMISSION_DENIED")


class FakeGoogleDirectory(ThreadedFake):
    """The fake Directory API and token endpoint. ``users`` in listing order; ``admins`` may list them."""

    def __init__(self, users: list[dict[str, Any]], admins: set[str], page_size: int = 500) -> None:
        super().__init__()
        self.users = users
        self.admins = {a.lower() for a in admins}
        self.page_size = page_size
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.delegated: dict[str, set[str]] = {}
        self.tokens: dict[str, str] = {}
        """Access token -> the administrator it acts as."""
        self.assertions: list[dict[str, Any]] = []
        """The claims of every JWT a service account sent to the token endpoint."""
        self._ids = itertools.count(1)

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    def service_account(
        self, email: str = "rmbot-sync@rmbot-test.iam.gserviceaccount.com", *, delegated: bool = True
    ) -> dict[str, Any]:
        """A new service account's JSON key (a throwaway RSA key; ``token_uri`` here), delegated the scope or not."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[email] = key.public_key()
        self.delegated[email] = {SCOPE} if delegated else set()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        return {
            "type": "service_account",
            "project_id": "rmbot-test",
            "private_key_id": uuid.uuid4().hex,
            "private_key": pem,
            "client_email": email,
            "client_id": "1234567890" + str(len(self.keys)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/token", self._token)
        app.router.add_get(USERS_PATH, self._users)

    # -- the token endpoint ----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        status, body = self._grant(str(form.get("grant_type", "")), str(form.get("assertion", "")))
        self.record(request, status)
        return web.json_response(body, status=status)

    def _grant(self, grant_type: str, assertion: str) -> tuple[int, dict[str, Any]]:
        if grant_type != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + grant_type}
        try:
            issuer = str(jwt.decode(assertion, options={"verify_signature": False}).get("iss", ""))
            key = self.keys[issuer]
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=AUDIENCE)
        except (KeyError, jwt.PyJWTError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        self.assertions.append(claims)
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes or not scopes <= self.delegated.get(issuer, set()):
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using this method, "
                "or client not authorized for any of the scopes requested.",
            }
        token = f"ya29.fake-{next(self._ids)}"
        self.tokens[token] = str(claims.get("sub") or issuer).lower()
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    # -- users.list ------------------------------------------------------------------------------------

    async def _users(self, request: web.Request) -> web.Response:
        status, body, headers = self._list(request)
        self.record(request, status)
        return web.json_response(body, status=status, headers=headers)

    def _list(self, request: web.Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        acting = self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if acting is None:
            message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
            return 401, _error(401, "authError", message, "UNAUTHENTICATED"), {}
        scripted = self.take_scripted()
        if scripted is not None:
            return scripted.status, scripted.body, scripted.headers
        if acting not in self.admins:
            return 403, forbidden_error(), {}
        query = request.query
        if query.get("customer") != "my_customer":
            return 400, _error(400, "badRequest", "Bad Request"), {}
        try:
            wanted = int(query.get("maxResults", "100"))
            start = int(base64.urlsafe_b64decode(query["pageToken"]).decode()) if query.get("pageToken") else 0
        except ValueError:
            return 400, _error(400, "invalid", "Invalid Input: pageToken"), {}
        if not 1 <= wanted <= 500:
            return 400, _error(400, "invalid", "Invalid Input: maxResults"), {}
        end = start + min(wanted, self.page_size)
        page = [_partial(user, query.get("fields", "")) for user in self.users[start:end]]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": f'"page-{start}"'}
        if page:
            body["users"] = page
        if end < len(self.users):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
        self.pages_served += 1
        return 200, body, {"Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())}


def _partial(user: dict[str, Any], fields: str) -> dict[str, Any]:
    """A partial response: only the user fields named in ``fields=...,users(a,b/c,...)`` (all without one)."""
    found = re.search(r"users\(([^)]*)\)", fields)
    if not found:
        return user
    names = {part.split("/")[0].strip() for part in found.group(1).split(",")}
    return {key: value for key, value in user.items() if key in names}

"""A local fake of Microsoft Graph's Teams app installation API, and of the token endpoint the app uses for it.

``FakeGraph`` runs an aiohttp server on a free port in its own thread (like ``tests/fake_teams.py``), so
the synchronous deliverer can reach it. It answers as Graph v1.0 documents it:

* ``POST /v1.0/users/{user-id | user-principal-name}/teamwork/installedApps`` with
  ``{"teamsApp@odata.bind": "…/appCatalogs/teamsApps/{catalog id}"}``: 201 Created and no body; 409
  Conflict when the app is installed for that user already; 404 for an unknown user or app; 403 with
  Graph's "Missing role permissions" error when the permission is not granted (``granted=False``);
* ``GET …/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '{id}'``: the user's installation of
  that app (``value``: id and ``teamsApp``);
* ``GET …/installedApps/{installation id}/chat``: the 1:1 chat between the user and the app (``id``);
* every Graph request must carry the token the fake's own Microsoft Entra ID endpoint issued for Graph
  (``POST /{tenant}/oauth2/v2.0/token`` with scope ``https://graph.microsoft.com/.default``; 401 otherwise).

``answer(status, retry_after=…)`` scripts the next installation requests (429 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web

from fake_teams import login_metadata, login_transport
from local_server import LocalServer

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass
class GraphUser:
    """A user of the fake tenant."""

    id: str
    """The Azure AD object id."""
    upn: str
    """The user principal name (usually the email)."""


@dataclass
class Call:
    """One request the bot made to the fake Graph."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    authorization: str
    status: int


@dataclass
class FakeGraph(LocalServer):
    """The fake Graph; use as a context manager. ``url`` is what TEAMS_GRAPH_URL is set to."""

    thread_name = "fake-graph"
    shutdown_timeout = 0.1

    catalog_app_id: str
    users: list[GraphUser] = field(default_factory=list)
    granted: bool = True
    """Whether the app holds TeamsAppInstallation.ReadWriteForUser.All (403 otherwise)."""

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.installed: dict[str, str] = {}
        """User id -> installation id of the app in their personal scope."""
        self.token_requests: list[tuple[str, dict[str, str]]] = []
        self._scripted: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- control ---------------------------------------------------------------------------------------

    def answer(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next ``times`` installation requests are answered ``status`` (and install nothing)."""
        with self._lock:
            self._scripted += [(status, retry_after)] * times

    def chat_id(self, user_id: str) -> str:
        """The id Graph gives the 1:1 chat between a user and the app."""
        return f"19:{self.catalog_app_id}_{user_id}@unq.gbl.spaces"

    def install_for(self, user_id: str) -> None:
        """The app is already installed for the user (as if they had installed it themselves)."""
        self.installed[user_id] = self._installation_id(user_id)

    def installs(self) -> list[Call]:
        """The installation requests (``POST …/installedApps``)."""
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and c.path.endswith("/installedApps")]

    @staticmethod
    def issued_token(tenant: str) -> str:
        return f"graph-token-for-{tenant}"

    def login_client(self) -> requests.Session:
        """MSAL's transport to this fake wherever it is asked for ``LOGIN_URL`` (see ``FakeTeams.login_client``)."""
        return login_transport(lambda: self.base)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application()
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install)
        app.router.add_get("/v1.0/users/{user}/teamwork/installedApps", self._list)
        app.router.add_get("/v1.0/users/{user}/teamwork/installedApps/{installation}/chat", self._chat)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", login_metadata)
        return app

    def started(self) -> None:
        self.url = f"{self.base}/v1.0"

    # -- Graph -------------------------------------------------------------------------------------------

    def _installation_id(self, user_id: str) -> str:
        raw = f"{user_id}##{self.catalog_app_id}#{next(self._ids)}".encode()
        return base64.b64encode(raw).decode("ascii")

    def _user(self, wanted: str) -> GraphUser | None:
        return next((u for u in self.users if wanted in (u.id, u.upn) or wanted.lower() == u.upn.lower()), None)

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return any(header == f"Bearer {self.issued_token(tenant)}" for tenant, _ in self.token_requests)

    def _record(self, request: web.Request, body: dict[str, Any], status: int) -> None:
        with self._lock:
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    dict(request.query),
                    body,
                    request.headers.get("Authorization", ""),
                    status,
                )
            )

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)

    async def _install(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            scripted = self._scripted.pop(0) if self._scripted else None
        user = self._user(request.match_info["user"])
        bound = str(body.get("teamsApp@odata.bind") or "")
        if scripted is not None:
            status, retry_after = scripted
            self._record(request, body, status)
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            return self._error(status, "TooManyRequests" if status == 429 else "ServiceError", "scripted", headers)
        if not self._authorised(request):
            self._record(request, body, 401)
            return self._error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        if not self.granted:
            self._record(request, body, 403)
            return self._error(
                403,
                "Forbidden",
                "Missing role permissions on the request. API requires one of "
                "'TeamsAppInstallation.ReadWriteSelfForUser.All, TeamsAppInstallation.ReadWriteForUser.All'. "
                "Roles on the request ''.",
            )
        if user is None or bound != f"{self.url}/appCatalogs/teamsApps/{self.catalog_app_id}":
            self._record(request, body, 404)
            return self._error(404, "NotFound", "user or app not found")
        if user.id in self.installed:
            self._record(request, body, 409)
            return self._error(409, "Conflict", "App is already installed.")
        self.installed[user.id] = self._installation_id(user.id)
        self._record(request, body, 201)
        return web.Response(status=201)

    async def _list(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user"])
        status = 401 if not self._authorised(request) else 403 if not self.granted else 404 if user is None else 200
        self._record(request, {}, status)
        if status != 200 or user is None:
            return self._error(status, "Forbidden" if status == 403 else "Error", "refused")
        wanted = f"teamsApp/id eq '{self.catalog_app_id}'"
        found = user.id in self.installed and request.query.get("$filter") == wanted
        value = [
            {
                "id": self.installed[user.id],
                "teamsApp": {
                    "id": self.catalog_app_id,
                    "externalId": "5353a86e-52fb-4979-8a69-c7efcd1b0bd3",
                    "displayName": "Mentoring",
                    "distributionMethod": "organization",
                },
            }
        ]
        return web.json_response(
            {"@odata.context": "…/$metadata#teamsAppInstallation", "value": value if found else []}
        )

    async def _chat(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user"])
        known = user is not None and self.installed.get(user.id) == request.match_info["installation"]
        status = 401 if not self._authorised(request) else 200 if known else 404
        self._record(request, {}, status)
        if status != 200 or user is None:
            return self._error(status, "NotFound", "no such installation")
        return web.json_response(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats/$entity", "id": self.chat_id(user.id)}
        )

    # -- Microsoft Entra ID --------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        """Client credentials for Graph only: a token for another scope is refused (invalid_scope)."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        tenant = request.match_info["tenant"]
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_request"}, status=400)
        if GRAPH_SCOPE not in form.get("scope", "").split():
            return web.json_response({"error": "invalid_scope"}, status=400)
        with self._lock:
            self.token_requests.append((tenant, form))
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": self.issued_token(tenant)}
        )

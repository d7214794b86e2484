"""A local fake of Microsoft Entra ID through Microsoft Graph v1.0, as the directory sync reads it.

``FakeEntra`` runs an aiohttp server on a free port in its own thread (like ``tests/fake_graph.py``). It answers
in Graph's shapes:

* ``GET /v1.0/users?$select=…&$expand=manager($select=…)&$top=N``: pages of users (only the selected properties,
  ``manager`` expanded with its selected properties), ``@odata.nextLink`` while more remain;
* ``GET /v1.0/users/delta?$deltatoken=latest``: no users and an ``@odata.deltaLink`` starting now;
  ``GET /v1.0/users/delta?$deltatoken=T``: the users changed since ``T``, each with its ``id`` and only the
  properties that changed, ``manager@delta`` (``[{"id": …}]``) when the manager changed, ``@removed`` for users
  deleted; paged with ``@odata.nextLink``, the last page with a new ``@odata.deltaLink``; a token made before
  :meth:`expire_tokens` is answered 410 Gone;
* ``POST /v1.0/$batch`` of ``GET /users/{id}/mailboxSettings``: each user's ``timeZone`` (a Windows name, as
  Exchange gives it) and ``workingHours``; 403 ``ErrorAccessDenied`` per item without MailboxSettings.Read;
* 429 with ``Retry-After`` for the next requests :meth:`throttle` scripts; 403
  ``Authorization_RequestDenied`` on ``/users`` without User.Read.All (``granted_users=False``);
* every request must carry the token the fake's Entra ID token endpoint issued for Graph (401 otherwise).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from aiohttp import web

from fake_graph import GRAPH_SCOPE
from fake_teams import login_metadata, login_transport
from local_server import LocalServer


def user(
    number: int,
    manager: int | None = None,
    title: str = "Engineer",
    domain: str = "contoso.example",
    **extra: Any,
) -> dict[str, Any]:
    """A Graph user ``u<number>`` (id ``00000000-…<number>``), with ``manager`` the number of their manager."""
    found: dict[str, Any] = {
        "id": f"00000000-0000-0000-0000-{number:012d}",
        "displayName": f"Person {number}",
        "mail": f"person{number}@{domain}",
        "userPrincipalName": f"person{number}@{domain}",
        "jobTitle": title,
        "department": "Engineering",
        "officeLocation": "London",
        "usageLocation": "GB",
        "accountEnabled": True,
        "userType": "Member",
        "employeeOrgData": {"division": "Product", "costCenter": "100"},
        "employeeType": "",
        "manager_id": f"00000000-0000-0000-0000-{manager:012d}" if manager is not None else None,
    }
    found.update(extra)
    return found


@dataclass
class FakeEntra(LocalServer):
    """The fake tenant; use as a context manager. ``url`` is what RMBOT_GRAPH_URL is set to."""

    thread_name = "fake-entra"
    shutdown_timeout = 0.1

    users: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 100
    granted_users: bool = True
    """Whether the app holds User.Read.All."""
    granted_mailboxes: bool = True
    """Whether the app holds MailboxSettings.Read."""

    def __post_init__(self) -> None:
        self.by_id = {u["id"]: u for u in self.users}
        self.mailboxes: dict[str, dict[str, Any]] = {
            u["id"]: {
                "timeZone": "GMT Standard Time",
                "workingHours": {
                    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                    "startTime": "08:30:00.0000000",
                    "endTime": "16:30:00.0000000",
                    "timeZone": {"name": "GMT Standard Time"},
                },
            }
            for u in self.users
        }
        self.changes: list[tuple[int, str, dict[str, Any] | None]] = []
        """(sequence, user id, the properties that changed, or None when the user was deleted)."""
        self.requests: list[tuple[str, str, int]] = []
        """(method, path with query, status) of every Graph request."""
        self.token_requests: list[str] = []
        self._sequence = itertools.count(1)
        self._expired_before = 0
        self._throttles: list[float] = []
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- control ----------------------------------------------------------------------------------------

    def change(self, user_id: str, **properties: Any) -> None:
        """Change a user's properties (``manager_id`` too), as an administrator would; delta queries report it."""
        with self._lock:
            self.by_id[user_id].update(properties)
            self.changes.append((next(self._sequence), user_id, dict(properties)))

    def add(self, new: dict[str, Any]) -> None:
        """A new user (delta queries report all of their properties)."""
        with self._lock:
            self.users.append(new)
            self.by_id[new["id"]] = new
            self.changes.append((next(self._sequence), new["id"], {k: v for k, v in new.items() if k != "id"}))

    def remove(self, user_id: str) -> None:
        """Delete a user (delta queries report ``@removed``)."""
        with self._lock:
            self.users = [u for u in self.users if u["id"] != user_id]
            del self.by_id[user_id]
            self.changes.append((next(self._sequence), user_id, None))

    def throttle(self, times: int = 1, retry_after: float = 0) -> None:
        """The next ``times`` Graph requests are answered 429 Too Many Requests with ``Retry-After``."""
        with self._lock:
            self._throttles += [retry_after] * times

    def expire_tokens(self) -> None:
        """Every delta token handed out so far is answered 410 Gone from now on."""
        with self._lock:
            self._expired_before = next(self._sequence)

    def statuses(self, path: str) -> list[int]:
        """The statuses of the requests whose path starts with ``path``."""
        return [status for _method, where, status in self.requests if where.startswith(path)]

    def login_client(self) -> requests.Session:
        """MSAL's transport to this fake wherever it is asked for ``LOGIN_URL``."""
        return login_transport(lambda: self.base)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/v1.0/users", self._users)
        app.router.add_get("/v1.0/users/delta", self._delta)
        app.router.add_post("/v1.0/$batch", self._batch)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", login_metadata)
        return app

    def started(self) -> None:
        self.url = f"{self.base}/v1.0"

    # -- Graph -----------------------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/v1.0/"):
            return await handler(request)
        with self._lock:
            wait = self._throttles.pop(0) if self._throttles else None
            tokens = set(self.token_requests)
        if wait is not None:
            response: web.StreamResponse = self._error(
                429, "TooManyRequests", "Too many requests", {"Retry-After": str(int(wait))}
            )
        elif request.headers.get("Authorization", "") not in {f"Bearer graph-token-for-{t}" for t in tokens}:
            response = self._error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        else:
            response = await handler(request)
        with self._lock:
            self.requests.append((request.method, request.path_qs, response.status))
        return response

    def _shape(self, found: dict[str, Any], select: list[str], expand_manager: bool) -> dict[str, Any]:
        shaped = {"id": found["id"], **{name: found.get(name) for name in select if name != "id"}}
        if expand_manager and found.get("manager_id") in self.by_id:
            boss = self.by_id[found["manager_id"]]
            shaped["manager"] = {
                "@odata.type": "#microsoft.graph.user",
                "id": boss["id"],
                "mail": boss["mail"],
                "userPrincipalName": boss["userPrincipalName"],
            }
        return shaped

    async def _users(self, request: web.Request) -> web.Response:
        if not self.granted_users:
            return self._error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        select = [s for s in request.query.get("$select", "").split(",") if s]
        expand = request.query.get("$expand", "").startswith("manager")
        top = min(int(request.query.get("$top", "100")), self.page_size)
        skip = int(request.query.get("$skiptoken", "0"))
        with self._lock:
            everyone = list(self.users)
        page = [self._shape(u, select, expand) for u in everyone[skip : skip + top]]
        answer: dict[str, Any] = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": page}
        if skip + top < len(everyone):
            query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
            answer["@odata.nextLink"] = f"{self.url}/users?{urlencode({**query, '$skiptoken': skip + top})}"
        return web.json_response(answer)

    async def _delta(self, request: web.Request) -> web.Response:
        token = request.query.get("$deltatoken", "")
        query = {k: v for k, v in request.query.items() if k not in ("$deltatoken", "$skiptoken")}
        with self._lock:
            latest = self.changes[-1][0] if self.changes else 0
            changes = list(self.changes)
            expired_before = self._expired_before
        if token == "latest":
            link = f"{self.url}/users/delta?{urlencode({**query, '$deltatoken': latest})}"
            return web.json_response({"value": [], "@odata.deltaLink": link})
        since = int(token or 0)
        if since < expired_before:
            return self._error(410, "SyncStateNotFound", "The sync state is no longer available; resync.")
        merged: dict[str, dict[str, Any] | None] = {}
        for _sequence, user_id, properties in (c for c in changes if c[0] > since):
            if properties is None:
                merged[user_id] = None
            else:
                merged[user_id] = {**(merged.get(user_id) or {}), **properties}
        items = []
        for user_id, properties in merged.items():
            if properties is None:
                items.append({"id": user_id, "@removed": {"reason": "changed"}})
                continue
            item: dict[str, Any] = {"id": user_id, **{k: v for k, v in properties.items() if k != "manager_id"}}
            if "manager_id" in properties:
                item["manager@delta"] = [{"id": properties["manager_id"]}] if properties["manager_id"] else []
            items.append(item)
        skip = int(request.query.get("$skiptoken", "0"))
        page = items[skip : skip + self.page_size]
        answer: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(items):
            answer["@odata.nextLink"] = (
                f"{self.url}/users/delta?{urlencode({**query, '$deltatoken': since, '$skiptoken': skip + self.page_size})}"
            )
        else:
            answer["@odata.deltaLink"] = f"{self.url}/users/delta?{urlencode({**query, '$deltatoken': latest})}"
        return web.json_response(answer)

    async def _batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        answers = []
        for item in body.get("requests", [])[:20]:
            parts = str(item.get("url", "")).strip("/").split("/")
            found = parts[0] == "users" and len(parts) == 3 and parts[2] == "mailboxSettings"
            user_id = parts[1] if found else ""
            if not self.granted_mailboxes:
                answer = {
                    "status": 403,
                    "body": {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
                }
            elif user_id in self.mailboxes and user_id in self.by_id:
                answer = {"status": 200, "body": self.mailboxes[user_id]}
            else:
                answer = {"status": 404, "body": {"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "-"}}}
            answers.append({"id": item.get("id"), "headers": {}, **answer})
        return web.json_response({"responses": answers})

    # -- Microsoft Entra ID ----------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_request"}, status=400)
        if GRAPH_SCOPE not in form.get("scope", "").split():
            return web.json_response({"error": "invalid_scope"}, status=400)
        tenant = request.match_info["tenant"]
        with self._lock:
            self.token_requests.append(tenant)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": f"graph-token-for-{tenant}"}
        )

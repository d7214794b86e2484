"""A local fake of Slack's SCIM v2 API on Enterprise Grid (``GET /scim/v2/Users``).

``FakeScim`` answers as Slack documents it: a SCIM ``ListResponse`` (``totalResults``, ``itemsPerPage``,
``startIndex``, ``Resources``) paged with ``startIndex`` (1-based) and ``count`` (at most 1000, and at most
``page_size`` here), users with the core, enterprise (department, division, ``manager.managerId``) and
Slack profile schemas; 401 for an unknown token, 403 for a token without the admin scope, both as SCIM
error bodies. ``script()`` makes the next requests answer 429 with ``Retry-After`` or an error.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fake_directory_server import ThreadedFake

USERS_PATH = "/scim/v2/Users"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PROFILE = "urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User"


def scim_user(
    user_id: str,
    email: str,
    name: str,
    *,
    title: str = "",
    department: str = "",
    division: str = "",
    manager_id: str = "",
    timezone: str = "",
    locality: str = "",
    active: bool = True,
) -> dict[str, Any]:
    """A SCIM v2 user as Slack lists it."""
    given, _, family = name.partition(" ")
    handle = email.partition("@")[0]
    user: dict[str, Any] = {
        "schemas": [CORE, ENTERPRISE, PROFILE],
        "id": user_id,
        "externalId": "",
        "userName": handle,
        "nickName": handle,
        "name": {"givenName": given, "familyName": family},
        "displayName": handle,
        "profileUrl": f"https://fake-grid.enterprise.slack.com/team/{handle}",
        "title": title,
        "timezone": timezone,
        "active": active,
        "emails": [{"value": email, "primary": True}],
        "photos": [{"value": "https://fake.slack-edge.com/avatar.png", "type": "photo"}],
        "groups": [],
        "meta": {"created": "2024-02-01T10:00:00-08:00", "location": f"https://api.slack.com/scim/v2/Users/{user_id}"},
        ENTERPRISE: {
            "employeeNumber": "",
            "costCenter": "",
            "organization": "",
            "division": division,
            "department": department,
        },
    }
    if manager_id:
        user[ENTERPRISE]["manager"] = {"managerId": manager_id}
    if locality:
        user["addresses"] = [{"locality": locality, "country": "GB", "primary": True}]
    return user


def scim_error(status: int, detail: str) -> dict[str, Any]:
    """A SCIM v2 error body."""
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail, "status": str(status)}


class FakeScim(ThreadedFake):
    """The fake SCIM API; ``url`` is what SLACK_SCIM_URL gets. ``tokens``: admin tokens -> has the admin scope."""

    def __init__(self, users: list[dict[str, Any]], tokens: dict[str, bool], page_size: int = 1000) -> None:
        super().__init__()
        self.users = users
        self.tokens = tokens
        self.page_size = page_size

    @property
    def url(self) -> str:
        return f"{self.base}/scim/v2/"

    def routes(self, app: web.Application) -> None:
        app.router.add_get(USERS_PATH, self._users)

    async def _users(self, request: web.Request) -> web.Response:
        status, body, headers = self._list(request)
        self.record(request, status)
        return web.json_response(body, status=status, headers=headers, content_type="application/scim+json")

    def _list(self, request: web.Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, scim_error(401, "invalid_authentication"), {}
        if not self.tokens[token]:
            return 403, scim_error(403, "missing_scope: admin"), {}
        scripted = self.take_scripted()
        if scripted is not None:
            return scripted.status, scripted.body, scripted.headers
        try:
            start = int(request.query.get("startIndex", "1"))
            count = int(request.query.get("count", "100"))
        except ValueError:
            return 400, scim_error(400, "invalid_value"), {}
        if start < 1 or not 0 <= count <= 1000:
            return 400, scim_error(400, "invalid_value"), {}
        page = self.users[start - 1 : start - 1 + min(count, self.page_size)]
        self.pages_served += 1
        return (
            200,
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": len(self.users),
                "itemsPerPage": len(page),
                "startIndex": start,
                "Resources": page,
            },
            {},
        )

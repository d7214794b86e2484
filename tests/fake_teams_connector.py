"""A local fake of the Bot Framework connector service (what Teams runs at an activity's ``serviceUrl``).

``FakeTeams`` runs an aiohttp server on a free port in its own thread, so the synchronous outbox
deliverer and the asynchronous tests can both reach it. It records every request and answers like the
connector: ``POST /v3/conversations/{id}/activities`` gives an activity id, ``POST /v3/conversations``
opens a personal chat for the accounts it is told allow it (403 otherwise), ``GET …/pagedmembers`` pages
a team's roster (``tests/fake_rosters.py``). It can be scripted to answer
429 / 412 / 503 (with or without ``Retry-After``), or to take the request and answer too late (the
"ambiguous" case), and it checks Teams' per-conversation limits, counting violations. It also serves
Microsoft's identity side (``MicrosoftIdentity``, ``tests/fake_teams_identity.py``).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_teams_identity import MicrosoftIdentity, login_metadata, signing_key
from fake_teams_models import Post
from local_server import LocalServer

WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
"""Teams' limits per conversation: (messages, seconds), at most that many messages within that many seconds."""


@dataclass
class FakeTeams(MicrosoftIdentity, LocalServer):
    """The fake connector. Use as a context manager; ``service_url`` goes into activities."""

    thread_name = "fake-teams"
    shutdown_timeout = 0.1

    allow_create: set[str] = field(default_factory=set)
    """Account ids (``29:…``) a personal chat may be created for."""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Member records by account id, as ``GET …/members/{id}`` answers them (404 for anyone else)."""
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Team id -> its members, as ``GET /v3/conversations/{teamId}/pagedmembers`` pages them (404 otherwise)."""
    roster_answers: list[tuple[int, float | None]] = field(default_factory=list)
    """Scripted answers (status, Retry-After) to the next roster page requests, before the real pages."""
    update_answers: list[tuple[int, float | None]] = field(default_factory=list)
    """Scripted answers (status, Retry-After) to the next ``PUT``s of activities it knows, before the real ones."""

    def __post_init__(self) -> None:
        self.posts: list[Post] = []
        self.violations = 0
        self._scripted: list[tuple[int, dict[str, str], float]] = []
        self._ids = itertools.count(1)
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.key = signing_key(0)
        self.wrong_key = signing_key(1)
        self.new_key: rsa.RSAPrivateKey | None = None
        """Signs ``token(signed_with="new")``; published beside the first key (as ``NEW_KEY_ID``) once
        ``rotate_keys()`` is called."""
        self.publish_new_key = False
        self.key_fetches = 0
        """How often the key set (JWKS) was fetched."""
        self.metadata_delay = 0.0
        """Seconds the OpenID metadata document takes to answer (a slow Microsoft)."""
        self.identity_requests: list[dict[str, str]] = []
        """Requests to Azure's instance metadata for a managed identity's token (query, and the Metadata header)."""
        self.token_requests: list[tuple[str, dict[str, str]]] = []
        """Requests for the bot's own token: (tenant in the path, the form sent), as Microsoft Entra ID gets them."""

    # -- control ---------------------------------------------------------------------------------------

    def answer(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next ``times`` activity posts are answered ``status`` (and not delivered)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._scripted += [(status, headers, 0.0)] * times

    def answer_late(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` posts are delivered, but the answer comes only after ``seconds``."""
        with self._lock:
            self._scripted += [(201, {}, seconds)] * times

    def activities(self, conversation: str | None = None) -> list[dict[str, Any]]:
        """Activities delivered (answered 2xx), optionally in one conversation."""
        with self._lock:
            return [
                p.body
                for p in self.posts
                if p.path == "activities"
                and 200 <= p.status < 300
                and (conversation is None or p.conversation == conversation)
            ]

    def cards(self, conversation: str | None = None) -> list[dict[str, Any]]:
        """The Adaptive Cards of the delivered activities."""
        return [
            a["content"]
            for activity in self.activities(conversation)
            for a in activity.get("attachments", [])
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def attempts(self) -> list[Post]:
        """Every activity post the bot made, delivered or not."""
        with self._lock:
            return [p for p in self.posts if p.path == "activities"]

    # -- lifecycle ---------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_get("/metadata/identity/oauth2/token", self._identity)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", login_metadata)
        return app

    def started(self) -> None:
        self.service_url = self.base + "/"

    async def stopping(self) -> None:
        """Stop serving, and drop the answers still being delayed (``answer_late``)."""
        await self._runner.cleanup()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # -- the connector -----------------------------------------------------------------------------------

    def _check_limits(self, conversation: str, now: float) -> None:
        log = self._sent[conversation]
        log.append(now)
        for limit, seconds in WINDOWS:
            if len(log) > limit and log[-limit - 1] > now - seconds:
                self.violations += 1
                return

    async def _activity(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        body = await request.json()
        with self._lock:
            status, headers, delay = self._scripted.pop(0) if self._scripted else (201, {}, 0.0)
            post = Post(
                "POST",
                "activities",
                conversation,
                body,
                request.headers.get("Authorization", ""),
                time.monotonic(),
                status,
            )
            self.posts.append(post)
            if 200 <= status < 300:
                self._check_limits(conversation, post.at)
            activity_id = post.activity_id = f"1{next(self._ids):012d}"
        if delay:
            await asyncio.sleep(delay)
        if 200 <= status < 300:
            return web.json_response({"id": activity_id}, status=status)
        return web.json_response(
            {"error": {"code": "Throttled" if status == 429 else "ServiceError", "message": "scripted"}},
            status=status,
            headers=headers,
        )

    async def _update(self, request: web.Request) -> web.Response:
        """``PUT …/activities/{id}``: replace an activity posted in that conversation (404 for any other)."""
        conversation, activity_id = request.match_info["conversation"], request.match_info["activity"]
        body = await request.json()
        with self._lock:
            known = any(
                p.activity_id == activity_id and p.conversation == conversation and p.path == "activities"
                for p in self.posts
            )
            status, headers = (200, {}) if known else (404, {})
            if known and self.update_answers:
                status, retry_after = self.update_answers.pop(0)
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            self.posts.append(
                Post(
                    "PUT",
                    "update",
                    conversation,
                    body,
                    request.headers.get("Authorization", ""),
                    time.monotonic(),
                    status,
                    activity_id,
                )
            )
        if 200 <= status < 300:
            return web.json_response({"id": activity_id}, status=status)
        return web.json_response(
            {"error": {"code": "NotFound", "message": "no such activity"}}, status=status, headers=headers
        )

    def shown(self, activity_id: str) -> dict[str, Any]:
        """The card of activity ``activity_id`` as Teams shows it now: as posted, or as last replaced (``PUT``)."""
        with self._lock:
            found = [p.body for p in self.posts if p.activity_id == activity_id and 200 <= p.status < 300]
        assert found, f"no activity {activity_id}"
        return dict(found[-1]["attachments"][0]["content"])

    def updates(self, activity_id: str) -> list[Post]:
        """The ``PUT``s made to activity ``activity_id`` (answered or not)."""
        with self._lock:
            return [p for p in self.posts if p.path == "update" and p.activity_id == activity_id]

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        members = [m.get("id") for m in body.get("members") or []]
        allowed = len(members) == 1 and members[0] in self.allow_create
        with self._lock:
            self.posts.append(
                Post(
                    "POST",
                    "conversations",
                    "",
                    body,
                    request.headers.get("Authorization", ""),
                    time.monotonic(),
                    201 if allowed else 403,
                )
            )
        if not allowed:
            return web.json_response({"error": {"code": "Forbidden", "message": "app not installed"}}, status=403)
        return web.json_response({"id": f"a:created-{members[0]}", "activityId": ""}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["member"])
        with self._lock:
            self.posts.append(
                Post(
                    "GET",
                    "members",
                    request.match_info["conversation"],
                    {},
                    request.headers.get("Authorization", ""),
                    time.monotonic(),
                    200 if member else 404,
                )
            )
        if member is None:
            return web.json_response({"error": {"code": "NotFound", "message": "no such member"}}, status=404)
        return web.json_response(member)

    async def _paged_members(self, request: web.Request) -> web.Response:
        """``GET /v3/conversations/{teamId}/pagedmembers``: see ``tests/fake_rosters.py``."""
        from fake_rosters import paged_members

        return await paged_members(self, request)

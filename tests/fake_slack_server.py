"""The fake Slack's server: the Web API (recording every call, answering scripted errors and 429s, enforcing
Slack-like limits), file uploads, Socket Mode, and what the tests ask of it.

``FakeSlack`` runs an aiohttp server on a free port in its own thread, so synchronous clients (the
outbox deliverer) and asynchronous ones (the bolt app) can both call it. The methods themselves are
``SlackMethods`` (``tests/fake_slack_methods.py``).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from fake_slack_methods import SlackMethods
from fake_slack_models import Call, Limits
from local_server import LocalServer

JSON_ARGS = {"blocks", "files", "view", "metadata", "attachments"}
"""Arguments Slack takes as JSON even in a form-encoded call."""


@dataclass
class FakeSlack(SlackMethods, LocalServer):
    """The fake Slack Web API. Use as a context manager; ``api_url`` is what SLACK_API_URL gets."""

    thread_name = "fake-slack"

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=lambda: {"xoxb-test": "T111"})
    bot_user: str = "UBOT"
    limits: Limits | None = None
    install: dict[str, Any] = field(default_factory=dict)
    record_bodies: bool = True
    unreachable: dict[str, str] = field(default_factory=dict)
    """Channels the bot cannot post in, with the error Slack answers (``channel_not_found``, ``not_in_channel``)."""

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.views: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.violations = 0
        self.rate_limited = 0
        self._scripted: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = collections.defaultdict(list)
        self._delays: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._channels: dict[frozenset[str], str] = {}
        self._window: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._channel_next: dict[str, float] = {}
        self._method_next: dict[str, float] = {}
        self._penalty: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.post_keys: list[str] = []
        self.refreshable: dict[str, str] = {}
        """Refresh tokens given out (token rotation) -> the team or enterprise they serve."""
        self.refreshed: list[str] = []
        """Bot tokens given out by refreshes, in order."""
        self.refreshed_expires_in = 43200
        self.revoked: set[str] = set()
        """Tokens Slack no longer accepts: every call with one answers ``token_revoked``."""
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- control ---------------------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._scripted[method] += [(200, {"ok": False, "error": error}, {})] * times

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 with ``Retry-After``."""
        self._scripted[method] += [
            (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        ] * times

    def slow(self, method: str, seconds: float) -> None:
        """Every later call of ``method`` is answered only after ``seconds`` (a Slack that is slow to answer)."""
        self._delays[method] = seconds

    def calls_to(self, method: str) -> list[Call]:
        """Successful calls of ``method`` (answered ``ok``)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.ok]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message posted (``chat.postMessage`` arguments, ``channel`` being the conversation it landed in:
        a post to a user id shows their DM), optionally in one channel."""
        found = []
        for call in self.calls_to("chat.postMessage"):
            args = {**call.args, "channel": self.landed_in(str(call.args.get("channel", "")))}
            if channel is None or args["channel"] == channel:
                found.append(args)
        return found

    # -- lifecycle -------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        app.router.add_get("/_stats", self._stats)
        return app

    def started(self) -> None:
        self.api_url = f"{self.base}/api/"

    # -- the Web API -----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in JSON_ARGS & set(args):
            if isinstance(args[key], str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or str(args.pop("token", ""))
        team = self.tokens.get(token, "T111")
        now = time.monotonic()
        with self._lock:
            headers: dict[str, str]
            if token in self.revoked:
                status, body, headers = 200, {"ok": False, "error": "token_revoked"}, {}
            else:
                status, body, headers = self._answer(method, args, team, now)
            self.calls.append(
                Call(method, args if self.record_bodies else {}, token, team, now, status, bool(body.get("ok")))
            )
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, args: dict[str, Any], team: str, now: float
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        scope = self._scope(method, args, team)
        if now < self._penalty.get(scope, 0.0):  # called again before Retry-After passed
            self.violations += 1
            return self._too_many(scope, now, self._penalty[scope] - now)
        if self._scripted.get(method):
            status, body, headers = self._scripted[method].pop(0)
            if status == 429:
                self.rate_limited += 1
                self._penalty[scope] = now + float(headers["Retry-After"])
            return status, body, headers
        limited = self._limit(method, args, team, now) if self.limits else None
        if limited is not None:
            return limited
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, {"ok": True, **handler(args, team)}, {}

    def _limit(
        self, method: str, args: dict[str, Any], team: str, now: float
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        assert self.limits is not None
        scope = self._scope(method, args, team)
        window = self._window[team]
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.limits.workspace:
            return self._too_many(scope, now, window[0] + 1.0 - now)
        if method in self.limits.methods:
            per_minute, burst = self.limits.methods[method]
            interval = 60.0 / per_minute
            tolerance = interval * (burst - 1)
            next_free = self._method_next.get(f"{team}/{method}", now)
            if next_free - tolerance > now + 0.05:
                return self._too_many(scope, now, next_free - tolerance - now)
            self._method_next[f"{team}/{method}"] = max(next_free, now - tolerance) + interval
        if method in ("chat.postMessage", "files.completeUploadExternal"):
            key = f"{team}/{self._conversation(str(args.get('channel') or args.get('channel_id') or ''))}"
            interval = 1.0 / self.limits.per_channel
            tolerance = interval * (self.limits.channel_burst - 1)
            next_free = self._channel_next.get(key, now)
            if next_free - tolerance > now + 0.05:
                return self._too_many(scope, now, next_free - tolerance - now)
            self._channel_next[key] = max(next_free, now - tolerance) + interval
        window.append(now)
        return None

    def _scope(self, method: str, args: dict[str, Any], team: str) -> str:
        """What a ``Retry-After`` holds back: a method in a workspace; posts, in one channel."""
        if method == "chat.postMessage":
            return f"{team}/{method}/{self._conversation(str(args.get('channel', '')))}"
        return f"{team}/{method}"

    def _too_many(self, scope: str, now: float, wait: float) -> tuple[int, dict[str, Any], dict[str, str]]:
        retry_after = max(1, math.ceil(wait))
        self.rate_limited += 1
        self._penalty[scope] = max(self._penalty.get(scope, 0.0), now + retry_after)
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    def stats(self) -> dict[str, Any]:
        """What happened so far: calls per method, 429s, violations, posts and duplicate posts."""
        with self._lock:
            methods = collections.Counter(c.method for c in self.calls)
            times = [c.at for c in self.calls]
            keys = collections.Counter(self.post_keys)
            return {
                "calls": len(self.calls),
                "methods": dict(methods),
                "rate_limited": self.rate_limited,
                "violations": self.violations,
                "posts": len(self.post_keys),
                "unique_posts": len(keys),
                "duplicates": sum(n - 1 for n in keys.values() if n > 1),
                "first": min(times) if times else None,
                "last": max(times) if times else None,
                "per_second": dict(collections.Counter(int(t) for t in times)),
            }

    async def _stats(self, request: web.Request) -> web.Response:
        found = self.stats()
        if request.query.get("times"):
            with self._lock:
                found["times"] = [c.at for c in self.calls]
        if request.query.get("keys"):  # the idempotency key of every post, in order (repeats included)
            with self._lock:
                found["keys"] = list(self.post_keys)
        return web.json_response(found)

    # -- Socket Mode -----------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    def socket_send(self, envelope: dict[str, Any]) -> None:
        """Push an envelope (events_api, slash_commands, interactive) to every connected app."""
        assert self.loop is not None

        async def send() -> None:
            for ws in list(self._sockets):
                if not ws.closed:
                    await ws.send_json(envelope)

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(10)

    @property
    def socket_connected(self) -> bool:
        """Whether an app is connected over Socket Mode."""
        return any(not ws.closed for ws in self._sockets)

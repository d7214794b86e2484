"""A local fake of Slack: the Web API (recording every call), Socket Mode, and signed requests to the bot.

``FakeSlack`` runs an aiohttp server on a free port in its own thread, so synchronous clients (the
outbox deliverer) and asynchronous ones (the bolt app) can both call it. It answers like Slack (``ok``,
channel ids, ``ts``), can be told to answer an error or a 429 with ``Retry-After``, and can enforce
Slack-like limits (a request budget per workspace, about one message a second per channel, and each
method's own rate tier), counting any request made while a ``Retry-After`` is still running as a
violation. As on Slack, a ``Retry-After`` holds for the method it answered in that workspace (for
``chat.postMessage``, in that channel); other methods may still be called.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import itertools
import json
import math
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

SPECS = Path(__file__).resolve().parent / "specs" / "slack"
JSON_ARGS = {"blocks", "files", "view", "metadata", "attachments"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str
    team: str
    at: float
    status: int = 200
    ok: bool = True


TIERS = json.loads((SPECS / "rate_limit_tiers.json").read_text(encoding="utf-8"))
"""Slack's Web API rate tiers (calls a minute per method and workspace) and the tier of each method the bot calls."""


def tier_limits(burst_share: float = 0.2, scale: float = 1.0) -> dict[str, tuple[float, float]]:
    """Slack's tiers as :attr:`Limits.methods`: (calls a minute, burst) per method, a burst being
    ``burst_share`` of a minute's calls."""
    per_minute = {method: TIERS["per_minute"][str(tier)] * scale for method, tier in TIERS["methods"].items()}
    return {method: (rate, max(1.0, rate * burst_share)) for method, rate in per_minute.items()}


@dataclass
class Limits:
    """Slack-like limits: ``workspace`` requests per second per team, ``per_channel`` posts a second, and
    ``methods``: per method, (calls a minute, burst) per team (see :func:`tier_limits`)."""

    workspace: float = 100.0
    per_channel: float = 1.0
    channel_burst: float = 3.0
    methods: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class FakeSlack:
    """The fake Slack Web API. Use as a context manager; ``api_url`` is what SLACK_API_URL gets."""

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

    def landed_in(self, channel: str) -> str:
        """Where a post to ``channel`` went: a user id (``U…``, ``W…``) posted to is the bot's DM with them."""
        return self._channels.get(frozenset({channel}), channel) if channel[:1] in ("U", "W") else channel

    def dm_channel(self, *users: str) -> str:
        return self._channels.get(frozenset(users), "")

    # -- lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake-slack", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        self.loop = asyncio.new_event_loop()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", getattr(self, "port_wanted", 0))
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base}/api/"
        ready.set()
        self.loop.run_forever()

    # -- the Web API -----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
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

    def _conversation(self, channel: str) -> str:
        """The conversation a post to ``channel`` lands in. As on Slack, a user id (``U…``, ``W…``) as the channel
        of ``chat.postMessage`` is the bot's DM with that user (the App Home's Messages tab), opened if need be."""
        if channel[:1] not in ("U", "W") or channel in self.unreachable:
            return channel
        people = frozenset({channel})
        if people not in self._channels:
            self._channels[people] = self._new_id("D")
        return self._channels[people]

    def _too_many(self, scope: str, now: float, wait: float) -> tuple[int, dict[str, Any], dict[str, str]]:
        retry_after = max(1, math.ceil(wait))
        self.rate_limited += 1
        self._penalty[scope] = max(self._penalty.get(scope, 0.0), now + retry_after)
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _m_auth_test(self, _args: dict[str, Any], team: str) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "rmbot",
            "team_id": team,
            "user_id": self.bot_user,
            "bot_id": "B111",
        }

    def _m_users_info(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_users_lookupByEmail(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        for user in self.users.values():
            if user.get("profile", {}).get("email", "").lower() == str(args.get("email", "")).lower():
                return {"user": user}
        return {"ok": False, "error": "users_not_found"}

    def _m_users_list(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """``users`` in order, ``limit`` a page (at most 1000), paged by an opaque ``next_cursor`` as Slack does."""
        ids = list(self.users)
        start = 0
        if args.get("cursor"):
            try:
                start = ids.index(base64.b64decode(str(args["cursor"])).decode().removeprefix("user:"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        limit = min(int(args.get("limit") or 1000), 1000)
        page = ids[start : start + limit]
        more = ids[start + limit : start + limit + 1]
        cursor = base64.b64encode(f"user:{more[0]}".encode()).decode() if more else ""
        members = [self.users[user] for user in page]
        return {"members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": cursor}}

    def _m_conversations_open(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        users = frozenset(u for u in str(args.get("users", "")).split(",") if u)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if users not in self._channels:
            self._channels[users] = self._new_id("D" if len(users) == 1 else "G")
        return {"channel": {"id": self._channels[users]}}

    def group_dm(self, *users: str) -> str:
        """The id of the group DM of ``users`` and the bot (as ``conversations.open`` would give it)."""
        people = frozenset(users)
        if people not in self._channels:
            self._channels[people] = self._new_id("G")
        return self._channels[people]

    def _members(self, channel: str) -> list[str] | None:
        found = [users for users, opened in self._channels.items() if opened == channel]
        return sorted(found[0]) + [self.bot_user] if found else None

    def _m_conversations_info(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        members = self._members(channel)
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"channel": {"id": channel, "is_im": len(members) == 2, "is_mpim": len(members) > 2}}

    def _m_conversations_members(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        members = self._members(str(args.get("channel", "")))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _m_chat_postMessage(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        channel = self._conversation(str(args.get("channel", "")))
        if channel in self.unreachable:
            return {"ok": False, "error": self.unreachable[channel]}
        ts = f"{time.time():.6f}"
        metadata = args.get("metadata") or {}
        self.post_keys.append(str((metadata.get("event_payload") or {}).get("key", "")))
        self.messages[channel].append(
            {
                "ts": ts,
                "text": None if not self.record_bodies else args.get("text"),
                "metadata": metadata,
                "blocks": args.get("blocks") if self.record_bodies else None,
            }
        )
        return {"channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _m_chat_update(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """Changes a message posted before (its text, blocks and metadata as given); unknown: message_not_found."""
        found = next((m for m in self.messages.get(str(args.get("channel")), []) if m["ts"] == args.get("ts")), None)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        found.update({k: args[k] for k in ("text", "blocks", "metadata") if k in args and self.record_bodies})
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _m_conversations_history(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        for bound in ("latest", "oldest"):  # as Slack answers a bound that is not a timestamp
            try:
                float(args.get(bound) or 0)
            except (TypeError, ValueError):
                return {"ok": False, "error": f"invalid_ts_{bound}"}
        kept = self.messages.get(str(args.get("channel")), [])
        inclusive = str(args.get("inclusive")).lower() in ("true", "1")
        if args.get("latest"):  # only messages up to ``latest`` (and from ``oldest``), ``inclusive`` of both ends
            latest = float(args["latest"])
            kept = [m for m in kept if float(m["ts"]) < latest or (inclusive and float(m["ts"]) == latest)]
        if args.get("oldest"):
            oldest = float(args["oldest"])
            kept = [m for m in kept if float(m["ts"]) > oldest or (inclusive and float(m["ts"]) == oldest)]
        posted = list(reversed(kept))[: int(args.get("limit", 100))]
        if str(args.get("include_all_metadata")).lower() not in ("true", "1"):
            posted = [{k: v for k, v in m.items() if k != "metadata"} for m in posted]
        return {"messages": posted, "has_more": False}

    def _m_views_open(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        if str(args.get("trigger_id", "")).startswith("expired"):
            return {"ok": False, "error": "expired_trigger_id"}
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_views_push(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        if str(args.get("trigger_id", "")).startswith("expired"):
            return {"ok": False, "error": "expired_trigger_id"}
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_views_publish(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        file_id = self._new_id("F")
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        files = args.get("files") or []
        return {
            "files": [
                {"id": f["id"], "title": f.get("title"), "size": len(self.uploads.get(f["id"], b""))} for f in files
            ]
        }

    def _m_oauth_v2_access(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """An install (``install``: ``team``, ``token``, ``user``; ``enterprise`` {id, name} for Enterprise Grid,
        ``org_wide`` for an org-wide install, ``refresh_token`` and ``expires_in`` with token rotation), or a
        refresh of a rotating token (``grant_type=refresh_token``)."""
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token", "")))
        org_wide = bool(self.install.get("org_wide"))
        enterprise: dict[str, str] | None = self.install.get("enterprise")
        team = self.install.get("team", "T_INSTALLED")
        token = self.install.get("token", "xoxb-installed")
        self.tokens[token] = enterprise["id"] if org_wide and enterprise else team
        answer = {
            "access_token": token,
            "token_type": "bot",
            "scope": "chat:write,commands",
            "bot_user_id": self.bot_user,
            "app_id": "A111",
            "team": None if org_wide else {"id": team, "name": self.install.get("team_name", "Installed Workspace")},
            "enterprise": enterprise,
            "is_enterprise_install": org_wide,
            "authed_user": {"id": self.install.get("user", "U_INSTALLER")},
        }
        if self.install.get("refresh_token"):
            self.refreshable[self.install["refresh_token"]] = self.tokens[token]
            answer.update(refresh_token=self.install["refresh_token"], expires_in=self.install.get("expires_in", 43200))
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """Token rotation: a new bot token (and refresh token) for a refresh token Slack gave out."""
        team = self.refreshable.get(refresh_token)
        if team is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        number = len(self.refreshed) + 1
        token, renewed = f"xoxe.xoxb-rotated-{number}", f"xoxe-1-refresh-{number}"
        self.tokens[token] = team
        self.refreshable[renewed] = team
        self.refreshed.append(token)
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": "chat:write,commands",
            "refresh_token": renewed,
            "expires_in": self.refreshed_expires_in,
            "team": {"id": team},
            "enterprise": None,
        }

    def _m_apps_connections_open(self, _args: dict[str, Any], _team: str) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/link"}

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
        return any(not ws.closed for ws in self._sockets)


# -- requests from "Slack" to the bot --------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature: ``v0=`` + HMAC-SHA256 over ``v0:timestamp:body``."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str, body: str, content_type: str, timestamp: int | None = None, retry: int | None = None
) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, signature, and a retry number when it is a retry."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return headers


def payload(name: str) -> Any:
    """A request body from the conformance kit: JSON files parsed, form files as their raw text."""
    text = (SPECS / "payloads" / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text.strip()


def form_body(fields: dict[str, Any]) -> str:
    """A form-encoded body (slash commands)."""
    return urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None})


def interactive_body(data: dict[str, Any]) -> str:
    """An interactivity body: the JSON payload as Slack sends it, ``payload=`` form-encoded."""
    return urllib.parse.urlencode({"payload": json.dumps(data)})


def slack_user(
    user_id: str, name: str, email: str = "", title: str = "", tz: str = "Europe/London", is_bot: bool = False
) -> dict[str, Any]:
    """A ``users.info`` user object."""
    return {
        "id": user_id,
        "name": name.lower().replace(" ", "."),
        "real_name": name,
        "tz": tz,
        "is_bot": is_bot,
        "deleted": False,
        "profile": {"real_name": name, "display_name": name.split()[0], "email": email, "title": title},
    }


def main() -> None:
    """Run the fake on its own (benchmarks): ``python tests/fake_slack.py PORT [WORKSPACE_RPS]``."""
    import sys

    limits = Limits(workspace=float(sys.argv[2])) if len(sys.argv) > 2 else None
    users = {f"U{n:05d}": slack_user(f"U{n:05d}", f"Person {n}", f"person{n}@example.com") for n in range(1, 1001)}
    fake = FakeSlack(users=users, limits=limits, record_bodies=False)
    fake.port_wanted = int(sys.argv[1])  # type: ignore[attr-defined]
    with fake:
        print(fake.api_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

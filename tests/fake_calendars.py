"""A local fake of Microsoft Graph's calendars and Google's Calendar API, with their token endpoints.

``FakeCalendars`` runs an aiohttp server on a free port in its own thread (like ``fake_teams.FakeTeams``), built
from the APIs' documented shapes (``tests/specs/calendars/``):

- Microsoft Entra ID: the tenant's OpenID metadata and ``POST /{tenant}/oauth2/v2.0/token`` (client credentials;
  MSAL reaches them through :meth:`FakeCalendars.login_client`, as MSAL takes only https authorities).
- Graph: ``POST /graph/v1.0/users/{id}/calendar/getSchedule`` (answers like the documented example, with each
  busy item's subject and location, which the bot must never keep), ``POST …/users/{id}/events`` (one event per
  ``transactionId``), ``PATCH …/events/{id}``, ``POST …/events/{id}/cancel``.
- Google: ``POST /google/token`` (the JWT bearer grant of a service account, signature checked, ``sub`` the
  person the service account acts as, delegation refusable per person) and, under ``/google/calendar/v3``,
  ``POST /freeBusy``, ``POST /calendars/primary/events`` (409 ``duplicate`` for an id that exists), ``GET``,
  ``PATCH`` and ``DELETE …/events/{id}`` (410 ``deleted`` the second time).

Control: ``busy[email]`` (UTC spans), ``unreachable[email]`` (an HTTP status, or ``"error"`` for an error in the
schedule itself), ``throttle(n, seconds)`` (the next n API calls answered 429 with Retry-After). Every API request
is recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import requests
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_teams import LOGIN_URL, login_transport

SPECS = Path(__file__).parent / "specs" / "calendars"
TENANT = "contoso-tenant"
BUSY_SUBJECT = "Let's go for lunch"
"""What the documented getSchedule example says a busy item is: the bot must never keep it."""
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The audience of a service account's assertion, whatever token endpoint it is sent to (as Google requires)."""
GOOGLE_ID = re.compile(r"^[a-v0-9]{5,1024}$")


@functools.cache
def _service_account_key() -> rsa.RSAPrivateKey:
    """The service account's key, made once per process rather than per fake (a 2,048-bit key costs tens of ms)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Call:
    api: str
    """``graph`` or ``google``."""
    method: str
    path: str
    body: Any
    subject: str
    """Who the call acted as: the Graph path's user, or the Google token's ``sub``."""
    status: int = 0


@dataclass
class FakeCalendars:
    busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    unreachable: dict[str, int | str] = field(default_factory=dict)
    refused_delegation: set[str] = field(default_factory=set)
    """People the Google service account may not act as (the token endpoint answers ``unauthorized_client``)."""

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.token_requests: list[dict[str, str]] = []
        self.graph_events: dict[str, dict[str, Any]] = {}
        self.google_events: dict[str, dict[str, Any]] = {}
        self._throttles: list[float] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.key = _service_account_key()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.graph_example = json.loads((SPECS / "graph_getschedule_response.json").read_text())["value"][0]

    # -- control -------------------------------------------------------------------------------------

    def throttle(self, times: int = 1, seconds: float = 7) -> None:
        """The next ``times`` API calls are answered 429 with ``Retry-After: seconds``."""
        with self._lock:
            self._throttles += [seconds] * times

    def api_calls(self, api: str, method: str | None = None, path_part: str = "") -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls if c.api == api and (method is None or c.method == method) and path_part in c.path
            ]

    def service_account(self) -> dict[str, Any]:
        """A service account key file's content, its private key this fake's, its token_uri this fake."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": "rmbot-test",
            "private_key_id": "key-1",
            "private_key": pem,
            "client_email": "rmbot-calendars@rmbot-test.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": f"{self.base}/google/token",
        }

    def login_client(self) -> requests.Session:
        """MSAL's transport: ``LOGIN_URL`` reaches this fake (MSAL takes only https authorities)."""
        return login_transport(lambda: self.base)

    @property
    def graph_url(self) -> str:
        return f"{self.base}/graph/v1.0"

    @property
    def google_url(self) -> str:
        return f"{self.base}/google/calendar/v3"

    # -- lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> FakeCalendars:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake-calendars", daemon=True)
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
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._login_metadata)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._entra_token)
        app.router.add_post("/graph/v1.0/users/{user}/calendar/getSchedule", self._get_schedule)
        app.router.add_post("/graph/v1.0/users/{user}/events", self._graph_create)
        app.router.add_patch("/graph/v1.0/users/{user}/events/{id}", self._graph_patch)
        app.router.add_post("/graph/v1.0/users/{user}/events/{id}/cancel", self._graph_cancel)
        app.router.add_post("/google/token", self._google_token)
        app.router.add_post("/google/calendar/v3/freeBusy", self._free_busy)
        app.router.add_post("/google/calendar/v3/calendars/{calendar}/events", self._google_insert)
        app.router.add_route("*", "/google/calendar/v3/calendars/{calendar}/events/{id}", self._google_event)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{self.port}"
        ready.set()
        self.loop.run_forever()

    # -- shared --------------------------------------------------------------------------------------

    async def _record(self, request: web.Request, api: str, subject: str) -> tuple[Call, web.Response | None]:
        """Record the call; answer 429 when throttled."""
        body = await request.json() if request.can_read_body else None
        call = Call(api, request.method, request.path, body, subject)
        with self._lock:
            self.calls.append(call)
            if self._throttles:
                seconds = self._throttles.pop(0)
                call.status = 429
                error = {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}
                return call, web.json_response(error, status=429, headers={"Retry-After": f"{seconds:g}"})
        return call, None

    @staticmethod
    def _answer(call: Call, body: Any, status: int = 200) -> web.Response:
        call.status = status
        return web.Response(status=status) if body is None else web.json_response(body, status=status)

    # -- Microsoft Entra ID ----------------------------------------------------------------------------

    async def _login_metadata(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        return web.json_response(
            {
                "issuer": f"{LOGIN_URL}/{tenant}/v2.0",
                "authorization_endpoint": f"{LOGIN_URL}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{LOGIN_URL}/{tenant}/oauth2/v2.0/token",
            }
        )

    async def _entra_token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        with self._lock:
            self.token_requests.append(form)
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scope") != "https://graph.microsoft.com/.default"
        ):
            return web.json_response({"error": "invalid_request"}, status=400)
        if form.get("client_secret") != "graph-secret":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": "graph-token"})

    # -- Graph -----------------------------------------------------------------------------------------

    def _graph_authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == "Bearer graph-token"

    def _schedule(self, email: str, start: datetime, end: datetime, interval: int) -> dict[str, Any]:
        """One scheduleInformation, shaped like the documented example (subject and location included)."""
        trouble = self.unreachable.get(email)
        if trouble == "error":
            return {
                "scheduleId": email,
                "availabilityView": "",
                "error": {"message": "The user was not found.", "responseCode": "ErrorMailRecipientNotFound"},
            }
        spans = [(s, e) for s, e in self.busy.get(email, []) if s < end and start < e]
        items = []
        for s, e in spans:
            item = json.loads(json.dumps(self.graph_example["scheduleItems"][0]))
            item["start"] = {"dateTime": s.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
            item["end"] = {"dateTime": e.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
            items.append(item)
        slots = int((end - start).total_seconds() // (interval * 60))
        view = "".join(
            "2"
            if any(
                s < start.timestamp() + (n + 1) * interval * 60 and start.timestamp() + n * interval * 60 < e
                for s, e in ((a.timestamp(), b.timestamp()) for a, b in spans)
            )
            else "0"
            for n in range(slots)
        )
        return {**self.graph_example, "scheduleId": email, "availabilityView": view, "scheduleItems": items}

    async def _get_schedule(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        call, throttled = await self._record(request, "graph", user)
        if throttled:
            return throttled
        if not self._graph_authorised(request):
            return self._answer(call, {"error": {"code": "InvalidAuthenticationToken"}}, 401)
        status = self.unreachable.get(user)
        if isinstance(status, int):
            code = "ErrorAccessDenied" if status == 403 else "ErrorItemNotFound"
            return self._answer(call, {"error": {"code": code, "message": "Access is denied."}}, status)
        body = call.body
        zone = request.headers.get("Prefer", "")
        assert 'outlook.timezone="UTC"' in zone or not zone, zone
        start = _graph_time(body["startTime"])
        end = _graph_time(body["endTime"])
        if (end - start).days > 62:
            return self._answer(call, {"error": {"code": "ErrorInvalidParameter", "message": "62 days at most"}}, 400)
        interval = int(body.get("availabilityViewInterval", 30))
        value = [self._schedule(email, start, end, interval) for email in body["schedules"]]
        return self._answer(call, {"@odata.context": "…scheduleInformation", "value": value})

    async def _graph_create(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        call, throttled = await self._record(request, "graph", user)
        if throttled:
            return throttled
        if not self._graph_authorised(request):
            return self._answer(call, {"error": {"code": "InvalidAuthenticationToken"}}, 401)
        body = call.body
        for event in self.graph_events.values():  # a retried POST: the event it made before
            if event["transactionId"] == body.get("transactionId") and event["organizer"] == user:
                return self._answer(call, event, 201)
        event_id = f"AAMkAG{next(self._ids):06d}="
        event = {
            **body,
            "id": event_id,
            "organizer": user,
            "isCancelled": False,
            "onlineMeeting": {"joinUrl": f"https://teams.microsoft.com/l/meetup-join/{event_id}"}
            if body.get("isOnlineMeeting")
            else None,
        }
        self.graph_events[event_id] = event
        return self._answer(call, event, 201)

    async def _graph_patch(self, request: web.Request) -> web.Response:
        user, event_id = request.match_info["user"], request.match_info["id"]
        call, throttled = await self._record(request, "graph", user)
        if throttled:
            return throttled
        event = self.graph_events.get(event_id)
        if event is None or event["organizer"] != user:
            return self._answer(call, {"error": {"code": "ErrorItemNotFound"}}, 404)
        event.update(call.body)
        return self._answer(call, event)

    async def _graph_cancel(self, request: web.Request) -> web.Response:
        user, event_id = request.match_info["user"], request.match_info["id"]
        call, throttled = await self._record(request, "graph", user)
        if throttled:
            return throttled
        event = self.graph_events.get(event_id)
        if event is None or event["organizer"] != user or event["isCancelled"]:
            return self._answer(call, {"error": {"code": "ErrorItemNotFound"}}, 404)
        event["isCancelled"] = True
        return self._answer(call, None, 202)

    # -- Google ----------------------------------------------------------------------------------------

    async def _google_token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        with self._lock:
            self.token_requests.append(form)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.key.public_key(),
                algorithms=["RS256"],
                audience=GOOGLE_AUDIENCE,
            )
        except jwt.PyJWTError:
            return web.json_response({"error": "invalid_grant", "error_description": "Invalid JWT"}, status=400)
        subject = str(claims.get("sub", ""))
        if subject in self.refused_delegation or not subject:
            return web.json_response({"error": "unauthorized_client"}, status=401)
        token = f"google:{subject}:{claims.get('scope', '')}"
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    @staticmethod
    def _google_caller(request: web.Request) -> tuple[str, str]:
        """(subject, scope) of the bearer token."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer google:"):
            return "", ""
        subject, _, scope = header[len("Bearer google:") :].partition(":")
        return subject, scope

    @staticmethod
    def _google_error(call: Call, status: int, reason: str, message: str) -> web.Response:
        body = {"error": {"errors": [{"domain": "global", "reason": reason, "message": message}], "code": status}}
        return FakeCalendars._answer(call, {**body, "message": message}, status)

    async def _free_busy(self, request: web.Request) -> web.Response:
        subject, scope = self._google_caller(request)
        call, throttled = await self._record(request, "google", subject)
        if throttled:
            return throttled
        if not subject or not scope.endswith("calendar.freebusy"):
            return self._google_error(call, 403, "insufficientPermissions", "Insufficient Permission")
        body = call.body
        start, end = _rfc3339(body["timeMin"]), _rfc3339(body["timeMax"])
        calendars: dict[str, Any] = {}
        for item in body["items"]:
            email = item["id"]
            if email in self.unreachable:
                calendars[email] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            spans = [(s, e) for s, e in self.busy.get(email, []) if s < end and start < e]
            calendars[email] = {"busy": [{"start": _z(s), "end": _z(e)} for s, e in spans]}
        return self._answer(
            call,
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            },
        )

    async def _google_insert(self, request: web.Request) -> web.Response:
        subject, scope = self._google_caller(request)
        call, throttled = await self._record(request, "google", subject)
        if throttled:
            return throttled
        if not subject or not scope.endswith("calendar.events"):
            return self._google_error(call, 403, "insufficientPermissions", "Insufficient Permission")
        body = call.body
        event_id = str(body.get("id", ""))
        if not GOOGLE_ID.match(event_id):
            return self._google_error(call, 400, "invalid", "Invalid resource id value.")
        if event_id in self.google_events:
            return self._google_error(call, 409, "duplicate", "The requested identifier already exists.")
        event = {**body, "organizer": {"email": subject, "self": True}, "status": "confirmed"}
        if request.query.get("conferenceDataVersion") == "1" and "createRequest" in body.get("conferenceData", {}):
            event["hangoutLink"] = f"https://meet.google.com/{event_id[:3]}-{event_id[3:7]}-{event_id[7:10]}"
        event["sendUpdates"] = request.query.get("sendUpdates", "")
        self.google_events[event_id] = event
        return self._answer(call, event)

    async def _google_event(self, request: web.Request) -> web.Response:
        subject, scope = self._google_caller(request)
        call, throttled = await self._record(request, "google", subject)
        if throttled:
            return throttled
        event = self.google_events.get(request.match_info["id"])
        if event is None or event["organizer"]["email"] != subject:
            return self._google_error(call, 404, "notFound", "Not Found")
        if event["status"] == "cancelled":
            return self._google_error(call, 410, "deleted", "Resource has been deleted")
        if request.method == "GET":
            return self._answer(call, event)
        if request.method == "PATCH":
            event.update(call.body)
            return self._answer(call, event)
        if request.method == "DELETE":
            event["status"] = "cancelled"
            return self._answer(call, None, 204)
        return self._answer(call, None, 405)


def _graph_time(value: dict[str, str]) -> datetime:
    assert value["timeZone"] == "UTC", value
    return datetime.fromisoformat(value["dateTime"]).replace(tzinfo=UTC)


def _rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_until(check: Any, seconds: float = 5.0) -> None:
    """Poll ``check`` until it is true (the fake answers on its own thread)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)

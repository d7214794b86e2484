"""Google's side of the fake calendars: the JWT bearer token endpoint of a service account (signature
checked, delegation refusable per person) and the Calendar API's ``freeBusy`` and events (insert with a
caller-chosen id, get, patch, delete).

``GoogleCalendar`` is a part of ``FakeCalendars`` (``tests/fake_calendars.py``), which serves these routes and
sets up the state they use.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_calendars_calls import Call, RecordedCalls

GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The audience of a service account's assertion, whatever token endpoint it is sent to (as Google requires)."""
GOOGLE_ID = re.compile(r"^[a-v0-9]{5,1024}$")


class GoogleCalendar(RecordedCalls):
    """Google's token endpoint and Calendar API, as ``FakeCalendars`` serves them."""

    busy: dict[str, list[tuple[datetime, datetime]]]
    unreachable: dict[str, int | str]
    refused_delegation: set[str]
    token_requests: list[dict[str, str]]
    google_events: dict[str, dict[str, Any]]
    key: rsa.RSAPrivateKey

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
        return RecordedCalls._answer(call, {**body, "message": message}, status)

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


def _rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

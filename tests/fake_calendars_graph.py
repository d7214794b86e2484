"""Microsoft's side of the fake calendars: Entra ID's OpenID metadata and client-credentials token endpoint,
and Graph's ``getSchedule`` and calendar events (create once per ``transactionId``, update, cancel).

``GraphCalendar`` is a part of ``FakeCalendars`` (``tests/fake_calendars.py``), which serves these routes and
sets up the state they use.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fake_calendars_calls import RecordedCalls


class GraphCalendar(RecordedCalls):
    """Microsoft Entra ID and Graph's calendars, as ``FakeCalendars`` serves them."""

    busy: dict[str, list[tuple[datetime, datetime]]]
    unreachable: dict[str, int | str]
    token_requests: list[dict[str, str]]
    graph_events: dict[str, dict[str, Any]]
    graph_example: dict[str, Any]
    _ids: itertools.count[int]

    # -- Microsoft Entra ID ----------------------------------------------------------------------------

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


def _graph_time(value: dict[str, str]) -> datetime:
    assert value["timeZone"] == "UTC", value
    return datetime.fromisoformat(value["dateTime"]).replace(tzinfo=UTC)

"""Microsoft 365 calendars through Microsoft Graph, with an app registration's own token (client credentials
through MSAL, scope ``https://graph.microsoft.com/.default``) and the application permission Calendars.ReadWrite,
which an Exchange application access policy limits to the programme's people (see docs/integrations.md).

- free/busy: ``POST /users/{id}/calendar/getSchedule`` for one person at a time, so that one unreachable mailbox
  (403 outside the access policy, 404, or an ``error`` in its schedule) costs only that person's calendar. Only
  the busy intervals are taken: ``scheduleItems`` start and end (subject and location are never read), or the
  ``availabilityView`` string when there are no items.
- events: ``POST /users/{organiser}/events`` with ``isOnlineMeeting`` (a Teams meeting) and a ``transactionId``
  derived from the session, so that a retried POST finds the event it created; ``PATCH`` to move it,
  ``POST …/cancel`` to cancel it (attendees get Exchange's cancellation).
- 429 (and 503) with Retry-After: :class:`Throttled`, the request is deferred, never slept on.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from adapters.calendars.common import Span, Throttled, Unreadable, WriteFailed, WrittenEvent, retry_after, utc
from adapters.teams.tokens import ClientCredentials, TokenError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
BUSY = {"busy", "oof", "tentative"}
"""scheduleItem statuses that make a time unavailable (``free`` and ``workingElsewhere`` do not)."""
BUSY_VIEW = set("123")
"""availabilityView digits: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere."""
VIEW_MINUTES = 30


def transaction_id(uid: str) -> str:
    """The stable ``transactionId`` of a session's event: the same for every retry of its creation."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rmbot:{uid}"))


class GraphCalendars:
    """Microsoft Graph's calendar calls for the calendar worker."""

    name = "microsoft"

    def __init__(
        self,
        token: Callable[[], str],
        base_url: str = "https://graph.microsoft.com/v1.0",
        http: requests.Session | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.token, self.base = token, base_url.rstrip("/")
        self.http = http or requests.Session()
        self.timeout = timeout

    @classmethod
    def with_secret(
        cls,
        login_url: str,
        tenant: str,
        client_id: str,
        secret: str,
        base_url: str,
        http_client: requests.Session | None = None,
    ) -> GraphCalendars:
        """Graph with the app registration's token from MSAL (``ConfidentialClientApplication``)."""
        tokens = ClientCredentials(login_url, tenant, client_id, secret, http_client, scope=GRAPH_SCOPE)
        return cls(tokens, base_url)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", "Prefer": 'outlook.timezone="UTC"'}
        return self.http.request(method, self.base + path, json=body, headers=headers, timeout=self.timeout)

    @staticmethod
    def _user(email: str) -> str:
        return urllib.parse.quote(email, safe="@")

    # -- free/busy --------------------------------------------------------------------------------------

    def busy(self, email: str, start: datetime, end: datetime) -> list[Span]:
        """Busy intervals of one person from getSchedule."""
        if not email:
            raise Unreadable("no email on record")
        body = {
            "schedules": [email],
            "startTime": {"dateTime": _naive_utc(start), "timeZone": "UTC"},
            "endTime": {"dateTime": _naive_utc(end), "timeZone": "UTC"},
            "availabilityViewInterval": VIEW_MINUTES,
        }
        try:
            answer = self._call("POST", f"/users/{self._user(email)}/calendar/getSchedule", body)
        except (requests.RequestException, TokenError) as failure:
            raise Unreadable(type(failure).__name__) from None
        if answer.status_code in (429, 503):
            raise Throttled(retry_after(answer.headers), f"getSchedule {answer.status_code}")
        if answer.status_code != 200:
            raise Unreadable(f"getSchedule answered {answer.status_code}")
        schedules = answer.json().get("value", [])
        mine = next((s for s in schedules if str(s.get("scheduleId", "")).lower() == email.lower()), None)
        if mine is None or "error" in mine:
            raise Unreadable("getSchedule: no schedule for this person")
        items = mine.get("scheduleItems")
        if items:
            return [
                (utc(item["start"]["dateTime"]), utc(item["end"]["dateTime"]))
                for item in items
                if str(item.get("status", "busy")) in BUSY
            ]
        view = str(mine.get("availabilityView", ""))
        step = timedelta(minutes=VIEW_MINUTES)
        return [(start + n * step, start + (n + 1) * step) for n, digit in enumerate(view) if digit in BUSY_VIEW]

    # -- events -----------------------------------------------------------------------------------------

    def known_event_id(self, event: dict[str, Any]) -> str:
        """Graph chooses its events' ids: the queue remembers them."""
        return ""

    def create(self, event: dict[str, Any]) -> WrittenEvent:
        """The event in the organiser's calendar, inviting the others, with a Teams meeting."""
        body = {
            "subject": event["subject"],
            "body": {"contentType": "text", "content": event["body"]},
            **_times(event),
            "attendees": _attendees(event),
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            "allowNewTimeProposals": False,
            "transactionId": transaction_id(event["uid"]),
        }
        answer = self._write("POST", f"/users/{self._user(event['organiser'])}/events", body)
        return _written(answer.json())

    def update(self, event_id: str, event: dict[str, Any]) -> WrittenEvent:
        """The event moved to the payload's times."""
        path = f"/users/{self._user(event['organiser'])}/events/{urllib.parse.quote(event_id, safe='')}"
        body = {**_times(event), "attendees": _attendees(event)}
        return _written(self._write("PATCH", path, body).json())

    def cancel(self, event_id: str, event: dict[str, Any]) -> None:
        """Cancel the event: Exchange sends the attendees its cancellation."""
        path = f"/users/{self._user(event['organiser'])}/events/{urllib.parse.quote(event_id, safe='')}/cancel"
        self._write("POST", path, {"comment": event.get("body", "")}, gone_ok=True)

    def _write(self, method: str, path: str, body: dict[str, Any], *, gone_ok: bool = False) -> requests.Response:
        try:
            answer = self._call(method, path, body)
        except (requests.RequestException, TokenError) as failure:
            raise WriteFailed(type(failure).__name__, passing=True) from None
        if answer.status_code in (429, 503):
            raise Throttled(retry_after(answer.headers), f"{method} {answer.status_code}")
        if gone_ok and answer.status_code == 404:
            return answer
        if answer.status_code >= 500:
            raise WriteFailed(f"{method} answered {answer.status_code}", passing=True)
        if answer.status_code >= 400:
            raise WriteFailed(f"{method} answered {answer.status_code}: {_error_code(answer)}", passing=False)
        return answer


def _naive_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _times(event: dict[str, Any]) -> dict[str, Any]:
    """Start and end in the series' own zone (Graph takes IANA names), so the event keeps its local time."""
    zone = ZoneInfo(event["time_zone"])
    shown = {}
    for name in ("start", "end"):
        local = datetime.fromisoformat(event[name]).astimezone(zone).replace(tzinfo=None)
        shown[name] = {"dateTime": local.isoformat(timespec="seconds"), "timeZone": event["time_zone"]}
    return shown


def _attendees(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"address": a}, "type": "required"} for a in event["attendees"]]


def _written(body: dict[str, Any]) -> WrittenEvent:
    meeting = body.get("onlineMeeting") or {}
    return WrittenEvent(event_id=str(body.get("id", "")), join_url=str(meeting.get("joinUrl", "")))


def _error_code(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error", {}).get("code", ""))[:80]
    except ValueError:
        return ""

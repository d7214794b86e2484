"""Google Workspace calendars through the Calendar API, with a service account and domain-wide delegation: the
service account (google-auth's ``service_account.Credentials``) acts as each person in turn (``with_subject``),
with only the scopes each call needs: ``calendar.freebusy`` to read free/busy, ``calendar.events`` to write the
session's events (see docs/integrations.md).

- free/busy: ``POST /freeBusy`` as the person, for their own calendar; ``calendars[id].busy`` is all that is read,
  and ``calendars[id].errors`` (or a refused delegation) makes their calendar unreadable.
- events: ``events.insert`` on the organiser's primary calendar with an id derived from the session (base32hex),
  so a retried insert answers 409 and the event already there is read back; a Google Meet link comes from
  ``conferenceData.createRequest`` with a stable ``requestId`` (``conferenceDataVersion=1``); ``events.patch`` to
  move it and ``events.delete`` to cancel it, both with ``sendUpdates=all``.
- 429, and 403 with reason ``rateLimitExceeded`` / ``userRateLimitExceeded``: :class:`Throttled`.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from adapters.calendars.common import Span, Throttled, Unreadable, WriteFailed, WrittenEvent, retry_after, utc

FREEBUSY_SCOPE = "https://www.googleapis.com/auth/calendar.freebusy"
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}


def event_id(uid: str) -> str:
    """The session's Google event id: base32hex (letters a-v and digits) of its calendar UID, stable for ever."""
    return base64.b32hexencode(uid.encode()).decode().rstrip("=").lower()


class GoogleCalendars:
    """The Calendar API's calls for the calendar worker, acting as each person through domain-wide delegation."""

    name = "google"

    def __init__(
        self,
        key: dict[str, Any],
        api_url: str = "https://www.googleapis.com/calendar/v3",
        token_url: str = "",
        timeout: float = 20.0,
    ) -> None:
        self.key = {**key, "token_uri": token_url} if token_url else dict(key)
        self.base, self.timeout = api_url.rstrip("/"), timeout
        self._sessions: dict[tuple[str, str], AuthorizedSession] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str, api_url: str, token_url: str = "") -> GoogleCalendars:
        """From the service account's JSON key file."""
        return cls(json.loads(Path(path).read_text(encoding="utf-8")), api_url, token_url)

    def _as(self, subject: str, scope: str) -> AuthorizedSession:
        """A session acting as ``subject`` with ``scope`` (its token cached by google-auth until it expires)."""
        with self._lock:
            if (subject, scope) not in self._sessions:
                credentials = service_account.Credentials.from_service_account_info(self.key, scopes=[scope])
                self._sessions[(subject, scope)] = AuthorizedSession(credentials.with_subject(subject))
            return self._sessions[(subject, scope)]

    @staticmethod
    def _throttled(answer: requests.Response) -> Throttled | None:
        if answer.status_code == 429 or (answer.status_code == 403 and _reason(answer) in RATE_LIMITS):
            return Throttled(retry_after(answer.headers), f"{answer.status_code} {_reason(answer)}")
        return None

    # -- free/busy --------------------------------------------------------------------------------------

    def busy(self, email: str, start: datetime, end: datetime) -> list[Span]:
        """Busy intervals of one person from freeBusy.query."""
        if not email:
            raise Unreadable("no email on record")
        body: dict[str, Any] = {"timeMin": start.isoformat(), "timeMax": end.isoformat(), "items": [{"id": email}]}
        try:
            answer = self._as(email, FREEBUSY_SCOPE).post(f"{self.base}/freeBusy", json=body, timeout=self.timeout)
        except (requests.RequestException, GoogleAuthError) as failure:
            raise Unreadable(type(failure).__name__) from None
        if throttled := self._throttled(answer):
            raise throttled
        if answer.status_code != 200:
            raise Unreadable(f"freeBusy answered {answer.status_code}")
        calendars = answer.json().get("calendars", {})
        mine = calendars.get(email) or next((v for k, v in calendars.items() if k.lower() == email.lower()), None)
        if mine is None or mine.get("errors"):
            raise Unreadable("freeBusy: this calendar could not be read")
        return [(utc(span["start"]), utc(span["end"])) for span in mine.get("busy", [])]

    # -- events -----------------------------------------------------------------------------------------

    def known_event_id(self, event: dict[str, Any]) -> str:
        """Google takes the id we give: derived from the session's UID."""
        return event_id(event["uid"])

    def _events(self, event: dict[str, Any], suffix: str = "") -> str:
        return f"{self.base}/calendars/primary/events{suffix}"

    def create(self, event: dict[str, Any]) -> WrittenEvent:
        """Insert the event in the organiser's calendar, inviting the others, with a Google Meet link."""
        chosen = event_id(event["uid"])
        body = {
            "id": chosen,
            "summary": event["subject"],
            "description": event["body"],
            **_times(event),
            "attendees": [{"email": a} for a in event["attendees"]],
            "conferenceData": {
                "createRequest": {"requestId": chosen, "conferenceSolutionKey": {"type": "hangoutsMeet"}}
            },
        }
        url = self._events(event) + "?conferenceDataVersion=1&sendUpdates=all"
        answer = self._write(event, "POST", url, body, exists_ok=True)
        if answer.status_code == 409:  # inserted by an earlier try: read it back
            answer = self._write(event, "GET", self._events(event, f"/{chosen}"), None)
        return _written(answer.json())

    def update(self, event_id: str, event: dict[str, Any]) -> WrittenEvent:
        """Patch the event's times (attendees are told)."""
        url = self._events(event, f"/{urllib.parse.quote(event_id)}") + "?sendUpdates=all"
        body = {**_times(event), "attendees": [{"email": a} for a in event["attendees"]]}
        return _written(self._write(event, "PATCH", url, body).json())

    def cancel(self, event_id: str, event: dict[str, Any]) -> None:
        """Delete the event (attendees get the cancellation); one already gone (404, 410) counts as deleted."""
        url = self._events(event, f"/{urllib.parse.quote(event_id)}") + "?sendUpdates=all"
        self._write(event, "DELETE", url, None, gone_ok=True)

    def _write(
        self,
        event: dict[str, Any],
        method: str,
        url: str,
        body: dict[str, Any] | None,
        *,
        exists_ok: bool = False,
        gone_ok: bool = False,
    ) -> requests.Response:
        try:
            answer = self._as(event["organiser"], EVENTS_SCOPE).request(method, url, json=body, timeout=self.timeout)
        except (requests.RequestException, GoogleAuthError) as failure:
            raise WriteFailed(type(failure).__name__, passing=True) from None
        if throttled := self._throttled(answer):
            raise throttled
        if (exists_ok and answer.status_code == 409) or (gone_ok and answer.status_code in (404, 410)):
            return answer
        if answer.status_code >= 500:
            raise WriteFailed(f"{method} answered {answer.status_code}", passing=True)
        if answer.status_code >= 400:
            raise WriteFailed(f"{method} answered {answer.status_code}: {_reason(answer)}", passing=False)
        return answer


def _times(event: dict[str, Any]) -> dict[str, Any]:
    zone = ZoneInfo(event["time_zone"])
    return {
        name: {
            "dateTime": datetime.fromisoformat(event[name]).astimezone(zone).isoformat(),
            "timeZone": event["time_zone"],
        }
        for name in ("start", "end")
    }


def _written(body: dict[str, Any]) -> WrittenEvent:
    return WrittenEvent(event_id=str(body.get("id", "")), join_url=str(body.get("hangoutLink", "")))


def _reason(answer: requests.Response) -> str:
    try:
        errors = answer.json().get("error", {}).get("errors", [])
    except ValueError:
        return ""
    return str(errors[0].get("reason", ""))[:80] if errors else ""

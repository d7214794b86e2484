"""The Bot Framework connector's REST API, as the deliverer needs it: post an activity, create a chat.

A deliberately small HTTP client (``http.client``) so every failure can be placed on the right side of
the one line that matters: did the request reach Teams? A failure to connect, or while sending, means it
did not (``retry``); a timeout or a dropped connection while waiting for the answer, or a 500, means it
may have (``ambiguous``: Teams has no idempotency key, so such a post is never blindly repeated). Each
request uses a fresh connection, so a stale kept-alive socket can never turn into a false "ambiguous".
"""

from __future__ import annotations

import functools
import http.client
import json
import ssl
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

RETRY_STATUSES = {412, 429, 502, 503, 504}
GONE_STATUSES = {403, 404}
TIMEOUT = 15.0

Kind = Literal["sent", "retry", "ambiguous", "gone", "rejected"]


@dataclass
class Outcome:
    """What became of one request."""

    kind: Kind
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    error: str = ""

    @property
    def id(self) -> str:
        """The id Teams gave (the activity's, or the new conversation's)."""
        return str(self.body.get("id") or "")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every connector of the process (making one loads the system's certificates)."""
    return ssl.create_default_context()


class Connector:
    """Calls the connector at an activity's service URL, with the bot's token when there is one."""

    def __init__(self, token: Callable[[], str | None] = lambda: None, timeout: float = TIMEOUT) -> None:
        self.token = token
        self.timeout = timeout
        self._tls = _tls()

    def post_activity(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> Outcome:
        """``POST {serviceUrl}/v3/conversations/{id}/activities``."""
        path = f"v3/conversations/{urllib.parse.quote(conversation_id, safe='')}/activities"
        return self.request("POST", service_url, path, activity)

    def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> Outcome:
        """``PUT {serviceUrl}/v3/conversations/{id}/activities/{activityId}``: replace a message the bot posted
        (the same update made twice gives the same message)."""
        conversation = urllib.parse.quote(conversation_id, safe="")
        path = f"v3/conversations/{conversation}/activities/{urllib.parse.quote(activity_id, safe='')}"
        return self.request("PUT", service_url, path, activity)

    def create_conversation(self, service_url: str, parameters: dict[str, Any]) -> Outcome:
        """``POST {serviceUrl}/v3/conversations``: open a personal chat with a user (where Teams allows it)."""
        return self.request("POST", service_url, "v3/conversations", parameters)

    def request(self, method: str, service_url: str, path: str, body: dict[str, Any] | None = None) -> Outcome:
        """One request, classified (see the module docstring)."""
        url = urllib.parse.urlsplit(service_url.rstrip("/") + "/" + path)
        if url.scheme not in ("http", "https") or not url.hostname:
            return Outcome("rejected", error=f"bad service URL {service_url!r}")
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        try:
            token = self.token()
        except Exception as exc:  # noqa: BLE001 - no token now: nothing was sent, try again later
            return Outcome("retry", error=f"no bot token: {exc}")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode("utf-8") if body is not None else None
        target = url.path + (f"?{url.query}" if url.query else "")
        if url.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=self.timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        try:
            try:
                connection.connect()
                connection.request(method, target, body=payload, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                return Outcome("retry", error=f"not sent: {type(exc).__name__}: {exc}")
            try:
                response = connection.getresponse()
                raw = response.read()
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                return Outcome("ambiguous", error=f"no answer after sending: {type(exc).__name__}: {exc}")
        finally:
            connection.close()
        return self._classify(response.status, raw, response.getheader("Retry-After"))

    @staticmethod
    def _classify(status: int, raw: bytes, retry_after: str | None) -> Outcome:
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        body = parsed if isinstance(parsed, dict) else {}
        if 200 <= status < 300:
            return Outcome("sent", status, body)
        error = f"HTTP {status}: {raw[:300].decode('utf-8', 'replace')}"
        if status in RETRY_STATUSES or status == 401:
            return Outcome("retry", status, body, _retry_after(retry_after), error)
        if status in GONE_STATUSES:
            return Outcome("gone", status, body, error=error)
        if status >= 500:
            return Outcome("ambiguous", status, body, error=error)
        return Outcome("rejected", status, body, error=error)

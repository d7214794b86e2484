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

The parts: recording, throttling and answering calls (``fake_calendars_calls``), Entra ID and Graph
(``fake_calendars_graph``), Google's token endpoint and Calendar API (``fake_calendars_google``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_calendars_calls import Call
from fake_calendars_google import GOOGLE_AUDIENCE, GOOGLE_ID, GoogleCalendar
from fake_calendars_graph import GraphCalendar
from fake_teams import LOGIN_URL, login_metadata, login_transport
from local_server import LocalServer

__all__ = [
    "BUSY_SUBJECT",
    "GOOGLE_AUDIENCE",
    "GOOGLE_ID",
    "LOGIN_URL",
    "SPECS",
    "TENANT",
    "Call",
    "FakeCalendars",
    "login_transport",
    "wait_until",
]

SPECS = Path(__file__).parent / "specs" / "calendars"
TENANT = "contoso-tenant"
BUSY_SUBJECT = "Let's go for lunch"
"""What the documented getSchedule example says a busy item is: the bot must never keep it."""


@functools.cache
def _service_account_key() -> rsa.RSAPrivateKey:
    """The service account's key, made once per process rather than per fake (a 2,048-bit key costs tens of ms)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeCalendars(GraphCalendar, GoogleCalendar, LocalServer):
    """The fake calendars. Use as a context manager; ``graph_url`` and ``google_url`` are where the bot calls."""

    thread_name = "fake-calendars"
    shutdown_timeout = 0.1

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

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", login_metadata)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._entra_token)
        app.router.add_post("/graph/v1.0/users/{user}/calendar/getSchedule", self._get_schedule)
        app.router.add_post("/graph/v1.0/users/{user}/events", self._graph_create)
        app.router.add_patch("/graph/v1.0/users/{user}/events/{id}", self._graph_patch)
        app.router.add_post("/graph/v1.0/users/{user}/events/{id}/cancel", self._graph_cancel)
        app.router.add_post("/google/token", self._google_token)
        app.router.add_post("/google/calendar/v3/freeBusy", self._free_busy)
        app.router.add_post("/google/calendar/v3/calendars/{calendar}/events", self._google_insert)
        app.router.add_route("*", "/google/calendar/v3/calendars/{calendar}/events/{id}", self._google_event)
        return app


def wait_until(check: Any, seconds: float = 5.0) -> None:
    """Poll ``check`` until it is true (the fake answers on its own thread)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)

"""What the fake directory APIs share: an aiohttp server on a free port in its own thread, scripted answers,
and a record of every request, so the synchronous directory sources can be driven against them."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from local_server import LocalServer


@dataclass
class Request:
    """One request a source made to a fake."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str
    status: int = 0


@dataclass
class Scripted:
    """An answer given instead of the real one, once ``after`` pages have been served."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0


class ThreadedFake(LocalServer):
    """Base of a fake API server; use as a context manager. ``base`` is its URL once entered."""

    thread_name = "fake-directory"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.pages_served = 0
        self._scripted: list[Scripted] = []
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.base = ""

    # -- to override -----------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """Add the API's routes."""
        raise NotImplementedError

    # -- scripting -------------------------------------------------------------------------------------

    def script(
        self, status: int, body: dict[str, Any], *, times: int = 1, after: int = 0, retry_after: float | None = None
    ) -> None:
        """The next ``times`` listing requests made once ``after`` pages were served answer ``status``/``body``."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        with self._lock:
            self._scripted += [Scripted(status, body, headers, after) for _ in range(times)]

    def take_scripted(self) -> Scripted | None:
        """The scripted answer due for this listing request, if any (removed from the script)."""
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.after <= self.pages_served:
                    return self._scripted.pop(index)
        return None

    def record(self, request: web.Request, status: int) -> None:
        """Remember a request and the status it was answered with."""
        with self._lock:
            self.requests.append(
                Request(
                    request.method, request.path, dict(request.query), request.headers.get("Authorization", ""), status
                )
            )

    def listed(self, path: str) -> list[Request]:
        """The requests made to ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle -------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The fake's routes."""
        app = web.Application()
        self.routes(app)
        return app

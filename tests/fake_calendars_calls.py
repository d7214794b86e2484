"""What the fake calendars record and how every API call starts: ``Call``, one recorded request, and
``RecordedCalls``, the part of ``FakeCalendars`` (``tests/fake_calendars.py``) that records each call, answers
429 while throttled, and lets a test look the calls up."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Call:
    """One API request the fake answered."""

    api: str
    """``graph`` or ``google``."""
    method: str
    path: str
    body: Any
    subject: str
    """Who the call acted as: the Graph path's user, or the Google token's ``sub``."""
    status: int = 0


class RecordedCalls:
    """Recording, throttling and answering API calls, over the state ``FakeCalendars`` sets up."""

    calls: list[Call]
    _throttles: list[float]
    _lock: threading.Lock

    def throttle(self, times: int = 1, seconds: float = 7) -> None:
        """The next ``times`` API calls are answered 429 with ``Retry-After: seconds``."""
        with self._lock:
            self._throttles += [seconds] * times

    def api_calls(self, api: str, method: str | None = None, path_part: str = "") -> list[Call]:
        """The recorded calls to ``api``, by HTTP method and a part of the path when given."""
        with self._lock:
            return [
                c for c in self.calls if c.api == api and (method is None or c.method == method) and path_part in c.path
            ]

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

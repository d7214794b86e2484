"""Microsoft Graph for the directory sync: GET with paging (``@odata.nextLink``), JSON batching (``$batch``), and
throttling (429 and 503 with ``Retry-After``) waited out a few times before giving up.

Every failure ends as :class:`~adapters.directory_sync.sources.SourceError` with a one-line operator message,
except a delta link Graph no longer honours (410 Gone, ``resyncRequired``), which is :class:`DeltaExpired` so the
source can read everything instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from adapters.directory_sync.sources import SourceError
from bot.wording import say, unescape

MAX_ATTEMPTS = 6
"""Tries of one request while Graph throttles it (429) or is briefly unavailable (503, 504)."""
MAX_WAIT_SECONDS = 120.0
"""The longest a ``Retry-After`` is honoured; a longer one is cut to this."""
DEFAULT_WAIT_SECONDS = 2.0
"""The wait when a throttled answer gives no ``Retry-After``."""
BATCH_SIZE = 20
"""Requests per ``$batch`` (Graph's limit)."""
TIMEOUT_SECONDS = 60.0
_RETRIED = (429, 503, 504)


def _text(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sync.{key}", **values))


class DeltaExpired(Exception):
    """Graph no longer honours the delta link (410 Gone / ``resyncRequired``): read everything again."""


def _error_code(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def _wait_of(headers: Any) -> float:
    raw = str(headers.get("Retry-After") or headers.get("retry-after") or "").strip()
    try:
        return min(max(float(raw), 0.0), MAX_WAIT_SECONDS)
    except ValueError:
        return DEFAULT_WAIT_SECONDS


class GraphSession:
    """Authenticated Graph requests (``token`` gives the current access token) at ``base_url`` (``…/v1.0``)."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str],
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token, self._http, self._sleep = token, http or requests.Session(), sleep
        self.throttled = 0
        """How many throttled answers were waited out (for the operator's report and tests)."""

    def _send(self, method: str, url: str, what: str, body: dict[str, Any] | None = None) -> requests.Response:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
            try:
                response = self._http.request(method, url, headers=headers, json=body, timeout=TIMEOUT_SECONDS)
            except requests.RequestException as problem:
                raise SourceError(
                    _text("graph_unreachable", url=self.base_url, reason=type(problem).__name__)
                ) from None
            if response.status_code not in _RETRIED:
                return response
            if attempt < MAX_ATTEMPTS:
                self.throttled += 1
                self._sleep(_wait_of(response.headers))
        raise SourceError(_text("graph_throttled", attempts=MAX_ATTEMPTS))

    def get(self, url: str, what: str) -> dict[str, Any]:
        """GET an absolute URL (a next or delta link) or a path under the base URL; the JSON answer."""
        full = url if url.startswith(("http://", "https://")) else f"{self.base_url}/{url.lstrip('/')}"
        response = self._send("GET", full, what)
        if response.status_code == 410:
            raise DeltaExpired(what)
        code, message = _error_code(response)
        if response.status_code == 400 and code.lower() in ("resyncrequired", "syncstatenotfound", "syncstateinvalid"):
            raise DeltaExpired(what)
        if response.status_code == 403:
            raise SourceError(_text("graph_forbidden", code=code))
        if response.status_code >= 400:
            raise SourceError(_text("graph_error", status=response.status_code, what=what, detail=code or message))
        try:
            answer = response.json()
        except ValueError:
            raise SourceError(_text("graph_bad_answer", what=what)) from None
        if not isinstance(answer, dict):
            raise SourceError(_text("graph_bad_answer", what=what))
        return answer

    def pages(self, url: str, what: str) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``@odata.nextLink``; the last page carries any ``@odata.deltaLink``."""
        following: str | None = url
        while following:
            page = self.get(following, what)
            if not isinstance(page.get("value", []), list):
                raise SourceError(_text("graph_bad_answer", what=what))
            yield page
            following = page.get("@odata.nextLink")

    def batch_get(self, paths: dict[str, str], what: str) -> dict[str, tuple[int, dict[str, Any]]]:
        """GET many paths through ``$batch`` (20 a request); key -> (status, body). Items Graph throttles are
        sent again after their ``Retry-After``; other failures are returned as they are."""
        results: dict[str, tuple[int, dict[str, Any]]] = {}
        waiting = list(paths)
        attempts = 0
        while waiting:
            attempts += 1
            throttled: list[str] = []
            wait = 0.0
            for start in range(0, len(waiting), BATCH_SIZE):
                keys = waiting[start : start + BATCH_SIZE]
                requests_ = [{"id": str(n), "method": "GET", "url": paths[key]} for n, key in enumerate(keys)]
                response = self._send("POST", f"{self.base_url}/$batch", what, {"requests": requests_})
                if response.status_code >= 400:
                    code, message = _error_code(response)
                    raise SourceError(
                        _text("graph_error", status=response.status_code, what=what, detail=code or message)
                    )
                for item in response.json().get("responses") or []:
                    key = keys[int(item.get("id", -1))]
                    status = int(item.get("status") or 0)
                    if status in _RETRIED and attempts < MAX_ATTEMPTS:
                        throttled.append(key)
                        wait = max(wait, _wait_of(item.get("headers") or {}))
                        continue
                    body = item.get("body")
                    results[key] = (status, body if isinstance(body, dict) else {})
            if throttled:
                self.throttled += 1
                self._sleep(wait)
            waiting = throttled
        return results

"""Sending at Teams' pace: per-conversation windows and a per-tenant request budget.

Teams throttles a bot per conversation (7 messages a second, 8 in 2 s, 60 in 30 s, 1800 in an hour) and
per app and tenant (about 30 requests a second by default, ``TEAMS_TENANT_BUDGET``). Conversations keep
a log of their recent sends and wait until every window has room; tenants share a GCRA token bucket
(a "next free" time). A 429 pauses the conversation and the tenant until the back-off has passed. The
pacer only computes waits: the deliverer sleeps through short ones and hands long ones back to the
outbox as a retry time.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

WINDOWS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
LONGEST = max(seconds for _, seconds in WINDOWS)
MARGIN = 0.1
"""Seconds added to every window: Teams counts arrivals, and requests do not all take equally long."""


class Pacer:
    """Per-conversation windows and per-tenant budget, shared by every sending thread of the process."""

    def __init__(
        self,
        tenant_rate: float = 30.0,
        windows: tuple[tuple[int, float], ...] = WINDOWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / tenant_rate
        self.windows = windows
        self.clock = clock
        self.tenant_next: dict[str, float] = {}
        self.sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.paused: dict[str, float] = {}
        self.requests = 0
        self._lock = threading.Lock()
        self._since_sweep = 0

    def _conversation_wait(self, key: str, now: float) -> float:
        log = self.sent.get(key)
        wait = 0.0
        if log:
            for limit, seconds in self.windows:
                if len(log) >= limit and log[-limit] > now - seconds - MARGIN:
                    wait = max(wait, log[-limit] + seconds + MARGIN - now)
        return wait

    def delay(self, tenant: str, conversation: str | None = None) -> float:
        """How long a request to ``tenant`` (a message to ``conversation``, when given) must wait now."""
        with self._lock:
            return self._wait(tenant, conversation, self.clock())

    def _wait(self, tenant: str, conversation: str | None, now: float) -> float:
        wait = max(self.tenant_next.get(tenant, now) - now, self.paused.get(tenant, now) - now)
        if conversation:
            key = f"{tenant}/{conversation}"
            wait = max(wait, self._conversation_wait(key, now), self.paused.get(key, now) - now)
        return max(0.0, wait)

    def acquire(
        self,
        tenant: str,
        conversation: str | None = None,
        max_wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> float:
        """Wait (up to ``max_wait``) for a slot and take it; returns 0, or the longer wait still needed."""
        while True:
            with self._lock:
                now = self.clock()
                wait = self._wait(tenant, conversation, now)
                if wait <= 0:
                    self.tenant_next[tenant] = max(self.tenant_next.get(tenant, now), now) + self.interval
                    if conversation:
                        log = self.sent[f"{tenant}/{conversation}"]
                        log.append(now)
                        while log and log[0] <= now - LONGEST:
                            log.popleft()
                    self.requests += 1
                    self._sweep(now)
                    return 0.0
            if wait > max_wait:
                return wait
            sleep(wait)

    def pause(self, tenant: str, conversation: str | None, seconds: float) -> None:
        """Teams answered 429 (or 412/503): nothing more to this conversation and tenant for ``seconds``."""
        with self._lock:
            until = self.clock() + seconds
            for key in (tenant, f"{tenant}/{conversation}" if conversation else None):
                if key:
                    self.paused[key] = max(self.paused.get(key, 0.0), until)

    def _sweep(self, now: float) -> None:
        """Forget conversations idle for longer than the longest window (keeps memory flat)."""
        self._since_sweep += 1
        if self._since_sweep < 10_000:
            return
        self._since_sweep = 0
        for key in [k for k, log in self.sent.items() if not log or log[-1] <= now - LONGEST]:
            del self.sent[key]
        for key in [k for k, until in self.paused.items() if until <= now]:
            del self.paused[key]

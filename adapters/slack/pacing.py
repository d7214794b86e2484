"""Sending at Slack's pace: a request budget per workspace, about one message a second per channel.

Both are GCRA token buckets (a "next free" time per key), so waiting is exact and cheap. A 429 pauses a
whole workspace until its ``Retry-After`` has passed. The pacer only computes waits; the deliverer
sleeps through short ones and hands long ones back to the outbox as a retry time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Bucket:
    """A rate with a burst allowance: ``reserve`` returns how long to wait before the next use."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0.0, burst - 1.0)
        self.next_free: dict[str, float] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may be used again, without using it."""
        return max(0.0, self.next_free.get(key, now) - self.tolerance - now)

    def take(self, key: str, now: float) -> None:
        """Use ``key`` once (after waiting what :meth:`wait` said)."""
        self.next_free[key] = max(self.next_free.get(key, now), now - self.tolerance) + self.interval


class Pacer:
    """Workspace budget (requests/second) and per-channel message pace, shared by every sender thread."""

    def __init__(
        self,
        workspace_rate: float,
        channel_rate: float = 1.0,
        channel_burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        workspace_burst: float | None = None,
    ) -> None:
        # A tenth of a second's worth of requests may go early: time lost to a slow step is made up, and
        # no one-second window ever holds more than 1.1 x the budget.
        self.workspace = Bucket(workspace_rate, burst=workspace_burst or max(1.0, workspace_rate / 10))
        self.channel = Bucket(channel_rate, burst=channel_burst)
        self.clock = clock
        self.paused_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def delay(self, team: str, channel: str | None = None) -> float:
        """How long a request (a message, when ``channel`` is given) to ``team`` must wait now."""
        with self._lock:
            now = self.clock()
            wait = max(self.workspace.wait(team, now), self.paused_until.get(team, now) - now)
            if channel:
                wait = max(wait, self.channel.wait(f"{team}/{channel}", now))
            return max(0.0, wait)

    def acquire(
        self, team: str, channel: str | None = None, max_wait: float = 2.0, sleep: Callable[[float], None] = time.sleep
    ) -> float:
        """Wait (up to ``max_wait``) for a slot and take it; returns 0, or the longer wait still needed."""
        while True:
            with self._lock:
                now = self.clock()
                wait = max(self.workspace.wait(team, now), self.paused_until.get(team, now) - now)
                if channel:
                    wait = max(wait, self.channel.wait(f"{team}/{channel}", now))
                if wait <= 0:
                    self.workspace.take(team, now)
                    if channel:
                        self.channel.take(f"{team}/{channel}", now)
                    self.requests += 1
                    return 0.0
            if wait > max_wait:
                return wait
            sleep(wait)

    def pause(self, team: str, seconds: float) -> None:
        """Slack answered 429: nothing more to this workspace for ``seconds``."""
        with self._lock:
            until = self.clock() + seconds
            self.paused_until[team] = max(self.paused_until.get(team, 0.0), until)

"""Sending at Slack's pace: each Web API method's own limit per workspace, about one message a second per
channel, and our own request budget per workspace.

Slack limits every method separately, per workspace ("tiers": ``conversations.open`` about 50 calls a minute,
``views.open`` about 100, ``chat.postMessage`` about one a second per channel), so every limit here is a GCRA
token bucket (a "next free" time per key), so waiting is exact and cheap: one per (workspace, method), one per
(workspace, channel) for what posts in a channel, and the workspace budget over all calls. A 429 pauses only
what it was about: that method in that workspace (for ``chat.postMessage``, that channel) until its
``Retry-After`` has passed, so a rate-limited ``conversations.open`` never holds up posts to conversations
already open. The pacer only computes waits; the deliverer sleeps through short ones and hands long ones
back to the outbox as a retry time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

POST = "chat.postMessage"
PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
"""Slack's Web API rate tiers: calls a minute per method, per workspace, per app."""
METHOD_TIERS: Mapping[str, int] = {
    "conversations.open": 3,
    "conversations.history": 3,
    "users.lookupByEmail": 3,
    "chat.update": 3,
    "users.info": 4,
    "views.open": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
"""The tier of each method the bot calls (Slack's method reference). ``chat.postMessage`` has a special tier:
about one message a second per channel, which the channel buckets keep."""
TIER_BURST = 0.2
"""How much of a minute's calls a method may make at once (Slack tolerates bursts; we keep them modest)."""


class Bucket:
    """A rate with a burst allowance: :meth:`wait` says how long to wait before the next use."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(0.0, burst - 1.0)
        self.next_free: dict[str, float] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may be used again, without using it (rounding errors count as no wait)."""
        wait = self.next_free.get(key, now) - self.tolerance - now
        return wait if wait > 1e-9 else 0.0

    def take(self, key: str, now: float) -> None:
        """Use ``key`` once (after waiting what :meth:`wait` said)."""
        self.next_free[key] = max(self.next_free.get(key, now), now - self.tolerance) + self.interval


def method_buckets(tier_scale: float = 1.0, tiers: Mapping[str, int] = METHOD_TIERS) -> dict[str, Bucket]:
    """A bucket per Web API method at its tier's rate (times ``tier_scale``), keyed by workspace."""
    buckets = {}
    for method, tier in tiers.items():
        per_minute = PER_MINUTE[tier] * tier_scale
        buckets[method] = Bucket(per_minute / 60.0, burst=max(1.0, per_minute * TIER_BURST))
    return buckets


def scope(team: str, method: str = "", channel: str | None = None) -> str:
    """What a 429 pauses: a method in a workspace, and for posts one channel."""
    return f"{team}/{method}/{channel}" if method == POST and channel else f"{team}/{method}"


class Pacer:
    """Per-method limits, the workspace budget and the per-channel message pace, shared by every sender thread."""

    def __init__(
        self,
        workspace_rate: float,
        channel_rate: float = 1.0,
        channel_burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        workspace_burst: float | None = None,
        tier_scale: float = 1.0,
    ) -> None:
        # A tenth of a second's worth of requests may go early: time lost to a slow step is made up, and
        # no one-second window ever holds more than 1.1 x the budget.
        self.workspace = Bucket(workspace_rate, burst=workspace_burst or max(1.0, workspace_rate / 10))
        self.channel = Bucket(channel_rate, burst=channel_burst)
        self.methods = method_buckets(tier_scale)
        self.clock = clock
        self.paused_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def _paused(self, team: str, channel: str | None, method: str, now: float) -> float:
        return max(0.0, self.paused_until.get(scope(team, method, channel), now) - now)

    def _paced(self, team: str, channel: str | None, method: str, now: float) -> float:
        wait = self.workspace.wait(team, now)
        bucket = self.methods.get(method)
        if bucket is not None:
            wait = max(wait, bucket.wait(team, now))
        if channel:
            wait = max(wait, self.channel.wait(f"{team}/{channel}", now))
        return wait

    def delay(self, team: str, channel: str | None = None, method: str = "") -> float:
        """How long a call of ``method`` (posting in ``channel``, when given) to ``team`` must wait now."""
        with self._lock:
            now = self.clock()
            return max(self._paused(team, channel, method, now), self._paced(team, channel, method, now))

    def acquire(
        self,
        team: str,
        channel: str | None = None,
        max_wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        method: str = "",
    ) -> float:
        """Wait (up to ``max_wait``) for a slot and take it; returns 0, or the longer wait still needed. A
        ``Retry-After`` still running is never slept through: its wait is returned at once, so that the sender
        can go on with what does not need this method."""
        while True:
            with self._lock:
                now = self.clock()
                paused = self._paused(team, channel, method, now)
                if paused > 0:
                    return paused
                wait = self._paced(team, channel, method, now)
                if wait <= 0:
                    self.workspace.take(team, now)
                    bucket = self.methods.get(method)
                    if bucket is not None:
                        bucket.take(team, now)
                    if channel:
                        self.channel.take(f"{team}/{channel}", now)
                    self.requests += 1
                    return 0.0
            if wait > max_wait:
                return wait
            sleep(wait)

    def same_channel(self, team: str, first: str, then: str) -> None:
        """Posts made to ``first`` (a user id, before Slack named their DM) went to the conversation ``then``: the
        pace used so far counts for ``then``."""
        with self._lock:
            used = self.channel.next_free.get(f"{team}/{first}")
            if used is not None:
                key = f"{team}/{then}"
                self.channel.next_free[key] = max(self.channel.next_free.get(key, used), used)

    def pause(self, team: str, seconds: float, method: str = "", channel: str | None = None) -> None:
        """Slack answered 429 to ``method``: no more calls of it to this workspace (posts: to this channel)
        for ``seconds``; other methods and channels go on."""
        with self._lock:
            key = scope(team, method, channel)
            self.paused_until[key] = max(self.paused_until.get(key, 0.0), self.clock() + seconds)

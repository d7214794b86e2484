"""Teams' limits per conversation (7/1 s, 8/2 s, 60/30 s, 1800/h) and the per-tenant budget, on a simulated clock."""

from __future__ import annotations

import bisect

from adapters.teams.pacing import WINDOWS, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_any_window(times: list[float], seconds: float) -> int:
    return max(bisect.bisect_left(times, t + seconds) - i for i, t in enumerate(times))


def test_one_conversation_never_exceeds_any_window() -> None:
    clock = Clock()
    pacer = Pacer(tenant_rate=1000.0, clock=clock)
    sent = []
    for _ in range(2000):
        assert pacer.acquire("t", "c", max_wait=10_000, sleep=clock.sleep) == 0
        sent.append(clock.now)
    for limit, seconds in WINDOWS:
        assert most_in_any_window(sent, seconds) <= limit, (limit, seconds)
    assert sent[-1] - sent[0] > 3600  # 2,000 messages to one chat take more than an hour


def test_the_tenant_budget_spreads_requests_across_conversations() -> None:
    clock = Clock()
    pacer = Pacer(tenant_rate=30.0, clock=clock)
    sent = []
    for number in range(300):
        assert pacer.acquire("t", f"c{number}", max_wait=10, sleep=clock.sleep) == 0
        sent.append(clock.now)
    assert most_in_any_window(sent, 1.0) <= 31
    assert 9.5 < sent[-1] - sent[0] < 10.5
    assert pacer.delay("other tenant", "c0") == 0.0  # tenants do not share a budget


def test_long_waits_are_handed_back_and_a_pause_holds_the_conversation_and_tenant() -> None:
    clock = Clock()
    pacer = Pacer(tenant_rate=1000.0, clock=clock)
    for _ in range(60):
        pacer.acquire("t", "c", max_wait=10, sleep=clock.sleep)
    wait = pacer.acquire("t", "c", max_wait=2.0, sleep=clock.sleep)
    assert wait > 2.0  # the 60-in-30-s window: the outbox retries later, the sender does not sleep
    pacer.pause("t", "d", 5.0)
    assert 4.9 < pacer.delay("t", "d") <= 5.0 and 4.9 < pacer.delay("t") <= 5.0
    clock.sleep(5.0)
    assert pacer.delay("t", "d") == 0.0

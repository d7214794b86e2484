"""What the sustained-load benchmark prints after the load: acks by phase and burst, the backlog, the
worker's pace and the replies the fake Slack received."""

from __future__ import annotations

import argparse
import os
from collections import Counter

from sustained_load_traffic import TEAM


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank; NaN when there are none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def report(
    args: argparse.Namespace,
    records: list[tuple],
    samples: list[tuple],
    at_end: tuple[int, int],
    drain: float,
    loaded: float,
    events: dict[str, tuple[str, float, float]],
    stats: dict,
    ended: float,
) -> None:  # type: ignore[type-arg]
    """Print the run's results: acks per phase and burst, backlog, worker pace, replies at the fake Slack."""
    bursts = int(args.duration // args.burst_every) if args.burst_every > 0 and args.burst_seconds > 0 else 0
    phases = {
        "steady": (False, args.duration - bursts * args.burst_seconds),
        "bursts": (True, bursts * args.burst_seconds),
    }
    print(
        f"{'phase':<7} {'requests':>8} {'non-2xx':>7} {'>3 s':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'rate/s':>7}"
    )
    for name, (burst, seconds) in phases.items():
        chosen = [r for r in records if r[1] == burst]
        if not chosen or seconds <= 0:
            continue
        latencies = [r[3] * 1000 for r in chosen]
        bad = sum(1 for r in chosen if not 200 <= r[4] < 300)
        late = sum(1 for r in chosen if r[3] > 3.0)
        print(
            f"{name:<7} {len(chosen):>8} {bad:>7} {late:>5} {percentile(latencies, 0.5):>7.1f} "
            f"{percentile(latencies, 0.95):>7.1f} {percentile(latencies, 0.99):>7.1f} {max(latencies):>7.1f} "
            f"{len(chosen) / seconds:>7.1f}"
        )
    if bursts:
        per_burst = []
        for k in range(bursts):
            lo, hi = (k + 1) * args.burst_every - args.burst_seconds, (k + 1) * args.burst_every
            inside = [r[3] * 1000 for r in records if r[1] and lo <= r[0] < hi]
            per_burst.append(f"{percentile(inside, 0.99):.0f}")
        print(f"ack p99 of each burst (ms): {' '.join(per_burst)}")
    lags = [r[2] * 1000 for r in records]
    print(
        f"client schedule lag (ms): p50 {percentile(lags, 0.5):.2f}  p99 {percentile(lags, 0.99):.2f}  "
        f"max {max(lags):.1f}  (the load generator's own delay before a request leaves)"
    )
    statuses, kinds = Counter(r[4] for r in records), Counter(r[6] for r in records)
    print(f"answers: {dict(sorted(statuses.items()))}; mix: {dict(kinds)}; load ran {loaded:.1f} s")
    every = 30 if args.duration >= 120 else 5
    print(
        f"backlog (inbox/outbox) every {every} s: "
        + " ".join(f"{i}/{o}" for i, o in [s[1:3] for s in samples][every // 5 - 1 :: every // 5])
    )
    loads = [s[3] for s in samples]
    print(
        f"machine load average (1 min) during the load: mean {sum(loads) / max(1, len(loads)):.2f}, max "
        f"{max(loads, default=0):.2f} on {os.cpu_count()} cores (other work on the machine included)"
    )
    print(
        f"largest backlog: inbox {max((s[1] for s in samples), default=0)}, outbox "
        f"{max((s[2] for s in samples), default=0)}; at the end of the load: inbox {at_end[0]}, outbox {at_end[1]}; "
        f"drained {drain:.1f} s after the load ended"
    )
    accepted = {r[5] for r in records if 200 <= r[4] < 300}
    mine = [events[e] for e in accepted if e in events]
    done = [(r, d) for s, r, d in mine if s == "done"]
    delays = [d - r for r, d in done]
    first, last = min(r for r, _ in done), max(d for _, d in done)
    print(
        f"events: {len(accepted)} acknowledged, {len(mine)} in the inbox, {len(done)} handled, "
        f"{sum(1 for m in mine if m[0] == 'failed')} failed; handled in {last - first:.1f} s (first accepted to last "
        f"handled) = {len(done) / (last - first):.1f} events/s; accepted-to-handled p50 "
        f"{percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms"
    )
    during, after = sum(1 for _, d in done if d <= ended), [d for _, d in done if d > ended]
    print(
        f"worker: {during / loaded:.1f} events/s handled while the load ran (arrivals: {len(accepted) / loaded:.1f}/s), "
        f"{len(after) / max(1e-9, max(after, default=ended) - ended):.1f} events/s while draining ({len(after)} events)"
    )
    keys = stats.get("keys", [])
    # slack:TEAM:<event id>:<n>#<page>
    per_event = Counter(key.split("#", 1)[0].removeprefix(f"slack:{TEAM}:").rsplit(":", 1)[0] for key in keys)
    once = sum(1 for e in accepted if per_event.get(e) == 1)
    missing = sum(1 for e in accepted if e not in per_event)
    twice = sum(1 for e in accepted if per_event.get(e, 0) > 1)
    print(
        f"replies at the fake Slack: {stats['posts']} posts, {stats['unique_posts']} unique, duplicates "
        f"{stats['duplicates']}; of {len(accepted)} acknowledged events: {once} got exactly one reply, "
        f"{missing} none, {twice} more than one; other calls: "
        f"{ {m: n for m, n in stats['methods'].items() if m != 'chat.postMessage'} }"
    )

"""Idle-to-reply latency of ``rmbot serve``: how soon an idle service answers one DM, per worker mode.

    .venv/bin/python benchmarks/ack_latency.py [--samples 20] [--gap 2.0] [--modes process thread]
                                               [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                               [--quick]

For each ``RMBOT_WORKER`` mode (``process``: the handling work in a supervised child process; ``thread``: in
the web process) it starts the fake Slack Web API (its own process) and one ``rmbot serve`` configured for
Slack, on a temporary SQLite file or a fresh PostgreSQL schema (``--database-url``). Then, ``--samples``
times, it lets the service sit idle for ``--gap`` seconds (longer than any poll interval, so the worker is
asleep), sends one signed ``help`` DM, and times (a) the acknowledgement and (b) the reply reaching the fake
Slack, from the moment the request left. The worker wakes on a poke from the web process (a pipe to the child,
an event in one process) and, on PostgreSQL, on LISTEN/NOTIFY; without them it would wait for its poll.
Prints p50/p90/max of both per mode. ``--quick``: 3 samples, 0.5 s gaps (to check that it runs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fault_support import (  # noqa: E402
    Delivery,
    FakeSlackProcess,
    RetryingSlack,
    Server,
    dm_delivery,
    private_database,
    user_id,
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(mode: str, database_url: str, workdir: Path, samples: int, gap: float) -> tuple[list[float], list[float]]:
    """(ack seconds, reply seconds) of ``samples`` DMs, each sent after ``gap`` idle seconds."""
    acks: list[float] = []
    replies: list[float] = []
    with FakeSlackProcess(samples + 1) as fake:
        server = Server(database_url, fake.api_url, workdir)
        server.env["RMBOT_WORKER"] = mode
        server.start()
        try:
            server.ready()
            client = RetryingSlack(server.url)
            warm = Delivery(f"EvWarm{uuid.uuid4().hex[:8]}", user_id(1), "")
            warm.body = dm_delivery(warm.event_id, warm.user, "help")
            asyncio.run(client.deliver_all([warm], rate=1))
            while fake.posts() < 1:
                time.sleep(0.01)
            for n in range(samples):
                time.sleep(gap)
                before = fake.posts()
                delivery = Delivery(f"EvIdle{n:04d}{uuid.uuid4().hex[:6]}", user_id(n % samples + 1), "")
                delivery.body = dm_delivery(delivery.event_id, delivery.user, "help")
                sent = time.monotonic()
                asyncio.run(client.deliver_all([delivery], rate=1))
                acks.append((delivery.acknowledged or sent) - sent)
                while fake.posts() <= before:
                    if time.monotonic() - sent > 30:
                        raise RuntimeError(f"no reply within 30 s ({mode})")
                    time.sleep(0.005)
                replies.append(time.monotonic() - sent)
        finally:
            server.stop()
    return acks, replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--gap", type=float, default=2.0, help="idle seconds before each DM")
    parser.add_argument("--modes", nargs="+", default=["process", "thread"], choices=["process", "thread"])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--quick", action="store_true", help="3 samples, 0.5 s gaps")
    args = parser.parse_args()
    samples, gap = (3, 0.5) if args.quick else (args.samples, args.gap)
    database = "postgresql" if args.database_url else "sqlite"
    print(f"idle-to-reply on {database}: {samples} DMs, each after {gap} s idle (seconds from sending)")
    print(f"{'worker':8} {'ack p50':>8} {'ack p90':>8} {'ack max':>8} {'reply p50':>10} {'reply p90':>10} {'max':>8}")
    for mode in args.modes:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            if args.database_url:
                with private_database(args.database_url, workdir, f"ack_{mode}") as url:
                    acks, replies = measure(mode, url, workdir, samples, gap)
            else:
                acks, replies = measure(mode, f"sqlite:///{workdir / 'rmbot.db'}", workdir, samples, gap)
        print(
            f"{mode:8} {statistics.median(acks):8.3f} {percentile(acks, 0.9):8.3f} {max(acks):8.3f} "
            f"{statistics.median(replies):10.3f} {percentile(replies, 0.9):10.3f} {max(replies):8.3f}"
        )


if __name__ == "__main__":
    main()

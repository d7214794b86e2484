"""Replies before bulk: how long a typed ``help`` waits for its answer while a large fan-out is being sent.

    .venv/bin/python benchmarks/reply_lane.py [--messages 20000] [--helps 50] [--every 1.0] [--repeat 3]
                                              [--budget 100] [--slack-limit 120] [--quick]

What it does: starts the fake Slack Web API (``tests/fake_slack.py``) in its own process, enforcing a request
limit per workspace (``--slack-limit`` per second, 429 with ``Retry-After``) and about one message a second
per channel; prepares once a store with N people and N agenda DMs queued in the outbox (bulk). Each run copies
it and, in a process of its own, runs what ``rmbot serve`` runs: a worker thread handling the inbox and a
sending thread with the Slack deliverer (``SLACK_WORKSPACE_BUDGET=--budget``). Once the fan-out has started,
``--helps`` people type ``help`` (one every ``--every`` seconds, each accepted into the inbox as the web
process would); the latency is from that accept to Slack's answer to the post of the reply. Each repetition
runs the outbox with its lanes (``lane``) and, as the baseline, first in first out (``fifo``: every row in one
lane, as before the reply lane existed). A lane run stops once every help is answered; a FIFO run lasts until
the fan-out is sent. Prints p50 and p99 per mode: the median over the repetitions and the spread (min-max).
``--quick`` (500 DMs, 10 helps) only checks that it runs.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench_processes import free_port  # noqa: E402
from slack_fanout import TEAM, agenda  # noqa: E402

ASKERS = "UASK"


def prepare(path: Path, messages: int, helps: int) -> None:
    """The template store: N people with Slack accounts, their N DMs queued, and the people who will ask."""
    from storage.sql import stored_id
    from storage.store import SqlStore
    from storage.tables import PersonIdentityRow, PersonRow

    store = SqlStore.open(f"sqlite:///{path}")
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        users = [f"U{n:05d}" for n in range(1, messages + 1)] + [f"{ASKERS}{n:03d}" for n in range(helps)]
        rows = [
            PersonRow(tenant_id=tenant.id, name=f"Person {user}", email=f"{user.lower()}@example.com") for user in users
        ]
        uow.session.add_all(rows)
        uow.session.flush()
        uow.session.add_all(
            PersonIdentityRow(tenant_id=tenant.id, person_id=stored_id(row.id), platform="slack", external_id=user)
            for row, user in zip(rows, users, strict=True)
        )
        people = [stored_id(row.id) for row in rows[:messages]]
    for start in range(0, messages, 2000):
        with store.unit_of_work() as uow:
            for n in range(start, min(start + 2000, messages)):
                uow.outbox.add(agenda(tenant.id, people[n], n), platform="slack")
    store.close()


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """One run in this process: worker and sender threads, helps typed during the fan-out; the latencies."""
    from adapters.slack.delivery import SlackDeliverer
    from bot.model import InboundEvent, Platform
    from bot.ports import DeliveryResult, OutboxItem
    from bot.runtime import Runtime
    from storage.queue_writers import OutboxRepo
    from storage.store import SqlStore

    if args.mode == "fifo":  # the baseline: every message in one lane, sent in the order it was queued
        add = OutboxRepo.add

        def one_lane(self: OutboxRepo, message: Any, platform: str, not_before: Any = None, lane: Any = "bulk") -> bool:
            return add(self, message, platform, not_before)

        setattr(OutboxRepo, "add", one_lane)  # noqa: B010 - replaced for this process only (mypy forbids assigning a method)
    store = SqlStore.open(f"sqlite:///{args.database}", migrate=False)
    runtime = Runtime(store)
    answered: dict[str, float] = {}
    posted = [0]

    class Timed(SlackDeliverer):
        def deliver(self, item: OutboxItem) -> DeliveryResult:
            result = super().deliver(item)
            parts = item.message.idempotency_key.split(":")  # a reply's: slack:<team>:<event id>:<n>
            asked = parts[2] if len(parts) == 4 else ""
            if asked.startswith("help-") and result.delivered:
                answered[asked] = time.monotonic()
            elif result.delivered:
                posted[0] += 1
            return result

    deliverer = Timed(store, lambda team: "xoxb-test", args.api_url, args.budget)
    stop, poke, send_wake = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:  # the worker thread of ``rmbot serve``: handle what was accepted, then wake the sender
        while not stop.is_set():
            runtime.process_pending()
            send_wake.set()
            poke.wait(0.2)
            poke.clear()

    def send() -> None:  # the sending thread
        while not stop.is_set():
            if not runtime.send_pending(deliverer):
                send_wake.wait(1.0)
                send_wake.clear()

    threads = [threading.Thread(target=work), threading.Thread(target=send)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    while posted[0] < 5 and time.monotonic() - started < 60:  # the fan-out is under way
        time.sleep(0.01)
    asked_at: dict[str, float] = {}
    for n in range(args.helps):
        event_id = f"help-{n}"
        runtime.accept(
            InboundEvent(
                platform=Platform.SLACK,
                tenant=TEAM,
                event_id=event_id,
                user=f"{ASKERS}{n:03d}",
                text="help",
                conversation=f"DASK{n:03d}",
                occurred_at=datetime.now(UTC),
            )
        )
        asked_at[event_id] = time.monotonic()
        poke.set()
        time.sleep(args.every)
    deadline = time.monotonic() + args.messages * 2 / args.budget * 3 + 60
    while len(answered) < args.helps and time.monotonic() < deadline:
        time.sleep(0.05)
    sent_during = posted[0]
    runtime.stopping = True
    stop.set()
    poke.set()
    send_wake.set()
    for thread in threads:
        thread.join()
    store.close()
    latencies = [answered[key] - asked_at[key] for key in asked_at if key in answered]
    return {"latencies": latencies, "asked": len(asked_at), "bulk_posted": sent_during}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--helps", type=int, default=50, help="people typing help during the fan-out, one each")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between two helps")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=100.0, help="SLACK_WORKSPACE_BUDGET (requests/second)")
    parser.add_argument("--slack-limit", type=float, default=120.0, help="the fake's limit (requests/second)")
    parser.add_argument("--quick", action="store_true", help="500 DMs, 10 helps every 0.3 s, 2 repetitions")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["lane", "fifo"], default="lane", help=argparse.SUPPRESS)
    parser.add_argument("--database", default="", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.messages, args.helps, args.every, args.repeat = 500, 10, 0.3, 2
    if args.one:
        print(json.dumps(run_one(args)), flush=True)
        return
    report(args, measure(args))


def measure(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Prepare the store, start the fake Slack, run each mode ``args.repeat`` times (printing each run); the runs
    by mode (each: the latencies in seconds, the helps asked, the bulk DMs posted meanwhile)."""
    workdir = Path(tempfile.mkdtemp(prefix="rmbot-reply-lane-"))
    template = workdir / "template.db"
    started = time.monotonic()
    prepare(template, args.messages, args.helps)
    print(f"prepared {args.messages} people and queued DMs, {args.helps} askers, in {time.monotonic() - started:.1f} s")
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_slack.py"), str(free_port()), str(args.slack_limit)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    api_url = fake.stdout.readline().strip()
    results: dict[str, list[dict[str, Any]]] = {"lane": [], "fifo": []}
    try:
        for repetition in range(args.repeat):
            for mode in ("lane", "fifo"):
                database = workdir / f"{mode}-{repetition}.db"
                shutil.copy(template, database)
                command = [sys.executable, __file__, "--one", "--mode", mode, "--database", str(database)]
                command += ["--api-url", api_url, "--budget", str(args.budget), "--messages", str(args.messages)]
                command += ["--helps", str(args.helps), "--every", str(args.every)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                found = json.loads(done.stdout.strip().splitlines()[-1])
                results[mode].append(found)
                print(
                    f"run {repetition + 1} {mode}: {len(found['latencies'])}/{found['asked']} answered, "
                    f"p50 {percentile(found['latencies'], 0.5):.2f} s, p99 {percentile(found['latencies'], 0.99):.2f} s, "
                    f"{found['bulk_posted']} bulk DMs posted meanwhile",
                    flush=True,
                )
                database.unlink()
    finally:
        fake.terminate()
        fake.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]]) -> None:
    print(
        f"\n`help` answered during a fan-out of {args.messages} DMs (budget {args.budget:.0f} requests/s, the fake's "
        f"limit {args.slack_limit:.0f}/s, 1 message/s per channel), {args.repeat} runs per mode; median (min-max)"
    )
    for mode, runs in results.items():
        p50s = [percentile(run["latencies"], 0.5) for run in runs if run["latencies"]]
        p99s = [percentile(run["latencies"], 0.99) for run in runs if run["latencies"]]
        rows = [len(run["latencies"]) for run in runs]
        if not p50s:
            print(f"{mode:5} no reply answered")
            continue
        print(
            f"{mode:5} p50 {statistics.median(p50s):8.2f} s ({min(p50s):.2f}-{max(p50s):.2f})   "
            f"p99 {statistics.median(p99s):8.2f} s ({min(p99s):.2f}-{max(p99s):.2f})   "
            f"rows measured per run: {', '.join(map(str, rows))} of {args.helps}"
        )


if __name__ == "__main__":
    main()

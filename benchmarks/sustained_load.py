"""Sustained load with bursts: one real ``rmbot serve`` under signed Slack requests for minutes on end.

    .venv/bin/python benchmarks/sustained_load.py [--rate 50] [--duration 600] [--burst-rate 200]
                                                  [--burst-seconds 10] [--burst-every 60] [--users 500] [--seed 7]
                                                  [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                                  [--split]

What it does: starts the fake Slack Web API (``tests/fake_slack.py``, its own process, no limits) and one
``rmbot serve`` process configured for Slack by environment (bot token, signing secret, ``SLACK_API_URL``
at the fake, ``SLACK_WORKSPACE_BUDGET=--budget``), on a temporary SQLite file or a fresh PostgreSQL
schema, with a workspace of ``--users`` people linked to Slack user ids. It then sends signed requests
open-loop (each leaves at its scheduled instant, whatever earlier ones are doing): ``--rate`` per second,
except for the last ``--burst-seconds`` of every ``--burst-every`` seconds, sent at ``--burst-rate``. The
mix, drawn with ``--seed``: half ``message.im`` DMs, 30% ``/mentoring`` slash commands, 20%
``block_actions`` button presses, built from the conformance kit's payloads; every one of them gets one
reply. Ack latency is measured from the scheduled send time (the client's own lag is printed too; the
load generator, standing for Slack, runs at a higher CPU priority than the server it measures). After
the load it waits until the inbox and the outbox are empty and prints, for the steady phase and the
bursts: requests, non-2xx, ack p50/p95/p99/max and the rate achieved; then whether the worker kept up
(backlog, time to drain, events handled per second) and the replies the fake received (exactly one per
event, no duplicates).

``--split`` runs the service as two processes on the same database instead (``RMBOT_ROLE=web`` takes the
requests, ``RMBOT_ROLE=worker`` handles and sends), as an operator would to keep acks fast while the
work keeps up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_processes import cpu_seconds, free_port, wait_healthy  # noqa: E402
from sustained_load_database import Backlog, database, drop_schema, inbox, seed  # noqa: E402
from sustained_load_report import report  # noqa: E402
from sustained_load_traffic import SECRET, Requests, drive, plan  # noqa: E402

# -- the run -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--rate", type=float, default=50.0, help="steady requests per second")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--burst-rate", type=float, default=200.0, help="requests per second during a burst")
    parser.add_argument("--burst-seconds", type=float, default=10.0)
    parser.add_argument("--burst-every", type=float, default=60.0, help="a burst ends every this many seconds")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=400.0, help="SLACK_WORKSPACE_BUDGET (requests/second)")
    parser.add_argument("--split", action="store_true", help="a web process and a worker process, not one")
    args = parser.parse_args()

    from storage.store import SqlStore

    workdir = Path(tempfile.mkdtemp(prefix="rmbot-load-"))
    url, label, schema = database(args.database_url, workdir)
    seed(url, args.users)
    fake_port, port = free_port(), free_port()
    roles = [("web", port), ("worker", free_port())] if args.split else [("all", port)]
    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    log_path = workdir / "serve.log"
    try:
        fake = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fake_slack.py"), str(fake_port)], stdout=subprocess.PIPE, text=True
        )
        processes.append(fake)
        api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SLACK_WORKSPACE_BUDGET": str(args.budget),
            "RMBOT_LOG_LEVEL": "WARNING",
        }
        servers = []
        with open(log_path, "w") as log:
            for role, role_port in roles:
                servers.append(
                    subprocess.Popen(
                        [str(ROOT / ".venv" / "bin" / "rmbot"), "serve", "--port", str(role_port)],
                        env={**env, "RMBOT_ROLE": role},
                        cwd=workdir,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
                processes.append(servers[-1])
        for server, (_role, role_port) in zip(servers, roles, strict=True):
            wait_healthy(role_port, server)
        try:  # the load generator (not its children) stands for Slack, which is not on this machine: CPU first
            os.nice(-10)
        except OSError:
            pass
        target = f"http://127.0.0.1:{port}/slack/events"
        requests = Requests(args.users, args.seed)
        warm = asyncio.run(drive(target, [(i / 10, False) for i in range(20)], requests))  # auth.test, code paths
        store = SqlStore.open(url, migrate=False)
        while store.inbox.pending_count() or store.outbox.pending_count("slack"):
            time.sleep(0.5)
        schedule = plan(args)
        load1 = os.getloadavg()[0]
        print(
            f"store: {label}; {' + '.join(f'rmbot serve ({role})' for role, _ in roles)}; {len(schedule)} requests over {args.duration:.0f} s: {args.rate:.0f}/s, bursts of "
            f"{args.burst_rate:.0f}/s for {args.burst_seconds:.0f} s every {args.burst_every:.0f} s; {args.users} "
            f"users; budget {args.budget:.0f} requests/s; after {len(warm)} warm-up requests; load average before: "
            f"{load1:.2f}",
            flush=True,
        )
        backlog = Backlog(store)
        backlog.start()
        watched = [*servers, fake]
        started, cpu = time.monotonic(), [cpu_seconds(p.pid) for p in watched] + [time.process_time()]
        records = asyncio.run(drive(target, schedule, requests))
        ended, ended_wall = time.monotonic(), time.time()
        cpu = [b - a for a, b in zip(cpu, [cpu_seconds(p.pid) for p in watched] + [time.process_time()], strict=True)]
        backlog.stop.set()
        at_end = (store.inbox.pending_count(), store.outbox.pending_count("slack"))
        while store.inbox.pending_count() or store.outbox.pending_count("slack"):
            if time.monotonic() - ended > 3600:
                print("gave up waiting for the queues to drain after an hour")
                break
            time.sleep(0.5)
        drained = time.monotonic()
        serving = ", ".join(
            f"rmbot serve ({role}) {seconds:.0f} s ({seconds / (ended - started):.0%} of a core)"
            for (role, _), seconds in zip(roles, cpu, strict=False)
        )
        print(
            f"CPU during the load: {serving}, fake Slack {cpu[-2]:.0f} s, load generator {cpu[-1]:.0f} s "
            f"in {ended - started:.0f} s"
        )
        time.sleep(1.0)
        with urllib.request.urlopen(f"{api_url.removesuffix('/api/')}/_stats?keys=1", timeout=60) as response:
            stats = json.loads(response.read())
        report(
            args, records, backlog.samples, at_end, drained - ended, ended - started, inbox(store), stats, ended_wall
        )
        store.close()
    finally:
        for process in reversed(processes):  # the server first, then the fake Slack it talks to
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if schema:
            drop_schema(args.database_url, schema)
    errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
    print(f"server log: {len(errors)} error lines" + (f"; first: {errors[0][:200]}" if errors else ""))


if __name__ == "__main__":
    main()

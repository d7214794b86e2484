"""Fan-out with replicas: outbox throughput of one ``rmbot serve`` against two on the same PostgreSQL.

    .venv/bin/python benchmarks/replica_fanout.py --database-url postgresql://postgres@127.0.0.1:5432/test
                                                  [--messages 6000] [--workspaces 6] [--latency 0.05]
                                                  [--budget 50] [--slack-limit 100] [--replicas 1 2]

What it does, for each replica count: a fresh PostgreSQL schema with ``--workspaces`` Slack workspaces
installed through OAuth (one bot token each, as a multi-workspace app has) and ``--messages`` people
spread across them; a fresh fake Slack Web API (``tests/fake_slack.py``'s ``FakeSlack`` in its own
process) that knows each workspace's token, answers every call after ``--latency`` seconds (a real Web
API call takes tens to hundreds of milliseconds) and enforces ``--slack-limit`` requests/s per workspace
(429 with ``Retry-After`` beyond) and about one message a second per channel; then N ``rmbot serve``
processes (``SLACK_WORKSPACE_BUDGET=--budget`` each). Once every replica is up, one agenda-like DM per
person is queued in a single transaction (rows interleaved across the workspaces) and the replicas send
them (each with its worker's sending thread: claim a batch of 100 with ``FOR UPDATE SKIP LOCKED``, lease,
post). It waits until the outbox is empty and prints, per replica count: messages, seconds from the
commit to the last post, throughput (and over the middle 80% of the calls), 429s, duplicates (posts per
idempotency key at the fake) and lost messages; then the ratio of two replicas to one.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_processes import cpu_seconds, free_port, wait_healthy  # noqa: E402

CLIENT_ID = "111.222"


def teams(count: int) -> list[str]:
    return [f"T{200 + n}" for n in range(1, count + 1)]


# -- the fake Slack, with a per-call latency and one token per workspace ------------------------------------


def run_fake(port: int, workspaces: int, latency: float, limit: float) -> None:
    from aiohttp import web

    from fake_slack import FakeSlack, Limits

    class SlowSlack(FakeSlack):
        async def _api(self, request: web.Request) -> web.Response:
            if latency > 0:
                await asyncio.sleep(latency)
            return await super()._api(request)

    fake = SlowSlack(
        tokens={f"xoxb-{team}": team for team in teams(workspaces)},
        limits=Limits(workspace=limit) if limit > 0 else None,
        record_bodies=False,
    )
    fake.port_wanted = port  # type: ignore[attr-defined]
    with fake:
        print(fake.api_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


# -- the database ------------------------------------------------------------------------------------------


def schema_url(base: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(normalise_url(base), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return base + ("&" if "?" in base else "?") + urllib.parse.urlencode({"options": f"-csearch_path={schema}"}), schema


def drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    with create_engine(normalise_url(base), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def seed(url: str, workspaces: int, messages: int) -> dict[str, list[int]]:
    """Installed workspaces and their people (linked to Slack ids); returns team -> person ids."""
    from bot.domain import NewPerson
    from storage import slack_installations
    from storage.store import SqlStore

    store = SqlStore.open(url)
    people: dict[str, list[int]] = {}
    for w, team in enumerate(teams(workspaces)):
        slack_installations.save(
            store.engine,
            CLIENT_ID,
            None,
            {
                "app_id": "A111",
                "team_id": team,
                "team_name": f"Workspace {team}",
                "bot_token": f"xoxb-{team}",
                "bot_id": "B111",
                "bot_user_id": "UBOT",
                "bot_scopes": "chat:write,im:write",
                "is_enterprise_install": False,
            },
        )
        with store.unit_of_work() as uow:
            tenant = uow.tenants.ensure("slack", team)
            people[team] = []
            for n in range(w, messages, workspaces):
                person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"p{n}@example.com"))
                uow.people.link_identity(person, "slack", f"U{team[1:]}{n:06d}")
                people[team].append(person.id)
    store.close()
    return people


def fill(url: str, people: dict[str, list[int]], messages: int) -> float:
    """One agenda DM per person, in one transaction, interleaved across workspaces; returns the commit time."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from slack_fanout import agenda
    from storage.store import SqlStore

    store = SqlStore.open(url, migrate=False)
    with store.unit_of_work() as uow:
        tenants = {team: uow.tenants.find("slack", team).id for team in people}  # type: ignore[union-attr]
        order = list(people)
        for n in range(messages):
            team = order[n % len(order)]
            uow.outbox.add(agenda(tenants[team], people[team][n // len(order)], n), platform="slack")
    committed = time.monotonic()
    store.close()
    return committed


def outbox_counts(url: str) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from storage.store import SqlStore
    from storage.tables import OutboxMessageRow

    store = SqlStore.open(url, migrate=False)
    with Session(store.engine) as session:
        rows = session.execute(select(OutboxMessageRow.status, func.count()).group_by(OutboxMessageRow.status)).all()
    store.close()
    return {status: count for status, count in rows}


# -- one measurement -------------------------------------------------------------------------------------


def measure(args: argparse.Namespace, replicas: int) -> dict:  # type: ignore[type-arg]
    url, schema = schema_url(args.database_url)
    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    workdir = Path(tempfile.mkdtemp(prefix="rmbot-replicas-"))
    try:
        people = seed(url, args.workspaces, args.messages)
        fake = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "fake",
                "--port",
                str(free_port()),
                "--workspaces",
                str(args.workspaces),
                "--latency",
                str(args.latency),
                "--slack-limit",
                str(args.slack_limit),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(fake)
        api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": "benchmark-client-secret",
            "SLACK_STATE_SECRET": "benchmark-state-secret",
            "SLACK_SIGNING_SECRET": "benchmark-signing-secret",
            "SLACK_API_URL": api_url,
            "SLACK_WORKSPACE_BUDGET": str(args.budget),
            "RMBOT_LOG_LEVEL": "WARNING",
        }
        servers = []
        for n in range(replicas):
            port = free_port()
            log = open(workdir / f"serve-{n}.log", "w")
            servers.append(
                (
                    port,
                    subprocess.Popen(
                        [str(ROOT / ".venv" / "bin" / "rmbot"), "serve", "--port", str(port)],
                        env=env,
                        cwd=workdir,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    ),
                )
            )
            processes.append(servers[-1][1])
        for port, server in servers:
            wait_healthy(port, server)
        time.sleep(2.0)  # start-up settled (scheduler leadership, first idle passes)
        cpu = [cpu_seconds(p.pid) for p in processes]
        load = os.getloadavg()[0]
        committed = fill(url, people, args.messages)
        while sum(n for s, n in outbox_counts(url).items() if s in ("pending", "sending")):
            time.sleep(0.25)
        emptied = time.monotonic()
        cpu = [cpu_seconds(p.pid) - c for p, c in zip(processes, cpu, strict=True)]
        base = api_url.removesuffix("/api/")
        with urllib.request.urlopen(f"{base}/_stats?times=1&keys=1", timeout=60) as response:
            stats = json.loads(response.read())
        counts = outbox_counts(url)
    finally:
        for process in processes[::-1]:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_schema(args.database_url, schema)
    times = sorted(stats["times"])
    keys = collections.Counter(key.split("#", 1)[0] for key in stats["keys"])
    lo, hi = times[len(times) // 10], times[len(times) * 9 // 10]
    errors = sum(
        1
        for f in workdir.glob("serve-*.log")
        for line in f.read_text().splitlines()
        if "ERROR" in line or "Traceback" in line
    )
    return {
        "replicas": replicas,
        "seconds": times[-1] - committed,
        "first_call": times[0] - committed,
        "middle_rate": (len(times) * 8 // 10) / (hi - lo) / 2,
        "posted": len(keys),
        "posts": stats["posts"],
        "duplicates": sum(n - 1 for n in keys.values()),
        "lost": args.messages - len(keys),
        "calls": stats["calls"],
        "methods": stats["methods"],
        "rate_limited": stats["rate_limited"],
        "violations": stats["violations"],
        "outbox": counts,
        "drain_poll": emptied - committed,
        "cpu": cpu,
        "load": load,
        "load_after": os.getloadavg()[0],
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "fake"])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--workspaces", type=int, default=6)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake takes to answer each call")
    parser.add_argument("--budget", type=float, default=50.0, help="SLACK_WORKSPACE_BUDGET per replica")
    parser.add_argument("--slack-limit", type=float, default=100.0, help="the fake's requests/s per workspace")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.mode == "fake":
        run_fake(args.port, args.workspaces, args.latency, args.slack_limit)
        return
    if not args.database_url.startswith("postgres"):
        raise SystemExit("replica_fanout.py measures PostgreSQL only (replicas need FOR UPDATE SKIP LOCKED)")
    print(
        f"{args.messages} DMs to {args.messages} people in {args.workspaces} workspaces; fake Slack: "
        f"{args.latency * 1000:.0f} ms per call, {args.slack_limit:.0f} requests/s per workspace; "
        f"SLACK_WORKSPACE_BUDGET={args.budget:.0f} per replica; {os.cpu_count()} cores",
        flush=True,
    )
    results = []
    for replicas in args.replicas:
        result = measure(args, replicas)
        results.append(result)
        r = result
        print(
            f"{replicas} replica(s): {r['posted']} messages in {r['seconds']:.1f} s = "
            f"{r['posted'] / r['seconds']:.1f} messages/s (middle 80% of calls: {r['middle_rate']:.1f}/s); "
            f"first call {r['first_call']:.2f} s after the commit; duplicates {r['duplicates']}, lost {r['lost']}; "
            f"429s {r['rate_limited']}, calls during a Retry-After {r['violations']}; calls {r['methods']}; "
            f"outbox {r['outbox']}; CPU s (fake, replicas): {' '.join(f'{c:.0f}' for c in r['cpu'])}; "
            f"load average {r['load']:.2f} -> {r['load_after']:.2f}; server log errors {r['errors']}",
            flush=True,
        )
    print(
        f"{'replicas':>8} {'messages':>8} {'seconds':>8} {'msg/s':>7} {'mid msg/s':>9} {'dupl.':>5} {'lost':>5} {'429s':>5}"
    )
    for r in results:
        print(
            f"{r['replicas']:>8} {r['posted']:>8} {r['seconds']:>8.1f} {r['posted'] / r['seconds']:>7.1f} "
            f"{r['middle_rate']:>9.1f} {r['duplicates']:>5} {r['lost']:>5} {r['rate_limited']:>5}"
        )
    by = {r["replicas"]: r for r in results}
    if 1 in by and 2 in by:
        ratio = (by[2]["posted"] / by[2]["seconds"]) / (by[1]["posted"] / by[1]["seconds"])
        middle = by[2]["middle_rate"] / by[1]["middle_rate"]
        print(
            f"two replicas / one: {ratio:.2f}x (middle 80%: {middle:.2f}x); goal at least 1.8x with zero duplicates: "
            f"{'met' if ratio >= 1.8 and by[1]['duplicates'] + by[2]['duplicates'] == 0 else 'missed'}"
        )


if __name__ == "__main__":
    main()

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
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_processes import cpu_seconds, free_port, wait_healthy  # noqa: E402
from fake_slack import interactive_body, payload, signed_headers  # noqa: E402

SECRET = "benchmark-signing-secret"
TEAM = "T111"
DM_TEXTS = ["help", "help", "support", "next", "goals", "resources", "agenda", "hello"]
COMMAND_TEXTS = ["help", "support", "next", "pause", "status"]
BUTTONS = [("support.pick|1", "change"), ("support.pick|2", "wellbeing")]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


# -- the database and the people -----------------------------------------------------------------------


def database(url: str, workdir: Path) -> tuple[str, str, str | None]:
    """(URL for rmbot, label, PostgreSQL schema to drop afterwards): a temp SQLite file or a fresh schema."""
    if not url:
        return f"sqlite:///{workdir / 'rmbot.db'}", "SQLite", None
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(normalise_url(url), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"options": f"-csearch_path={schema}"})
    return url, "PostgreSQL", schema


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    with create_engine(normalise_url(url.split("?", 1)[0]), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def seed(url: str, users: int) -> None:
    """The workspace and its people, each linked to a Slack user id (as after a directory import)."""
    from bot.domain import NewPerson
    from storage.store import SqlStore

    store = SqlStore.open(url)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        for n in range(1, users + 1):
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"person{n}@example.com"))
            uow.people.link_identity(person, "slack", f"U{n:05d}")
    store.close()


# -- requests ------------------------------------------------------------------------------------------


class Requests:
    """Builds the n-th request of the mix, signed at the moment it is sent; remembers its event id."""

    def __init__(self, users: int, seed_value: int) -> None:
        self.users = [f"U{n:05d}" for n in range(1, users + 1)]
        self.rng = random.Random(seed_value)
        self.dm = payload("event_callback_message_im__top_level_dm.json")
        self.form = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
        self.action = payload("block_actions.json")

    def build(self, n: int) -> tuple[bytes, dict[str, str], str, str]:
        """(body, headers, inbox event id, kind) of request ``n``."""
        user, roll, run = self.rng.choice(self.users), self.rng.random(), uuid.uuid4().hex
        channel = f"D{user[1:]}"
        if roll < 0.5:
            event = json.loads(json.dumps(self.dm))
            event.update(team_id=TEAM, event_id=f"Ev{run}", event_time=int(time.time()))
            event["authorizations"][0]["team_id"] = TEAM
            event["event"].update(user=user, text=self.rng.choice(DM_TEXTS), channel=channel, ts=f"{time.time():.6f}")
            body, kind, event_id, what = json.dumps(event), "application/json", f"Ev{run}", "dm"
        elif roll < 0.8:
            fields = dict(
                self.form,
                command="/mentoring",
                text=self.rng.choice(COMMAND_TEXTS),
                user_id=user,
                user_name=user.lower(),
                team_id=TEAM,
                channel_id=channel,
                channel_name="directmessage",
                trigger_id=f"{n}.{run}",
            )
            body, kind, event_id, what = (
                urllib.parse.urlencode(fields),
                "application/x-www-form-urlencoded",
                f"cmd:{n}.{run}",
                "command",
            )
        else:
            action_id, value = self.rng.choice(BUTTONS)
            data = json.loads(json.dumps(self.action))
            data["user"].update(id=user, username=user.lower(), name=user.lower(), team_id=TEAM)
            data["team"]["id"] = TEAM
            data["container"].update(channel_id=channel, message_ts=f"{time.time() - 60:.6f}", is_ephemeral=False)
            data["channel"] = {"id": channel, "name": "directmessage"}
            data.update(trigger_id=f"{n}.{run}")
            data["actions"][0].update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
            body, kind, event_id, what = (
                interactive_body(data),
                "application/x-www-form-urlencoded",
                f"act:{n}.{run}",
                "button",
            )
        return body.encode(), signed_headers(SECRET, body, kind), event_id, what


def plan(args: argparse.Namespace) -> list[tuple[float, bool]]:
    """(scheduled offset in seconds, in a burst) for every request of the run."""
    schedule, at = [], 0.0
    while at < args.duration:
        burst = (
            args.burst_every > 0
            and args.burst_seconds > 0
            and at % args.burst_every >= args.burst_every - args.burst_seconds
        )
        schedule.append((at, burst))
        at += 1.0 / (args.burst_rate if burst else args.rate)
    return schedule


async def drive(url: str, schedule: list[tuple[float, bool]], requests: Requests) -> list[tuple]:
    """Open-loop: request i leaves at start + offset_i. Returns (offset, burst, lag, latency, status, id, kind)."""
    import aiohttp

    records: list[tuple] = []
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        start = time.perf_counter() + 0.5

        async def one(n: int, offset: float, burst: bool) -> None:
            due = start + offset
            lag = time.perf_counter() - due
            body, headers, event_id, kind = requests.build(n)
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = 0
            records.append((offset, burst, lag, time.perf_counter() - due, status, event_id, kind))

        for n, (offset, burst) in enumerate(schedule):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n, offset, burst))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    return records


# -- watching the server ------------------------------------------------------------------------------


class Backlog(threading.Thread):
    """Samples the inbox and outbox backlog every few seconds while the load runs."""

    def __init__(self, store: object, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.store, self.every, self.samples = store, every, []  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.samples.append(
                (
                    time.monotonic() - self.started,
                    self.store.inbox.pending_count(),  # type: ignore[attr-defined]
                    self.store.outbox.pending_count("slack"),
                    os.getloadavg()[0],
                )
            )  # type: ignore[attr-defined]


def inbox(store: object) -> dict[str, tuple[str, float, float]]:
    """Event id -> (status, received, done) in epoch seconds (done 0 when not handled)."""
    from sqlmodel import Session, select

    from storage.tables import InboxEventRow

    with Session(store.engine) as session:  # type: ignore[attr-defined]
        rows = session.execute(
            select(InboxEventRow.event_id, InboxEventRow.status, InboxEventRow.received_at, InboxEventRow.done_at)
        ).all()
    return {e: (s, r.timestamp(), d.timestamp() if d else 0.0) for e, s, r, d in rows}


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


if __name__ == "__main__":
    main()

"""Ack latency of signed Slack requests: ``rmbot serve`` against a bare slack-bolt app that only acks.

    .venv/bin/python benchmarks/slack_ack_latency.py [--rates 50 200] [--seconds 30]
                                                     [--database-url postgresql://postgres@127.0.0.1:5432/test]

Both servers run the same stack (aiohttp, slack-bolt's AsyncApp with ``process_before_response``, request
signature verification, single-workspace authorisation) as separate processes on loopback, against the
fake Slack Web API (its own process). ``rmbot serve`` does its real work: translate, commit to the
durable inbox, acknowledge, while its worker handles every event and sends the replies. The bare app
acknowledges and does nothing else. A third server, "acks only", is rmbot's Slack app and durable inbox
without a worker in its process (as when the worker runs in another process): the cost of the ack path. The load is open-loop (requests leave on schedule, whatever the
answers): half ``/mentoring help`` slash commands (form bodies), half ``message.im`` events (JSON), each
uniquely identified and freshly signed, from 200 users already known (warmed up first). Prints p50/p99/max
per server and rate, their ratio, and every non-2xx answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_processes import free_port, wait_healthy  # noqa: E402
from fake_slack import payload, signed_headers  # noqa: E402

SECRET = "benchmark-signing-secret"
TEAM = "T111"
USERS = [f"U{n:05d}" for n in range(1, 201)]


# -- the bare app: the same stack, acknowledging only ------------------------------------------------------


def bare(port: int, api_url: str) -> None:
    """A slack-bolt app on aiohttp that verifies, authorises and acknowledges, nothing else."""
    import re

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp

    bolt = AsyncApp(token="xoxb-test", signing_secret=SECRET, process_before_response=True)
    bolt.client.base_url = api_url

    async def just_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    bolt.command(re.compile(".*"))(just_ack)
    bolt.event(re.compile(".*"))(just_ack)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def acks_only(port: int, api_url: str, database_url: str) -> None:
    """rmbot's Slack app and durable inbox, with no worker in the process (as if it ran elsewhere)."""
    from aiohttp import web

    from adapters.server import build_app, freeze_start_up_objects
    from adapters.settings import Settings
    from adapters.slack.app import SlackService
    from adapters.wiring import open_store
    from bot.runtime import Runtime

    settings = Settings(
        database_url=database_url, slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=api_url
    )
    store = open_store(settings)
    app = build_app(store)
    SlackService(settings, Runtime(store)).mount(app)
    freeze_start_up_objects()  # as rmbot serve does
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- load -----------------------------------------------------------------------------------------------------


def request(n: int, user: str) -> tuple[bytes, dict[str, str]]:
    """The n-th request: a slash command or a DM event, signed now."""
    if n % 2:
        fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
        fields.update(
            command="/mentoring",
            text="help",
            user_id=user,
            team_id=TEAM,
            channel_id=f"D{user}",
            trigger_id=f"{uuid.uuid4().hex}.{n}",
        )
        body, kind = urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"
    else:
        event = payload("event_callback_message_im__top_level_dm.json")
        event.update(team_id=TEAM, event_id=f"Ev{uuid.uuid4().hex}")
        event["authorizations"][0]["team_id"] = TEAM
        event["event"].update(user=user, text="help", channel=f"D{user}", ts=f"{time.time():.6f}")
        body, kind = json.dumps(event), "application/json"
    return body.encode(), signed_headers(SECRET, body, kind)


async def load(url: str, rate: float, seconds: float, offset: int = 0) -> tuple[list[float], dict[int, int]]:
    """Open-loop load: request i leaves at start + i/rate. Returns latencies (s) and status counts."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            body, headers = request(n, USERS[n % len(USERS)])
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(offset + i)))
        await asyncio.gather(*tasks)
    return latencies, statuses


def acks_database_url(database_url: str, workdir: Path) -> str:
    """Its own database for the acks-only server (SQLite file; or another PostgreSQL schema)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'acks-only.db'}"
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    base = database_url.split("?", 1)[0]
    with create_engine(normalise_url(base), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return base + "?" + urllib.parse.urlencode({"options": f"-csearch_path={schema}"})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "bare", "acks-only"])
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-url", default="")
    args = parser.parse_args()
    if args.mode == "bare":
        bare(args.port, args.api_url)
        return
    if args.mode == "acks-only":
        acks_only(args.port, args.api_url, args.database_url)
        return
    runs, backlog, label = measure(args.database_url, args.rates, args.seconds)
    report(runs[0], args, label)
    for rate, pending in backlog.items():
        print(f"{rate:>6.0f} rmbot's worker: {pending} events still to handle when the run ended (all handled after)")


Results = dict[tuple[str, float], tuple[list[float], dict[int, int]]]
"""Per (server, rate): the latencies (s) and the count of each HTTP status."""


def measure(
    given_url: str, rates: list[float], seconds: float, repeat: int = 1, warm_rate: float = 40.0, quiet: float = 3.0
) -> tuple[list[Results], dict[float, int], str]:
    """Start the fake Slack API and the three servers, warm them up (every user twice at ``warm_rate``), then load
    each server at each rate for ``seconds``, ``repeat`` times over, ``quiet`` seconds apart. Returns the results
    of each repetition, rmbot's backlog when each rate's (last) load ended, and the store's label."""
    workdir = Path(tempfile.mkdtemp(prefix="rmbot-ack-"))
    database_url = given_url or f"sqlite:///{workdir / 'rmbot.db'}"
    label = "SQLite"
    if given_url.startswith("postgres"):
        from sqlalchemy import create_engine, text

        from storage.db import normalise_url

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        database_url += ("&" if "?" in database_url else "?") + urllib.parse.urlencode(
            {"options": f"-csearch_path={schema}"}
        )
        label = "PostgreSQL"
    fake_port, rmbot_port, bare_port, acks_port = free_port(), free_port(), free_port(), free_port()
    processes = []
    try:
        fake = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fake_slack.py"), str(fake_port)], stdout=subprocess.PIPE, text=True
        )
        processes.append(fake)
        api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SLACK_WORKSPACE_BUDGET": "50",
            "RMBOT_LOG_LEVEL": "WARNING",
        }
        rmbot = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "rmbot"), "serve", "--port", str(rmbot_port)],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        processes.append(rmbot)
        plain = subprocess.Popen(
            [sys.executable, __file__, "bare", "--port", str(bare_port), "--api-url", api_url],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        processes.append(plain)
        acks = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "acks-only",
                "--port",
                str(acks_port),
                "--api-url",
                api_url,
                "--database-url",
                acks_database_url(database_url, workdir),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        processes.append(acks)
        wait_healthy(rmbot_port, rmbot)
        wait_healthy(bare_port, plain)
        wait_healthy(acks_port, acks)
        targets = {
            "bare bolt": f"http://127.0.0.1:{bare_port}/slack/events",
            "rmbot serve": f"http://127.0.0.1:{rmbot_port}/slack/events",
            "acks only": f"http://127.0.0.1:{acks_port}/slack/events",
        }
        for url in targets.values():  # warm up: every user known, auth.test done, code paths hot
            asyncio.run(load(url, warm_rate, len(USERS) / warm_rate * 2, offset=10_000_000))
        time.sleep(quiet + 2)
        from storage.store import SqlStore

        inbox = SqlStore.open(database_url, migrate=False).inbox
        runs: list[Results] = []
        backlog: dict[float, int] = {}
        for repetition in range(repeat):
            results: Results = {}
            for rate in rates:
                for name, url in targets.items():
                    offset = int(rate) * 1_000_000 + repetition * 100_000
                    results[(name, rate)] = asyncio.run(load(url, rate, seconds, offset=offset))
                    if name == "rmbot serve":
                        backlog[rate] = inbox.pending_count()
                        while inbox.pending_count():  # let the worker catch up before the next run
                            time.sleep(1)
                    time.sleep(quiet)
            runs.append(results)
        return runs, backlog, label
    finally:
        for process in reversed(processes):  # the servers first, then the fake Slack they talk to
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if given_url.startswith("postgres"):
            drop_bench_schemas(given_url)


def drop_bench_schemas(url: str) -> None:
    """Drop the schemas this benchmark made in the PostgreSQL database (``bench_*``)."""
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    with create_engine(normalise_url(url.split("?", 1)[0]), isolation_level="AUTOCOMMIT").connect() as connection:
        for (name,) in connection.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'")):
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))


def report(results: dict, args: argparse.Namespace, label: str) -> None:  # type: ignore[type-arg]
    print(f"store: {label}; {args.seconds:.0f} s per rate and server; half slash commands, half message.im events")
    print(f"{'rate':>6} {'server':<12} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8}")
    for rate in args.rates:
        for name in ("bare bolt", "rmbot serve", "acks only"):
            latencies, statuses = results[(name, rate)]
            bad = sum(n for status, n in statuses.items() if not 200 <= status < 300)
            print(
                f"{rate:>6.0f} {name:<12} {len(latencies):>8} {statistics.median(latencies) * 1000:>8.1f} "
                f"{percentile(latencies, 0.99) * 1000:>8.1f} {max(latencies) * 1000:>8.1f} {bad:>8}"
            )
        ours, theirs = results[("rmbot serve", rate)][0], results[("bare bolt", rate)][0]
        print(
            f"{rate:>6.0f} ratio rmbot serve/bare: p50 {statistics.median(ours) / statistics.median(theirs):.2f}x, "
            f"p99 {percentile(ours, 0.99) / percentile(theirs, 0.99):.2f}x"
        )
        alone = results[("acks only", rate)][0]
        print(
            f"{rate:>6.0f} ratio acks only/bare:  p50 {statistics.median(alone) / statistics.median(theirs):.2f}x, "
            f"p99 {percentile(alone, 0.99) / percentile(theirs, 0.99):.2f}x"
        )


if __name__ == "__main__":
    main()

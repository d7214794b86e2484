"""The fault harness's moving parts, shared by tests/test_faults.py and benchmarks/fault_harness.py.

* ``CountingSlack``: the fake Slack Web API of ``fake_slack.py`` that also reports, per conversation,
  who is in it and the idempotency keys and the start of everything posted there.
* ``Server``: the real ``rmbot serve`` in its own process on a fixed port: start, SIGKILL, restart.
* ``RetryingSlack``: posts signed Events API deliveries and retries each one that was not acknowledged
  with a 2xx (connection refused or reset, timeout after Slack's 3 seconds, an error status) with
  ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``, until it is acknowledged.
* ``Probe``: read-only looks into the server's database; ``private_database``: a fresh one.

Run as a script, it is one of the processes of the harness::

    python tests/fault_support.py fake-slack PORT USERS
    python tests/fault_support.py serve --clock-shift SECONDS -- serve --port PORT

The server is ``python -m adapters.cli serve``, the ``rmbot`` command line as it ships. Only when the
harness runs at a weekend, when no time zone anywhere is on a working day and every nudge would be
held until Monday, is it started through ``serve`` above: the same command line with the wall clock
shifted forward by whole days.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from fake_slack import FakeSlack, payload, signed_headers, slack_user  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.inbox_spool import spool_path  # noqa: E402

SECRET = "fault-harness-signing-secret"
TEAM = "T111"
HOURS = "00:00-23:59"
"""Working hours of everyone in the process scenarios: nudges are held only on weekends."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def user_id(n: int) -> str:
    return f"U{n:05d}"


# -- databases --------------------------------------------------------------------------------------------


def with_schema(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use ``schema`` (what ``rmbot`` reads from DATABASE_URL)."""
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def private_database(url: str, workdir: Path, name: str) -> Iterator[str]:
    """A fresh database: a SQLite file in ``workdir`` (``url`` empty or SQLite), else a private schema in
    the PostgreSQL database at ``url``, dropped afterwards."""
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    schema = f"fault_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_schema(url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Probe:
    """Read-only queries on the database a server uses (its own connections, never the server's)."""

    def __init__(self, url: str) -> None:
        args = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
        self.engine = create_engine(normalise_url(url), **args)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def backlog(self, now: datetime | None = None) -> dict[str, int]:
        """What is still to do: pending inbox events, unsent outbox messages, scheduled jobs already due."""
        found = {
            "inbox": self.scalar("SELECT count(*) FROM inbox_event WHERE status = 'pending'") + self.spooled(),
            "outbox": self.scalar("SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"),
        }
        if now is not None:
            found["due"] = self.scalar(
                "SELECT count(*) FROM scheduled_job WHERE status = 'scheduled' AND due_at <= :at", at=now
            )
        return found

    def spooled(self) -> int:
        """Events acknowledged into the spool beside an SQLite file and not gathered yet (``storage/inbox_spool``)."""
        path = spool_path(self.engine)
        if path is None or not Path(path).exists():
            return 0
        with sqlite3.connect(path, timeout=30) as connection:
            return int(connection.execute("SELECT count(*) FROM inbox_event").fetchone()[0])

    def close(self) -> None:
        self.engine.dispose()


# -- the fake Slack, in its own process --------------------------------------------------------------------


class CountingSlack(FakeSlack):
    """The fake Slack, reporting per conversation its members, post keys and the start of each post's text."""

    def stats(self) -> dict[str, Any]:
        found = super().stats()
        with self._lock:
            members = {channel: sorted(users) for users, channel in self._channels.items()}
            found["conversations"] = {
                channel: {
                    "users": members.get(channel, []),
                    "keys": [
                        str(((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")) for m in posted
                    ],
                    "texts": [(m.get("text") or "")[:300] for m in posted],
                }
                for channel, posted in self.messages.items()
            }
        return found


def _run_fake(port: int, users: int) -> None:
    import logging

    # A server SIGKILLed in the middle of a call to the fake is the point of the exercise, not an error.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    people = {user_id(n): slack_user(user_id(n), f"Person {n}", f"person{n}@example.com") for n in range(1, users + 1)}
    fake = CountingSlack(users=people)
    fake.port_wanted = port  # type: ignore[attr-defined]
    with fake:
        print(fake.api_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


class FakeSlackProcess:
    """``CountingSlack`` in its own process, knowing ``users`` people (U00001…) for ``users.info``."""

    def __init__(self, users: int) -> None:
        self.users = users

    def __enter__(self) -> FakeSlackProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "fake-slack", str(free_port()), str(self.users)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.api_url = self.process.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.api_url:
            raise RuntimeError("the fake Slack did not start")
        self.base = self.api_url.removesuffix("/api/")
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()  # type: ignore[union-attr]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/_stats", timeout=60) as response:
            return json.loads(response.read())

    def posts(self) -> int:
        return int(self.stats()["posts"])

    def by_user(self) -> dict[str, dict[str, list[str]]]:
        """Every DM conversation's posts (keys and texts), by the one user in it."""
        return {c["users"][0]: c for c in self.stats()["conversations"].values() if len(c["users"]) == 1}


# -- the server --------------------------------------------------------------------------------------------


class Server:
    """``rmbot serve`` with Slack configured (signed HTTP, the fake as its Web API) on a fixed port.

    ``lease`` sets RMBOT_SEND_LEASE_SECONDS: how long a message leased by a process that was killed
    mid-send waits before it is offered again (two minutes unless set)."""

    def __init__(
        self, database_url: str, api_url: str, workdir: Path, *, lease: float | None = None, clock_shift: float = 0.0
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = workdir / "server.log"
        self.command = (
            [sys.executable, "-m", "adapters.cli"]
            if not clock_shift
            else [sys.executable, __file__, "serve", "--clock-shift", str(clock_shift), "--"]
        )
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "RMBOT_", "DATABASE_URL"))
        }
        self.env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=api_url,
            SLACK_WORKSPACE_BUDGET="1000",
            RMBOT_LOG_LEVEL="WARNING",
        )
        if lease:
            self.env["RMBOT_SEND_LEASE_SECONDS"] = str(lease)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*self.command, "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def ready(self, timeout: float = 120.0) -> None:
        """Wait until /healthz answers (raises with the log's tail if the process died or never answered)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"rmbot serve is not answering on port {self.port}:\n{tail}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ctrl-C, as an operator would stop it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def _launch(argv: list[str]) -> None:
    """The ``serve`` entry point: shift the wall clock, then run the ``rmbot`` command line."""
    shift = float(argv[argv.index("--clock-shift") + 1])
    import bot.clock

    wall = bot.clock.SystemClock.now
    bot.clock.SystemClock.now = lambda self: wall(self) + timedelta(seconds=shift)  # type: ignore[method-assign]
    from adapters.cli import main

    sys.argv = ["rmbot", *argv[argv.index("--") + 1 :]]
    main()


# -- Slack's side: deliveries and retries ------------------------------------------------------------------


def dm_delivery(event_id: str, user: str, text: str) -> str:
    """The Events API body of a DM to the bot (the conformance kit's capture, re-addressed)."""
    body = copy.deepcopy(payload("event_callback_message_im__top_level_dm.json"))
    body.update(team_id=TEAM, event_id=event_id, event_time=int(time.time()))
    body["authorizations"][0]["team_id"] = TEAM
    body["event"].update(user=user, text=text, channel=f"D{user}", ts=f"{time.time():.6f}")
    return json.dumps(body)


@dataclass
class Delivery:
    """One event as Slack keeps it until the bot acknowledges it."""

    event_id: str
    user: str
    body: str
    attempts: int = 0
    acknowledged: float | None = None


class RetryingSlack:
    """Delivers events like Slack: signed, 3-second timeout, retried until acknowledged with a 2xx.

    Slack gives up after three retries; this client keeps going (the retry number keeps counting), so
    an event is only ever missing because the bot lost it."""

    def __init__(self, url: str, timeout: float = 3.0, backoff: float = 0.25) -> None:
        self.url, self.timeout, self.backoff = url + "/slack/events", timeout, backoff
        self.reasons: collections.Counter[str] = collections.Counter()
        self.latencies: list[float] = []
        """Seconds from sending to the 2xx, for every acknowledged delivery."""
        self.timeouts: list[float] = []
        """When (monotonic) each delivery that got no answer in time had been sent."""

    async def deliver(self, session: aiohttp.ClientSession, delivery: Delivery) -> None:
        reason = ""
        while True:
            headers = signed_headers(SECRET, delivery.body, "application/json", retry=delivery.attempts or None)
            if delivery.attempts:
                headers["X-Slack-Retry-Reason"] = reason
            delivery.attempts += 1
            sent = time.monotonic()
            try:
                async with session.post(
                    self.url,
                    data=delivery.body.encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        delivery.acknowledged = time.monotonic()
                        self.latencies.append(delivery.acknowledged - sent)
                        return
                    reason = "http_error"
            except TimeoutError:
                reason = "http_timeout"
                self.timeouts.append(sent)
            except (aiohttp.ClientError, OSError):
                reason = "connection_failed"  # refused while the server is down, or reset when it died
            self.reasons[reason] += 1
            await asyncio.sleep(min(2.0, self.backoff * delivery.attempts))

    async def deliver_all(self, deliveries: list[Delivery], rate: float) -> None:
        """Start one delivery every 1/``rate`` seconds; return when every one was acknowledged."""
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def one(n: int, delivery: Delivery) -> None:
            await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
            await self.deliver(session, delivery)

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            await asyncio.gather(*(one(n, d) for n, d in enumerate(deliveries)))


async def kill_at(server: Server, moments: list[float], started: float, kills: list[float]) -> None:
    """SIGKILL the server at each moment (seconds after ``started``, monotonic) and restart it at once;
    a moment that comes while the server is still starting waits until it serves."""
    for moment in moments:
        await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
        await asyncio.to_thread(server.ready)
        server.kill()
        kills.append(time.monotonic() - started)
        server.start()
    await asyncio.to_thread(server.ready)


def wait_until(condition: Any, timeout: float, what: str, poll: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


if __name__ == "__main__":
    if sys.argv[1] == "fake-slack":
        _run_fake(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "serve":
        _launch(sys.argv[2:])
    else:
        raise SystemExit(f"unknown role {sys.argv[1]!r}: fake-slack or serve")

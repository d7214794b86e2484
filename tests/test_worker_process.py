"""The worker apart from the acknowledgements: woken at once on PostgreSQL (LISTEN/NOTIFY), and by default
(``RMBOT_WORKER=process``) a child process of ``rmbot serve`` that is restarted when it dies.

Real processes for the supervision: ``rmbot serve`` with Slack configured (signed HTTP, the fake Slack in a
process of its own); its worker child is SIGKILLed while accepted events wait, and every event is still
answered exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from adapters.server import Worker
from adapters.settings import Settings
from bot.model import InboundEvent, Platform
from bot.runtime import Runtime
from fault_runs import HELP_REPLY
from fault_support import Delivery, FakeSlackProcess, Probe, RetryingSlack, Server, dm_delivery, user_id, wait_until
from storage.store import SqlStore


def console_event(n: int) -> InboundEvent:
    return InboundEvent(
        platform=Platform.CONSOLE, tenant="console", event_id=f"idle-{n}", user="", occurred_at=datetime.now(UTC)
    )


def test_an_event_accepted_while_the_worker_idles_is_handled_at_once_on_postgresql(
    postgres_schema: tuple[str, str],
) -> None:
    url, schema = postgres_schema
    store = SqlStore.open(url, schema=schema)
    runtime = Runtime(store)
    listener = store.inbox.listener()
    assert listener is not None
    worker = Worker(runtime, Settings(database_url=url), poll_seconds=5.0, listener=listener)
    worker.start()
    try:
        time.sleep(1.0)  # idle: the loop waits on its 5-second poll
        for n in range(3):
            accepted = time.monotonic()
            assert runtime.accept(console_event(n))
            while store.inbox.status_of("console", "console", f"idle-{n}") == "pending":
                assert time.monotonic() - accepted < 1.0, "not handled within 1 s of being accepted"
                time.sleep(0.01)
            time.sleep(0.3)
    finally:
        worker.stop()
        store.close()
    assert store.inbox.pending_count() == 0


def test_sqlite_has_no_listener(sqlite_url: str) -> None:
    store = SqlStore.open(sqlite_url)
    assert store.inbox.listener() is None
    store.close()


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def the_worker_child(server: Server) -> int:
    assert server.process is not None
    pid = server.process.pid
    wait_until(lambda: bool(children(pid)), 30, "the worker child")
    [child] = children(pid)
    return child


def pause_outside_a_transaction(pid: int, url: str) -> None:
    """SIGSTOP the worker child, at a moment it holds no SQLite write lock (it takes one only briefly)."""
    while True:
        os.kill(pid, signal.SIGSTOP)
        if not url.startswith("sqlite"):
            return
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=1.0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
        finally:
            connection.close()


def deliveries(prefix: str, count: int) -> list[Delivery]:
    made = [Delivery(f"Ev{prefix}{n:03d}", user_id(n % 10 + 1), "") for n in range(count)]
    for delivery in made:
        delivery.body = dm_delivery(delivery.event_id, delivery.user, "help")
    return made


def scrape(server: Server) -> str:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        return str(response.read().decode())


def processed(server: Server) -> float:
    """Events handled successfully on Slack, as the web process's ``/metrics`` counts them."""
    found = re.search(r'rmbot_events_processed_total\{outcome="ok",platform="slack"\} ([0-9.]+)', scrape(server))
    return float(found.group(1)) if found else 0.0


def test_a_killed_worker_process_is_restarted_and_nothing_is_lost(database_url: str, tmp_path: Path) -> None:
    first, second = deliveries("Sup", 10), deliveries("Pend", 20)
    with FakeSlackProcess(10) as fake:
        SqlStore.open(database_url).close()
        probe = Probe(database_url)
        server = Server(database_url, fake.api_url, tmp_path)
        try:
            server.start()
            server.ready()
            child = the_worker_child(server)
            asyncio.run(RetryingSlack(server.url).deliver_all(first, rate=40))
            wait_until(lambda: fake.posts() >= 10 and not any(probe.backlog().values()), 60, "the first answers")

            pause_outside_a_transaction(child, database_url)
            asyncio.run(RetryingSlack(server.url).deliver_all(second, rate=40))
            assert all(d.acknowledged and d.attempts == 1 for d in second)  # acks need no worker
            assert probe.backlog()["inbox"] == 20
            os.kill(child, signal.SIGKILL)

            wait_until(lambda: fake.posts() >= 30 and not any(probe.backlog().values()), 60, "the restarted worker")
            restarted = the_worker_child(server)
            assert restarted != child and not running(child)
            # what both children did is counted on the web process's /metrics, and the child leads
            wait_until(
                lambda: processed(server) >= 30 and "rmbot_scheduler_leader 1.0" in scrape(server), 10, "metrics"
            )
        finally:
            server.stop()
        assert not running(restarted)  # stopped with the web process
        replies = fake.by_user()
        keys = [key for conversation in replies.values() for key in conversation["keys"]]
        assert len(keys) == len(set(keys)) == 30
        assert all(text.startswith(HELP_REPLY) for c in replies.values() for text in c["texts"])
        assert probe.scalar("SELECT count(*) FROM inbox_event WHERE status = 'done'") == 30
        probe.close()


def test_the_worker_process_stops_when_the_web_process_is_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rmbot.db'}"
    with FakeSlackProcess(2) as fake:
        server = Server(url, fake.api_url, tmp_path)
        server.start()
        server.ready()
        child = the_worker_child(server)
        web = server.process.pid if server.process is not None else 0
        wait_until(  # once started, the child yields: acknowledgements come first when both want the processor
            lambda: os.getpriority(os.PRIO_PROCESS, child) > os.getpriority(os.PRIO_PROCESS, web),
            30,
            "a lower priority",
        )
        server.kill()
        wait_until(lambda: not running(child), 30, "the orphaned worker to stop")


def test_accepts_arriving_together_are_committed_together(store: SqlStore) -> None:
    """40 accepts at once (10 of them repeats): one writer at a time, each commit takes all that waited."""
    commits: list[float] = []

    def slow_commit(_connection: object) -> None:
        commits.append(time.monotonic())
        time.sleep(0.05)  # while one group commits, the others gather behind it

    event.listen(store.engine, "commit", slow_commit)
    events = [console_event(n) for n in range(30)] + [console_event(n) for n in range(10)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        added = list(pool.map(store.inbox.accept, events))
    event.remove(store.engine, "commit", slow_commit)
    assert sum(added) == 30 and store.inbox.pending_count() == 30
    assert len(commits) <= 10


def test_rmbot_worker_thread_keeps_the_work_in_the_web_process(tmp_path: Path) -> None:
    with FakeSlackProcess(2) as fake:
        server = Server(f"sqlite:///{tmp_path / 'rmbot.db'}", fake.api_url, tmp_path)
        server.env["RMBOT_WORKER"] = "thread"
        server.start()
        try:
            server.ready()
            assert server.process is not None and children(server.process.pid) == []
            asyncio.run(RetryingSlack(server.url).deliver_all(deliveries("Thr", 3), rate=10))
            wait_until(lambda: fake.posts() >= 3, 30, "the answers")
        finally:
            server.stop()

"""Two ``rmbot serve`` replicas on one PostgreSQL database, with the scheduler leader SIGKILLed part-way.

The fake Slack runs in its own process. A few hundred session reminders fall due over about 20 seconds;
each sends one DM to the mentor and one to the mentee. Part-way through, the replica holding scheduler
leadership is killed with SIGKILL. The other must take leadership well within 30 s, and every reminder
must be handled once and every DM posted exactly once: none lost, none twice.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.domain import (
    NewMatchPair,
    NewParticipant,
    NewPerson,
    NewProgramme,
    ParticipantStatus,
    Role,
)
from bot.sessions.circles import circle_key
from bot.sessions.model import NewSession
from conftest import ROOT
from storage.leader import lock_key
from storage.store import SqlStore

RMBOT = [sys.executable, "-m", "adapters.cli"]
PAIRS = 150
"""One reminder job per pair's session, two DMs each: 150 jobs, 300 DMs."""
SPREAD = 20.0
LEASE_SECONDS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], seconds: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def prepare(store: SqlStore) -> list[int]:
    """A Slack workspace with PAIRS active mentor-mentee pairs, each with one scheduled session; returns
    the session ids."""
    starts = datetime.now(UTC) + timedelta(days=2)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", "T111")
        programme = uow.programmes.add(NewProgramme(tenant_id=tenant.id, slug="scale-out", name="Scale out"))
        sessions = []
        for n in range(PAIRS):
            members = []
            for role, number in ((Role.MENTOR, 2 * n + 1), (Role.MENTEE, 2 * n + 2)):
                person = uow.people.add(
                    NewPerson(tenant_id=tenant.id, name=f"Person {number}", email=f"person{number}@example.com")
                )
                uow.people.link_identity(person, "slack", f"U{number:05d}")
                members.append(
                    uow.participants.add(
                        NewParticipant(
                            programme_id=programme.id, person_id=person.id, role=role, status=ParticipantStatus.ACTIVE
                        )
                    )
                )
            mentor, mentee = members
            uow.matching.add_pair(NewMatchPair(programme_id=programme.id, mentor_id=mentor.id, mentee_id=mentee.id))
            sessions.append(
                uow.sessions.add(
                    NewSession(
                        programme_id=programme.id,
                        circle=circle_key(mentor.id, [mentee.id]),
                        mentor_id=mentor.id,
                        mentee_ids=[mentee.id],
                        sequence=1,
                        starts_at=starts,
                        minutes=45,
                        anchor_time_zone="UTC",
                        uid=f"{uuid.uuid4()}@rmbot",
                    )
                ).id
            )
    return sessions


def schedule_reminders(store: SqlStore, sessions: list[int]) -> None:
    """Each session's reminder falls due within the next SPREAD seconds, as the sessions module keys it."""
    first = datetime.now(UTC) + timedelta(seconds=1)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", "T111")
        for n, session_id in enumerate(sessions):
            due = first + timedelta(seconds=SPREAD * n / len(sessions))
            uow.schedule.add(
                tenant.id,
                "session_reminder",
                due,
                {"session_id": session_id, "version": 0},
                key=f"session:{session_id}:0:session_reminder",
            )


def parent_of(pid: int) -> int:
    """The parent process id of ``pid`` (Linux; 0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ValueError, IndexError):
        return 0


def children_of(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux)."""
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def leader_pid(engine: Engine, schema: str) -> int | None:
    """The OS process id of the replica holding the scheduler lock (from its session's application_name)."""
    unsigned = lock_key(f"rmbot.scheduler:{schema}") & 0xFFFFFFFFFFFFFFFF
    with engine.connect() as connection:
        name = connection.execute(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low "
                "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
        ).scalar()
    found = re.fullmatch(r"rmbot scheduler .* (\d+)", name or "")
    return int(found.group(1)) if found else None


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def slack_stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/_stats?keys=1", timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_two_replicas_with_the_leader_killed_send_every_message_exactly_once(
    postgres_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = postgres_schema
    database_url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    processes: list[subprocess.Popen[Any]] = []
    store: SqlStore | None = None
    try:
        fake = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fake_slack.py"), str(free_port())], stdout=subprocess.PIPE, text=True
        )
        processes.append(fake)
        api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        base = api_url.removesuffix("/api/")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": api_url,
            "SLACK_WORKSPACE_BUDGET": "30",
            "RMBOT_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
            "RMBOT_LOG_LEVEL": "INFO",
        }
        env.pop("RMBOT_FAILPOINT", None)
        upgraded = subprocess.run(
            [*RMBOT, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert upgraded.returncode == 0, upgraded.stderr
        store = SqlStore.open(url, schema=schema, migrate=False)
        sessions = prepare(store)

        ports, logs = [free_port(), free_port()], [tmp_path / "replica-0.log", tmp_path / "replica-1.log"]
        replicas = []
        for port, log in zip(ports, logs, strict=True):
            with log.open("w") as sink:
                replicas.append(
                    subprocess.Popen(
                        [*RMBOT, "serve", "--port", str(port)],
                        env=env,
                        cwd=tmp_path,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
        processes += replicas
        wait_until(lambda: all(healthy(port) for port in ports), 60, "both replicas to answer /healthz", 0.2)
        by_pid = {replica.pid: n for n, replica in enumerate(replicas)}
        # Each replica schedules in its worker child (RMBOT_WORKER=process): the lock holder is the child.
        leader = by_pid[parent_of(wait_until(lambda: leader_pid(store.engine, schema), 30, "a scheduler leader"))]
        survivor = 1 - leader
        wait_until(lambda: "scheduler leadership taken" in logs[leader].read_text(), 10, "the leader's log line")
        wait_until(
            lambda: "scheduler leadership held by another process" in logs[survivor].read_text(),
            10,
            "the follower's log line",
        )

        schedule_reminders(store, sessions)
        expected = 2 * len(sessions)
        wait_until(lambda: slack_stats(base)["posts"] >= expected // 3, 40, "a third of the DMs")
        for pid in children_of(replicas[leader].pid):  # the whole replica dies at once, its worker too
            os.kill(pid, signal.SIGKILL)
        replicas[leader].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        replicas[leader].wait(10)
        posted_at_kill = slack_stats(base)["posts"]

        wait_until(
            lambda: parent_of(leader_pid(store.engine, schema) or 0) == replicas[survivor].pid,
            30,
            "the survivor to lead",
        )
        failover = time.monotonic() - killed_at
        print(f"\nfailover: {failover:.1f} s after SIGKILL ({posted_at_kill} of {expected} DMs posted at the kill)")
        assert failover < 30
        wait_until(lambda: "scheduler leadership taken" in logs[survivor].read_text(), 5, "the survivor's log line")

        done = "SELECT count(*) FROM outbox_message WHERE status = 'sent'"
        wait_until(
            lambda: count(store.engine, done) >= expected and slack_stats(base)["posts"] >= expected,
            40,
            "every DM to be sent",
            0.25,
        )
        time.sleep(1.0)  # anything sent twice would show up now
        assert replicas[survivor].poll() is None, logs[survivor].read_text()[-3000:]

        jobs = len(sessions)
        assert count(store.engine, "SELECT count(*) FROM scheduled_job WHERE status = 'enqueued'") == jobs
        assert count(store.engine, "SELECT count(*) FROM inbox_event WHERE event_id LIKE 'due:%'") == jobs
        assert count(store.engine, "SELECT count(*) FROM inbox_event WHERE status <> 'done'") == 0
        assert count(store.engine, "SELECT count(*) FROM outbox_message") == expected
        assert count(store.engine, "SELECT count(*) FROM outbox_message WHERE status <> 'sent'") == 0
        with store.engine.connect() as connection:
            keys = set(connection.execute(text("SELECT idempotency_key FROM outbox_message")).scalars())
        posted = collections.Counter(slack_stats(base)["keys"])
        assert [key for key, times in posted.items() if times > 1] == []  # nothing twice
        assert {key.rpartition("#")[0] for key in posted} == keys  # nothing lost, nothing unexpected
        assert sum(posted.values()) == expected
        taken_over = count(store.engine, "SELECT count(*) FROM outbox_message WHERE attempts > 1")
        print(f"DMs taken over after the killed replica's lease ran out: {taken_over}")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.kill()
            process.wait(10)
        if store is not None:
            store.close()

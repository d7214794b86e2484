"""Scheduler leadership: one leader per database schema on PostgreSQL, taken over when the leader's
session dies; always the leader on SQLite; the DueWaker runs due work only while leading."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from adapters.scheduling import DueWaker
from adapters.settings import ConfigurationError, load_settings
from storage.db import make_engine, normalise_url
from storage.leader import AdvisoryLockLeadership, SoleLeadership, leadership_for, lock_key


@pytest.fixture
def engine(postgres_schema: tuple[str, str]) -> Iterator[Engine]:
    url, schema = postgres_schema
    made = make_engine(url, schema=schema)
    try:
        yield made
    finally:
        made.dispose()


@pytest.fixture
def admin(postgres_schema: tuple[str, str]) -> Iterator[Engine]:
    made = create_engine(normalise_url(postgres_schema[0]), isolation_level="AUTOCOMMIT")
    try:
        yield made
    finally:
        made.dispose()


def eventually(check, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def lock_holders(admin: Engine, key: int) -> list[int]:
    """Backends holding the advisory lock ``key`` (pg_locks splits the 64-bit key in two halves)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    with admin.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :high AND objid = :low "
                    "AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
            ).scalars()
        )


def test_exactly_one_of_two_leads_and_the_other_takes_over_when_its_backend_is_terminated(
    engine: Engine, admin: Engine, postgres_schema: tuple[str, str]
) -> None:
    first, second = AdvisoryLockLeadership(engine), AdvisoryLockLeadership(engine)
    try:
        assert first.try_lead() and first.is_leader
        assert not second.try_lead() and not second.is_leader
        assert first.try_lead() and not second.try_lead()  # confirming does not stack or leak the lock
        key = lock_key(f"rmbot.scheduler:{postgres_schema[1]}")
        assert lock_holders(admin, key) == [first.backend_pid]

        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first.backend_pid})
        assert eventually(second.try_lead)
        assert not first.try_lead() and not first.is_leader  # its session is gone: leadership lost
        assert not first.try_lead()  # reconnected, and the lock is taken
        assert lock_holders(admin, key) == [second.backend_pid]
    finally:
        first.release()
        second.release()


def test_closing_the_leaders_connection_or_releasing_hands_leadership_over(engine: Engine) -> None:
    first, second = AdvisoryLockLeadership(engine), AdvisoryLockLeadership(engine)
    try:
        assert first.try_lead() and not second.try_lead()
        first._connection.close()  # as if the process died: no unlock, the socket closes
        assert eventually(second.try_lead)
        assert not first.try_lead()
        second.release()  # a clean shutdown unlocks at once
        assert not second.is_leader
        assert first.try_lead()
    finally:
        first.release()
        second.release()


def test_each_schema_has_its_own_leader(engine: Engine, postgres_schema: tuple[str, str], admin: Engine) -> None:
    other = "t_leader_other"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{other}"'))
    other_engine = make_engine(postgres_schema[0], schema=other)
    here, there = AdvisoryLockLeadership(engine), AdvisoryLockLeadership(other_engine)
    try:
        assert here.try_lead() and there.try_lead()
    finally:
        here.release()
        there.release()
        other_engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{other}"'))


def test_sqlite_always_leads(tmp_path: Path) -> None:
    sqlite = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        leadership = leadership_for(sqlite)
        assert isinstance(leadership, SoleLeadership)
        assert leadership.try_lead() and leadership.is_leader
        leadership.release()
        assert leadership.try_lead()
    finally:
        sqlite.dispose()


class Scripted:
    """A leadership whose answers the test decides."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers, self.released = answers, False

    def try_lead(self) -> bool:
        return self.answers.pop(0)

    def release(self) -> None:
        self.released = True


def test_the_waker_runs_due_work_only_while_leading_and_logs_changes(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    leadership = Scripted([False, False, True, True, False])
    waker = DueWaker(lambda: runs.append(1) or None, tick_seconds=5, leadership=leadership)
    with caplog.at_level(logging.INFO, logger="adapters.scheduling"):
        for _ in range(5):
            waker._run()  # what every tick does
    assert len(runs) == 2 and not waker.is_leader
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "scheduler leadership held by another process: this one takes over if it stops",
        "scheduler leadership taken: this process runs the scheduled work",
        "scheduler leadership lost: this process no longer runs the scheduled work",
    ]
    waker.shutdown()
    assert leadership.released


def test_a_failing_leadership_check_means_not_leading() -> None:
    class Broken:
        def try_lead(self) -> bool:
            raise OSError("database unreachable")

        def release(self) -> None:
            pass

    runs: list[int] = []
    waker = DueWaker(lambda: runs.append(1) or None, leadership=Broken())
    waker._run()
    assert runs == [] and not waker.is_leader
    waker.shutdown()


@pytest.mark.parametrize("value", ["0", "31", "soon"])
def test_the_tick_setting_is_validated(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMBOT_SCHEDULER_TICK_SECONDS", value)
    with pytest.raises(ConfigurationError, match="RMBOT_SCHEDULER_TICK_SECONDS"):
        load_settings()


def test_replicas_starting_together_migrate_one_after_the_other(
    postgres_schema: tuple[str, str], tmp_path: Path
) -> None:
    """Three processes upgrade an empty schema at once: they take turns, and none fails."""
    import os
    import subprocess
    import sys
    from urllib.parse import quote

    from conftest import ROOT
    from storage.db import current_revision, head_revision

    url, schema = postgres_schema
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}",
    }
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors = [process.communicate(timeout=120)[1] for process in upgrades]
    assert [process.returncode for process in upgrades] == [0, 0, 0], errors
    engine = make_engine(url, schema=schema)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()

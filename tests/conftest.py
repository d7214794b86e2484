"""Shared fixtures: a fresh store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlmodel import SQLModel

from storage import db
from storage.db import normalise_url
from storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "specs"


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


_migrate = db.upgrade


def _from_the_tables(engine: Engine, revision: str = "head") -> None:
    """:func:`storage.db.upgrade` for the suite: an empty database brought to the newest migration is built from
    the tables and stamped, in a tenth of the time running every migration takes (``test_migrations_match_the_tables``
    checks that the two give the same schema; tests marked ``real_migrations`` run them)."""
    if revision != "head" or inspect(engine).has_table("alembic_version"):
        _migrate(engine, revision)
        return
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        connection.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": db.newest_on_disk()}
        )


@event.listens_for(Engine, "connect")
def _commits_not_flushed_to_disk(dbapi_connection: Any, _record: Any) -> None:
    """On the test PostgreSQL, a commit does not wait for its WAL to reach the disk (``synchronous_commit =
    off``): several times faster per transaction, and nothing the suite checks depends on it (a test kills rmbot's
    processes, never the database server, whose memory keeps every commit). rmbot's own processes started by a
    test keep the server's setting."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        if not dbapi_connection.autocommit:
            dbapi_connection.commit()


@pytest.fixture(autouse=True)
def _schema_from_the_tables(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not request.node.get_closest_marker("real_migrations"):
        monkeypatch.setattr(db, "upgrade", _from_the_tables)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A private schema in the test PostgreSQL database, dropped afterwards."""
    url = _postgres_url()
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for ``rmbot`` processes: a SQLite file, or a private PostgreSQL schema (by search_path)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rmbot.db'}"
    url, schema = request.getfixturevalue("postgres_schema")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        opened = SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        opened = SqlStore.open(url, schema=schema)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def chat(store: SqlStore):  # type: ignore[no-untyped-def]
    """The sample organisation with a programme, Digital 2030, from 2 March to 31 May 2030; the clock is
    at Friday 1 March 2030, 12:00 UTC. Test modules with other needs define their own ``chat``."""
    from datetime import datetime

    from bot.clock import OffsetClock
    from chat import Chat

    chat = Chat(store, OffsetClock(start=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)))
    chat.load_sample()
    chat.make_tenant_coordinator("amara.okafor@example.com")
    chat.new_programme("amara.okafor@example.com", "Digital 2030", "2030-03-02", "2030-05-31")
    return chat


LONGEST_FIRST = (
    "test_whole_term.py",
    "test_replicas.py",
    "test_faults.py",
    "test_forms_native.py",
    "test_replica_dedup.py",
    "test_worker_process.py",
    "test_roles.py",
)
"""Modules whose tests take the longest (tens of seconds each, most of it waiting on processes): started first,
so that the workers do not end the run waiting on one of them alone."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in LONGEST_FIRST)  # a stable sort: the order is kept otherwise

"""Shared fixtures: a fresh store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import copy
import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, event, insert, inspect, select, text
from sqlmodel import SQLModel

from bot.clock import OffsetClock
from bot.engine import Engine as BotEngine
from bot.runtime import Runtime
from chat import Chat
from schema_pool import ReadySchemas
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


@pytest.fixture(scope="session")
def _ready_schemas() -> Iterator[ReadySchemas | None]:
    url = _postgres_url()
    if not url:
        yield None
        return
    schemas = ReadySchemas(url, _from_the_tables)
    try:
        yield schemas
    finally:
        schemas.close()


@pytest.fixture(scope="session")
def _empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's empty SQLite database built from the tables once: each test opens a copy of the file."""
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    engine = db.make_engine(f"sqlite:///{path}")
    _from_the_tables(engine)
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file
    return path


def _open_sqlite(request: pytest.FixtureRequest, path: Path) -> SqlStore:
    if not request.node.get_closest_marker("real_migrations"):
        shutil.copyfile(request.getfixturevalue("_empty_sqlite"), path)
    return SqlStore.open(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    schemas: ReadySchemas | None = None
    if request.param == "sqlite":
        opened = _open_sqlite(request, tmp_path / "store.db")
    elif request.node.get_closest_marker("real_migrations"):
        url, schema = request.getfixturevalue("postgres_schema")
        opened = SqlStore.open(url, schema=schema)
    else:
        schemas = request.getfixturevalue("_ready_schemas")
        if schemas is None:
            pytest.skip("TEST_DATABASE_URL is not set")
        schema, shape = schemas.take()
        opened = SqlStore.open(schemas.url, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        if schemas is not None:
            schemas.give_back(schema, shape)


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    opened = _open_sqlite(request, tmp_path / "store.db")
    try:
        yield opened
    finally:
        opened.close()


SAMPLE_START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def _sample_chat(store: SqlStore) -> Chat:
    chat = Chat(store, OffsetClock(start=SAMPLE_START))
    chat.load_sample()
    chat.make_tenant_coordinator("amara.okafor@example.com")
    chat.new_programme("amara.okafor@example.com", "Digital 2030", "2030-03-02", "2030-05-31")
    return chat


@dataclass(frozen=True)
class _Snapshot:
    """The ``chat`` fixture's world, made once per worker: every row it wrote, and what its chat remembers."""

    rows: dict[str, list[dict[str, Any]]]
    chat: Chat
    next_event: int
    """The number of the next event the chat types (each event's id is unique)."""


@pytest.fixture(scope="session")
def _sample_programme(tmp_path_factory: pytest.TempPathFactory) -> _Snapshot:
    store = SqlStore.open(f"sqlite:///{tmp_path_factory.mktemp('sample') / 'sample.db'}")
    chat = _sample_chat(store)
    with store.engine.connect() as connection:
        rows = {table.name: [dict(row._mapping) for row in connection.execute(select(table))] for table in _TABLES}
    store.close()
    return _Snapshot({name: found for name, found in rows.items() if found}, chat, next(chat._ids))


_TABLES = SQLModel.metadata.sorted_tables
"""Every table, each after those it refers to."""


def _restore(store: SqlStore, snapshot: _Snapshot) -> Chat:
    """Write the snapshot's rows into ``store`` (empty) and give a chat that remembers what the snapshot's did."""
    with store.engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        # A person's manager may come after them: foreign keys are checked at the commit (SQLite), or not at all
        # for these rows, which were valid where they were read (PostgreSQL).
        connection.execute(
            text("SET LOCAL session_replication_role = replica" if postgresql else "PRAGMA defer_foreign_keys = ON")
        )
        for table in _TABLES:
            found = snapshot.rows.get(table.name)
            if not found:
                continue
            connection.execute(insert(table), found)
            if postgresql and "id" in table.c and table.c.id.autoincrement:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                    )
                )
    chat = copy.copy(snapshot.chat)
    chat.store = store
    chat.clock = copy.deepcopy(snapshot.chat.clock)
    chat.runtime = Runtime(store, BotEngine(), chat.clock)
    chat.deliverer = copy.deepcopy(snapshot.chat.deliverer)
    chat.last = copy.deepcopy(snapshot.chat.last)
    chat._known = dict(snapshot.chat._known)
    chat._ids = itertools.count(snapshot.next_event)
    return chat


@pytest.fixture
def chat(store: SqlStore, _sample_programme: _Snapshot) -> Chat:
    """The sample organisation with a programme, Digital 2030, from 2 March to 31 May 2030; the clock is
    at Friday 1 March 2030, 12:00 UTC. Test modules with other needs define their own ``chat``.

    Made once per worker through chat as a coordinator would (``_sample_chat``); each test gets a copy of its rows
    in its own empty database, and a chat that remembers what that one received."""
    return _restore(store, _sample_programme)


LONGEST = {
    "test_sigkills_while_slack_retries_lose_nothing_and_repeat_nothing": 46,
    "test_whole_terms_hold_together": 38,
    "test_two_replicas_with_the_leader_killed_send_every_message_exactly_once": 40,
    "test_checkins_due_while_no_server_ran_are_sent_once": 34,
    "test_the_intake_through_the_modal_ends_where_the_chat_intake_ends": 22,
    "test_the_same_event_sent_to_two_replicas_at_once_has_one_effect": 18,
    "test_a_web_process_accepts_and_a_worker_process_answers_each_event_once": 15,
    "test_a_killed_worker_process_is_restarted_and_nothing_is_lost": 10,
    "test_the_worker_process_stops_when_the_web_process_is_killed": 10,
    "test_no_mode_ever_breaks_a_hard_rule": 9,
    "test_every_event_delivered_four_times_leaves_what_one_delivery_leaves": 6,
    "test_a_valid_modal_stores_every_answer_once": 8,
    "test_optimal_equals_exhaustive_search": 8,
    "test_help_typed_after_thousands_of_queued_nudges_is_answered_in_the_first_send": 7,
    "test_stable_mode_gives_the_pairs_of_the_reference_deferred_acceptance": 7,
    "test_any_arguments_to_any_coordinator_verb_get_a_clear_answer": 5,
    "test_replicas_starting_together_migrate_one_after_the_other": 7,
    "test_stable_mode_has_no_blocking_pair": 7,
    "test_optimal_with_pins_is_optimal_for_everyone_else": 6,
    "test_explanations_never_mention_gender_or_generation": 6,
    "test_vectorised_deferred_acceptance_equals_the_reference_on_ties": 6,
    "test_forget_me_leaves_nothing_they_typed_or_that_names_them_anywhere_in_the_database": 5,
    "test_rmbot_worker_thread_keeps_the_work_in_the_web_process": 6,
}
"""The tests that take longest (seconds each, per parametrisation, as measured in a whole run; most of it work
in, or waiting on, rmbot processes): each worker starts with its share of them, so that the run does not end
waiting on one of them alone."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the tests so that each worker starts on a fair share of the longest ones.

    ``--dist worksteal`` hands each of the n workers a contiguous part of the collection (the first len/n tests
    to one, the next to the next, ...), and an idle worker later takes tests from the end of another's part. So
    the longest tests are dealt out (the longest first, each to the part with the least so far) and put at the
    start of their part; the other tests keep their order. Without xdist (n = 1) the longest simply come first."""
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    expected = {id(item): LONGEST.get(getattr(item, "originalname", item.name), 0) for item in items}
    long = sorted((item for item in items if expected[id(item)]), key=lambda item: -expected[id(item)])
    rest = [item for item in items if not expected[id(item)]]
    sizes, left = [], len(items)
    for part in range(workers):  # as worksteal splits the collection: len // workers, then what is left, ...
        sizes.append(left // (workers - part))
        left -= sizes[-1]
    parts: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for item in long:
        part = min((p for p in range(workers) if len(parts[p]) < sizes[p]), key=lambda p: loads[p])
        parts[part].append(item)
        loads[part] += expected[id(item)]
    ordered: list[pytest.Item] = []
    for part, size in zip(parts, sizes, strict=True):
        filling = size - len(part)
        ordered += part + rest[:filling]
        del rest[:filling]
    items[:] = ordered + rest

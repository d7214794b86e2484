"""Shared fixtures: a fresh store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from storage.db import normalise_url
from storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "specs"


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


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

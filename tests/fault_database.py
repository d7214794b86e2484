"""The fault harness's databases: a fresh one per run (a SQLite file, or a private PostgreSQL schema) and
``Probe``, read-only looks into the database a server uses."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from storage.db import normalise_url
from storage.inbox_spool import spool_path


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
        """The one value ``sql`` selects."""
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Every row ``sql`` selects."""
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

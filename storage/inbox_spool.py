"""On SQLite, the inbox's front door: a file of its own that only the acknowledging side writes.

SQLite has one write lock per database file, and a worker holds the main file's for the whole of each event's
handling (``BEGIN IMMEDIATE``: read, change the domain, queue the replies, mark the event done, commit). An
acknowledgement that had to commit into the same file waited behind that work, however heavy. With a spool,
the web side commits each accepted event into ``<database>-spool`` (same ``inbox_event`` table, same
uniqueness), a file nobody else holds for long; the worker gathers spooled events into the main inbox in one
short transaction before it claims, then deletes what it gathered from the spool.

Exactly once still holds: gathering inserts with ``ON CONFLICT DO NOTHING`` on the main inbox's unique key, so
an event gathered twice (a crash between the main commit and the spool delete, or a platform retry spooled
after its first delivery was gathered) is handled once; an accept also looks the event up in the main inbox
(a read: SQLite readers never wait for the writer) so a retry of an event already gathered is reported as a
duplicate. Events stay in the spool only until the next gather, a fraction of a second while a worker runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.model import InboundEvent
from storage import db
from storage.sql import col, insert_ignoring, insert_many_ignoring_duplicates, rowcount, select, table
from storage.tables import InboxEventRow

UNIQUE = ["platform", "tenant_key", "event_id"]
GATHER_AT_MOST = 500
"""Events gathered per transaction: enough to empty a burst at once, few enough to keep the lock short."""
_IN_MAIN = "SELECT 1 FROM inbox_event WHERE platform = ? AND tenant_key = ? AND event_id = ?"


def spool_path(main: Engine) -> str | None:
    """Where the spool of an SQLite database file lives (None for PostgreSQL and in-memory databases)."""
    if main.dialect.name != "sqlite":
        return None
    database = main.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-spool"


def insert_accepted(connection: Connection, event: InboundEvent, received_at: datetime) -> bool:
    """Insert a newly accepted event into ``inbox_event`` on ``connection`` (a plain connection: no ORM session on
    the acknowledging path), unless it is there already; True when it was added."""
    row = row_of(event, received_at)
    statement = insert_ignoring(connection.dialect.name, InboxEventRow, tuple(UNIQUE), tuple(sorted(row)))
    return connection.execute(statement, row).first() is not None


def row_of(event: InboundEvent, received_at: datetime) -> dict[str, Any]:
    """The ``inbox_event`` values of a newly accepted event."""
    return {
        "platform": event.platform.value,
        "tenant_key": event.tenant,
        "event_id": event.event_id,
        "user_key": event.user,
        "payload": event.model_dump(mode="json"),
        "status": "pending",
        "attempts": 0,
        "last_error": "",
        "received_at": received_at,
    }


class InboxSpool:
    """The spool file beside an SQLite database: written by :meth:`accept`, emptied by :meth:`gather`."""

    def __init__(self, main: Engine, path: str, now: Callable[[], datetime]) -> None:
        self.main, self.path, self.now = main, path, now
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The spool's own engine, creating the file and its table on first use."""
        if self._engine is None:
            engine = db.make_engine(f"sqlite:///{self.path}")
            table(InboxEventRow).create(engine, checkfirst=True)
            self._engine = engine
        return self._engine

    def exists(self) -> bool:
        """Whether anything was ever spooled here (a worker only looks into a spool that exists)."""
        return self._engine is not None or os.path.exists(self.path)

    def accept(self, events: Sequence[InboundEvent]) -> list[bool]:
        """Commit ``events`` into the spool in one transaction; for each, False when it was already accepted
        (spooled, or already gathered into the main inbox)."""
        gathered = self._in_main(events)
        added: list[bool] = []
        with self.engine.begin() as connection:
            for event, known in zip(events, gathered, strict=True):
                added.append(not known and insert_accepted(connection, event, self.now()))
        return added

    def _in_main(self, events: Sequence[InboundEvent]) -> list[bool]:
        """Which events the main inbox holds already, read without a transaction (so without its write lock)."""
        connection = self.main.raw_connection()
        try:
            cursor = connection.cursor()
            found = [
                cursor.execute(_IN_MAIN, (e.platform.value, e.tenant, e.event_id)).fetchone() is not None
                for e in events
            ]
            cursor.close()
            return found
        finally:
            connection.close()

    def gather(self) -> int:
        """Move spooled events into the main inbox (oldest first, one short transaction), then delete them from the
        spool. Returns how many were spooled (duplicates of events already in the main inbox included)."""
        if not self.exists():
            return 0
        moved = 0
        while True:
            with Session(self.engine) as session:
                rows = session.exec(select(InboxEventRow).order_by(col(InboxEventRow.id)).limit(GATHER_AT_MOST)).all()
                values = [{k: v for k, v in row.model_dump().items() if k != "id"} for row in rows]
            if not rows:
                return moved
            last = rows[-1].id
            with Session(self.main) as session, session.begin():
                insert_many_ignoring_duplicates(session, InboxEventRow, values, UNIQUE)
            with Session(self.engine) as session, session.begin():
                session.execute(delete(InboxEventRow).where(col(InboxEventRow.id) <= last))
            moved += len(rows)
            if len(rows) < GATHER_AT_MOST:
                return moved

    def count(self) -> int:
        """How many events wait in the spool."""
        if not self.exists():
            return 0
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(InboxEventRow)).one()

    def holds(self, platform: str, tenant_key: str, event_id: str) -> bool:
        """Whether this event waits in the spool."""
        if not self.exists():
            return False
        with Session(self.engine) as session:
            found = session.exec(
                select(InboxEventRow.id).where(
                    InboxEventRow.platform == platform,
                    InboxEventRow.tenant_key == tenant_key,
                    InboxEventRow.event_id == event_id,
                )
            ).first()
            return found is not None

    def forget_tenant(self, platform: str, tenant_key: str) -> int:
        """Delete a tenant's spooled events (``rmbot tenant purge``); how many."""
        if not self.exists():
            return 0
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                delete(InboxEventRow).where(
                    col(InboxEventRow.platform) == platform, col(InboxEventRow.tenant_key) == tenant_key
                )
            )
            return rowcount(result)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


__all__ = ["GATHER_AT_MOST", "InboxSpool", "row_of", "spool_path"]

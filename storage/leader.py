"""Scheduler leadership: which replica turns due jobs into inbox events.

Several ``rmbot serve`` replicas can share one PostgreSQL database. All of them handle the inbox and
send the outbox; exactly one at a time also runs the scheduler. The leader holds a session-level
advisory lock (``pg_try_advisory_lock``) on a dedicated connection that stays open; every replica
calls :meth:`AdvisoryLockLeadership.try_lead` on each scheduler tick, which takes the lock when it is
free and otherwise confirms, with a cheap query on the held connection, that the session (and so the
lock) is still there. When the leader dies its session ends, PostgreSQL releases the lock, and the
next replica to tick takes over. The lock's key is derived from a fixed name and the schema, so two
deployments in one database (separate schemas) each have their own leader.

On SQLite there is one process by design, so it always leads (:class:`SoleLeadership`).

Correctness never depends on leadership: ``SqlSchedule.enqueue_due`` locks due rows with
``SKIP LOCKED`` and inserts ``due:<job id>`` events idempotently. Leadership only spares the other
replicas the duplicate work and the contention.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from typing import Any, Protocol

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

LOCK_NAME = "rmbot.scheduler"
SERVER_KEEPALIVE = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
"""Set on the leader's session, so PostgreSQL notices a vanished leader (and frees the lock) in about 20 s."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class Leadership(Protocol):
    """What the scheduler needs to know: may this process run the due work now?"""

    @property
    def is_leader(self) -> bool:
        """The result of the latest :meth:`try_lead` (no database call)."""
        ...

    def try_lead(self) -> bool:
        """Take leadership if it is free, or confirm it is still held; True while this process leads."""
        ...

    def release(self) -> None:
        """Give leadership up (on shutdown) so another process can take it at once."""
        ...


class SoleLeadership:
    """SQLite: one process by design, which always leads."""

    is_leader = True

    def try_lead(self) -> bool:
        """Always True."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLockLeadership:
    """PostgreSQL: leadership is a session-level advisory lock held on a dedicated, kept-open connection."""

    def __init__(self, engine: Engine, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.name = name
        self._guard = threading.Lock()
        self._connection: Any = None  # a psycopg connection detached from the pool: ours until closed
        self._key: int | None = None
        self._leading = False
        self.backend_pid: int | None = None
        """The PostgreSQL backend of the held connection (``pg_locks.pid`` shows it while leading)."""

    @property
    def is_leader(self) -> bool:
        """Whether the latest :meth:`try_lead` found this process leading."""
        return self._leading

    def try_lead(self) -> bool:
        """Take the lock if free, or confirm the held connection is alive; a lost connection loses leadership."""
        with self._guard:
            try:
                if self._connection is None:
                    self._connect()
                if self._leading:
                    self._execute("SELECT 1")  # the session lives, so its lock does
                else:
                    self._leading = bool(self._execute("SELECT pg_try_advisory_lock(%s::bigint)", (self._key,)))
            except Exception as exc:  # noqa: BLE001 - any failure on the held connection ends leadership
                if self._leading:
                    log.warning("scheduler leadership connection lost: %s", exc)
                else:
                    log.debug("cannot try for scheduler leadership: %s", exc)
                self._discard()
            return self._leading

    def release(self) -> None:
        """Unlock (if leading) and close the dedicated connection."""
        with self._guard:
            if self._connection is not None and self._leading:
                try:
                    self._execute("SELECT pg_advisory_unlock(%s::bigint)", (self._key,))
                except Exception:  # noqa: BLE001 - closing the session releases the lock anyway
                    pass
            self._discard()

    # -- the dedicated connection ---------------------------------------------------------------------

    def _connect(self) -> None:
        pooled = self.engine.raw_connection()
        driver = pooled.driver_connection  # the psycopg connection
        if driver is None:
            raise RuntimeError("the pool gave a connection that is already closed")
        pooled.detach()  # never returned to the pool: the lock lives as long as this session
        self._connection = driver
        driver.rollback()
        driver.autocommit = True
        for setting, value in SERVER_KEEPALIVE.items():
            self._execute("SELECT set_config(%s, %s, false)", (setting, value))
        if driver.info.server_version >= 140000:
            self._execute("SELECT set_config('idle_session_timeout', '0', false)")
        label = f"rmbot scheduler {socket.gethostname()[:24]} {os.getpid()}"
        self._execute("SELECT set_config('application_name', %s, false)", (label,))
        schema = self._execute("SELECT current_schema()") or ""
        self._key = lock_key(f"{self.name}:{schema}")
        self.backend_pid = self._execute("SELECT pg_backend_pid()")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        self._leading, self.backend_pid = False, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - the connection is gone already
                pass


def leadership_for(engine: Engine) -> SoleLeadership | AdvisoryLockLeadership:
    """Leadership for the store's database: an advisory lock on PostgreSQL, always-leader on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return SoleLeadership()

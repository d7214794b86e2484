"""Waking idle workers on PostgreSQL: every accept NOTIFYs :data:`INBOX_CHANNEL`, and a worker LISTENs on a
connection of its own (``SqlInbox.listener``); the worker's poll stays the fallback."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

INBOX_CHANNEL = "rmbot_inbox"
"""The PostgreSQL notification channel an accept notifies and idle workers LISTEN on."""


class InboxListener:
    """A PostgreSQL connection of its own that LISTENs on :data:`INBOX_CHANNEL` (opened on first use, and
    again after it is lost; meanwhile the worker's poll goes on)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when an event was accepted meanwhile (or just before)."""
        import psycopg  # only on PostgreSQL (3.2+ waits on notifications with a timeout)

        try:
            connection = self._connection or self._connect()
            woken = any(True for _ in connection.notifies(timeout=timeout, stop_after=1))
            if woken:  # drain the rest: one pass of the worker handles them all
                for _ in connection.notifies(timeout=0):
                    pass
            return woken
        except (psycopg.Error, OSError):
            log.warning("listening for accepted events failed; polling until it is back", exc_info=True)
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        fairy = self.engine.raw_connection()
        connection = fairy.driver_connection
        fairy.detach()  # kept open for as long as it listens, never handed back to the pool
        if not isinstance(connection, psycopg.Connection):
            raise TypeError("LISTEN needs a psycopg connection")
        connection.autocommit = True
        connection.execute(f"LISTEN {INBOX_CHANNEL}")
        self._connection = connection
        return connection

    def close(self) -> None:
        """Stop listening and close the connection."""
        import psycopg

        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except (psycopg.Error, OSError):
                pass

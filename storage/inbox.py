"""The durable inbox: an event is committed (unique by platform, tenant and event id) before it is acknowledged.

Workers lock the oldest pending event inside the same transaction that handles it (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite serialises writers), so a crash rolls the claim back and the event is handled again, never
half. On an SQLite file, a web process beside a worker process accepts into the spool of ``storage/inbox_spool.py``
instead, gathered into this table before each claim. Due jobs enter as events ``due:<job id>``
(``storage/schedule.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, ScalarSelect, bindparam, func, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.model import InboundEvent
from bot.ports import InboxItem, UnitOfWork
from storage.inbox_listener import INBOX_CHANNEL, InboxListener
from storage.inbox_spool import InboxSpool, insert_accepted, spool_path
from storage.sql import select, stored_id, table
from storage.tables import InboxEventRow


def _session(uow: UnitOfWork) -> Session:
    """The SQL session under a unit of work (always a ``SqlUnitOfWork`` here)."""
    session = getattr(uow, "session", None)
    if not isinstance(session, Session):
        raise TypeError("the inbox needs a unit of work of the SQL store")
    return session


class _Accept:
    """One accept waiting for its group's commit (:meth:`SqlInbox.accept`)."""

    def __init__(self, event: InboundEvent) -> None:
        self.event = event
        self.ready = threading.Event()
        self.lead = False
        self.finished = False
        self.added = False
        self.error: Exception | None = None


class SqlInbox:
    """The inbox table. Accepts arriving together are committed together: one caller at a time writes, and
    everything that came while it was writing goes into the next single commit (so under load the web side
    takes the write lock once per group, not once per event)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now
        path = spool_path(engine)
        self.spool = InboxSpool(engine, path, now) if path else None
        """On an SQLite file: the spool beside it (``storage/inbox_spool.py``), gathered from whenever it exists."""
        self.spooling = False
        """Whether :meth:`accept` writes into the spool (a web process beside a worker process) or straight in."""
        self._waiting: list[_Accept] = []
        self._writing = False
        self._lock = threading.Lock()

    def accept(self, event: InboundEvent) -> bool:
        """Commit ``event`` (False for a duplicate), grouped with the accepts waiting meanwhile; on PostgreSQL
        the commit also NOTIFYs listening workers. Returns once its group is committed."""
        mine = _Accept(event)
        with self._lock:
            self._waiting.append(mine)
            if not self._writing:
                self._writing = mine.lead = True
        if not mine.lead:
            mine.ready.wait()  # committed by another caller, or made the next writer
        if not mine.finished:
            self._commit_waiting()
        if mine.error is not None:
            raise mine.error
        return mine.added

    def _commit_waiting(self) -> None:
        """Write every accept waiting now in one transaction, then hand the writing on to the next waiter."""
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            self._insert(group)
        except Exception:  # noqa: BLE001 - one bad event must not fail the others: each on its own
            for one in group:
                try:
                    self._insert([one])
                except Exception as exc:  # noqa: BLE001 - handed to its own caller
                    one.error = exc
        with self._lock:
            for one in group:
                one.finished = True
                one.ready.set()
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].ready.set()
            else:
                self._writing = False

    def spool_accepts(self) -> bool:
        """Accept into the spool from now on (SQLite files only): acknowledgements then never wait for the write
        lock a worker holds while it handles. Returns whether there is a spool to write to."""
        self.spooling = self.spool is not None
        return self.spooling

    def gather(self) -> int:
        """Move events accepted into the spool (by this or another process) into the inbox; how many moved."""
        return self.spool.gather() if self.spool is not None else 0

    def _insert(self, group: list[_Accept]) -> None:
        if self.spooling and self.spool is not None:
            for one, added in zip(group, self.spool.accept([one.event for one in group]), strict=True):
                one.added = added
            return
        with self.engine.begin() as connection:
            for one in group:
                one.added = insert_accepted(connection, one.event, self.now())
            if any(one.added for one in group) and self.engine.dialect.name == "postgresql":
                # Sent when this transaction commits, so a listening worker wakes once it can claim the event.
                connection.exec_driver_sql(f"NOTIFY {INBOX_CHANNEL}")

    def listener(self) -> InboxListener | None:
        """On PostgreSQL, a listener that wakes as soon as any process accepts an event; None on SQLite."""
        return InboxListener(self.engine) if self.engine.dialect.name == "postgresql" else None

    def take_next(self, uow: UnitOfWork) -> InboxItem | None:
        """Lock the oldest pending event and mark it handled, in one statement inside ``uow``'s transaction: the
        mark commits with the handling's writes, or is rolled back with them."""
        row = _session(uow).execute(_TAKE_NEXT, {"done_at": self.now()}).one_or_none()
        return None if row is None else _item(row)

    def take(self, uow: UnitOfWork, item_id: int) -> InboxItem | None:
        """:meth:`take_next` for one event by id (None when it is no longer pending)."""
        row = _session(uow).execute(_TAKE, {"item_id": item_id, "done_at": self.now()}).one_or_none()
        return None if row is None else _item(row)

    def get(self, uow: UnitOfWork, item_id: int) -> InboxItem | None:
        row = _session(uow).get(InboxEventRow, item_id)
        if row is None:
            return None
        return InboxItem(id=stored_id(row.id), event=InboundEvent.model_validate(row.payload), attempts=row.attempts)

    def record_failure(self, item_id: int, error: str, give_up_after: int) -> bool:
        with Session(self.engine) as session, session.begin():
            row = session.get(InboxEventRow, item_id)
            if row is None:
                return False
            row.attempts += 1
            row.last_error = error[-2000:]
            if row.attempts >= give_up_after:
                row.status = "failed"
            return row.status == "failed"

    def pending_count(self) -> int:
        """Events accepted and not handled yet (spooled ones included)."""
        spooled = self.spool.count() if self.spool is not None else 0
        with Session(self.engine) as session:
            return (
                spooled
                + session.exec(
                    select(func.count()).select_from(InboxEventRow).where(InboxEventRow.status == "pending")
                ).one()
            )

    def status_of(self, platform: str, tenant_key: str, event_id: str) -> str | None:
        """``pending``, ``done`` or ``failed`` for an accepted event (``pending`` while spooled); None if unknown."""
        with Session(self.engine) as session:
            found = session.exec(
                select(InboxEventRow.status).where(
                    InboxEventRow.platform == platform,
                    InboxEventRow.tenant_key == tenant_key,
                    InboxEventRow.event_id == event_id,
                )
            ).one_or_none()
        if found is None and self.spool is not None and self.spool.holds(platform, tenant_key, event_id):
            return "pending"
        return found

    def close(self) -> None:
        """Let go of the spool's file."""
        if self.spool is not None:
            self.spool.close()


def _item(row: Row[Any]) -> InboxItem:
    return InboxItem(id=stored_id(row.id), event=InboundEvent.model_validate(row.payload), attempts=row.attempts)


def _next_claimable() -> ScalarSelect[Any]:
    """The oldest pending event of someone with no older event still pending: while one worker handles a
    person's event (locked, its done mark not yet committed), nobody takes that person's next one."""
    candidate, earlier = table(InboxEventRow).alias("candidate"), table(InboxEventRow).alias("earlier")
    blocked = (
        core_select(earlier.c.id)
        .where(
            earlier.c.status == "pending",
            earlier.c.platform == candidate.c.platform,
            earlier.c.tenant_key == candidate.c.tenant_key,
            earlier.c.user_key == candidate.c.user_key,
            earlier.c.user_key != "",
            earlier.c.id < candidate.c.id,
        )
        .exists()
    )
    return (
        core_select(candidate.c.id)
        .where(candidate.c.status == "pending", ~blocked)
        .order_by(candidate.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=candidate)
        .scalar_subquery()
    )


def _taking(which: Any) -> Any:
    inbox = table(InboxEventRow)
    return (
        update(inbox)
        .where(inbox.c.id == which, inbox.c.status == "pending")
        .values(status="done", done_at=bindparam("done_at", type_=inbox.c.done_at.type))
        .returning(inbox.c.id, inbox.c.payload, inbox.c.attempts)
    )


_TAKE_NEXT = _taking(_next_claimable())
_TAKE = _taking(bindparam("item_id"))
"""Built once: building a statement cost more than running it."""

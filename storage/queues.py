"""The durable inbox, outbox and schedule: the three queues that make delivery exactly-once.

* Inbox: an event is committed (unique by platform, tenant and event id) before it is acknowledged.
  Workers lock the oldest pending event inside the same transaction that handles it
  (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers), so a crash rolls the
  claim back and the event is handled again, never half.
* Outbox: claimed rows are leased (``status = sending``, ``not_before = now + lease``) and committed
  before the platform is called; delivery is recorded per recipient. A lease that runs out means the
  process died mid-send: the row is offered again, flagged so the deliverer can reconcile. Before
  sending each row of a claimed batch the sender keeps its lease (:meth:`SqlOutbox.keep_lease`): it is
  renewed once half has passed, and a row whose lease ran out and was taken over by another replica
  is skipped, so a slow batch never sends a row that another process is sending too. Rows wait in two
  lanes: a claim takes the reply lane's (answers to what someone just did) before the bulk lane's, each in
  the order they were queued.
* Schedule: due jobs become inbox events with the id ``due:<job id>`` in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, literal_column, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from bot.model import Attachment, InboundEvent, OutgoingMessage
from bot.ports import InboxItem, Lane, OutboxItem, UnitOfWork
from storage.inbox_listener import INBOX_CHANNEL, InboxListener
from storage.inbox_spool import UNIQUE, InboxSpool, row_of, spool_path
from storage.sql import col, insert_ignoring_duplicates, rowcount, select, stored_id, table
from storage.tables import (
    LANES,
    UNSETTLED,
    InboxEventRow,
    NudgeCountRow,
    OutboxMessageRow,
)

if TYPE_CHECKING:
    pass

SEND_LEASE = timedelta(minutes=2)
log = logging.getLogger(__name__)


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
        with Session(self.engine) as session, session.begin():
            for one in group:
                event = one.event
                one.added = insert_ignoring_duplicates(session, InboxEventRow, row_of(event, self.now()), UNIQUE)
            if any(one.added for one in group) and self.engine.dialect.name == "postgresql":
                # Sent when this transaction commits, so a listening worker wakes once it can claim the event.
                session.connection().exec_driver_sql(f"NOTIFY {INBOX_CHANNEL}")

    def listener(self) -> InboxListener | None:
        """On PostgreSQL, a listener that wakes as soon as any process accepts an event; None on SQLite."""
        return InboxListener(self.engine) if self.engine.dialect.name == "postgresql" else None

    def claim_next(self, uow: UnitOfWork) -> InboxItem | None:
        row = _session(uow).exec(_next_claimable()).one_or_none()
        if row is None:
            return None
        return InboxItem(id=stored_id(row.id), event=InboundEvent.model_validate(row.payload), attempts=row.attempts)

    def get(self, uow: UnitOfWork, item_id: int) -> InboxItem | None:
        row = _session(uow).get(InboxEventRow, item_id)
        if row is None:
            return None
        return InboxItem(id=stored_id(row.id), event=InboundEvent.model_validate(row.payload), attempts=row.attempts)

    def mark_done(self, uow: UnitOfWork, item_id: int) -> None:
        _session(uow).execute(_MARK_DONE, {"item_id": item_id, "done_at": self.now()})

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


_MARK_DONE = (
    update(InboxEventRow)
    .where(col(InboxEventRow.id) == bindparam("item_id"))
    .values(status="done", done_at=bindparam("done_at", type_=table(InboxEventRow).c.done_at.type))
)
"""Built once: building the statement cost more than running it."""


@cache
def _next_claimable() -> SelectOfScalar[InboxEventRow]:
    """The oldest pending event of someone with no older event still pending: while one worker handles a
    person's event (locked, still pending), nobody takes that person's next one. Built once: the statement
    never changes, and building it cost more than running it."""
    earlier = aliased(InboxEventRow)
    blocked = (
        select(earlier.id)
        .where(
            earlier.status == "pending",
            earlier.platform == InboxEventRow.platform,
            earlier.tenant_key == InboxEventRow.tenant_key,
            earlier.user_key == InboxEventRow.user_key,
            earlier.user_key != "",
            col(earlier.id) < col(InboxEventRow.id),
        )
        .exists()
    )
    return (
        select(InboxEventRow)
        .where(InboxEventRow.status == "pending", ~blocked)
        .order_by(col(InboxEventRow.id))
        .limit(1)
        .with_for_update(skip_locked=True, of=InboxEventRow)
    )


@cache
def _due_outbox(limited: bool, one_lane: bool = False) -> SelectOfScalar[OutboxMessageRow]:
    """Due rows of one platform (``:platform``, ``:now``): the reply lane's first, then the bulk lane's, each
    oldest first, as the partial index ``ix_outbox_lane`` has them; only lane ``:lane`` when ``one_lane``; up to
    ``:limit`` when ``limited``. Built once, the values bound when it runs."""
    query = select(OutboxMessageRow).where(
        OutboxMessageRow.platform == bindparam("platform"),
        literal_column(UNSETTLED),  # the index's own condition, so the index serves the query
        col(OutboxMessageRow.not_before) <= bindparam("now", type_=table(OutboxMessageRow).c.not_before.type),
    )
    if one_lane:
        query = query.where(OutboxMessageRow.lane == bindparam("lane"))
    query = query.order_by(col(OutboxMessageRow.lane), col(OutboxMessageRow.id)).with_for_update(skip_locked=True)
    return query.limit(bindparam("limit")) if limited else query


LANE_OF: dict[int, Lane] = {LANES["reply"]: "reply", LANES["bulk"]: "bulk"}
"""A stored lane's name."""


class SqlOutbox:
    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now
        self.lease = SEND_LEASE
        """How long a claimed row stays with its sender before another sender may take it over."""

    def claim(
        self, platform: str, now: datetime, limit: int, people: set[int] | None = None, lane: Lane | None = None
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows for ``platform``, the reply lane's first (only ``lane``'s when given);
        with ``people``, only rows still pending for them."""
        with Session(self.engine) as session, session.begin():
            query = _due_outbox(limited=people is None, one_lane=lane is not None)
            params = {"platform": platform, "now": now, "limit": limit, "lane": LANES[lane or "bulk"]}
            rows = session.exec(query, params=params).all()
            if people is not None:  # their messages, and posts to conversations (which have no recipients)
                rows = [row for row in rows if set(row.pending) & people or not row.recipients][:limit]
            items = []
            for row in rows:
                items.append(
                    OutboxItem(
                        id=stored_id(row.id),
                        platform=row.platform,
                        message=OutgoingMessage.model_validate(row.payload),
                        pending=list(row.pending),
                        attempts=row.attempts,
                        lease_until=now + self.lease,
                        recovered=row.status == "sending",
                        lane=LANE_OF[row.lane],
                    )
                )
                row.attempts += 1
                row.status = "sending"
                row.not_before = now + self.lease
                row.held_for_install = False  # this attempt holds it again if it must still wait
            return items

    def keep_lease(self, item: OutboxItem, now: datetime) -> bool:
        """True if this sender still holds ``item``'s lease, renewing it once half has passed; False if
        the lease ran out and another sender took the row over (or it was settled meanwhile)."""
        if item.lease_until is None or now + self.lease / 2 < item.lease_until:
            return True
        renewed = now + self.lease
        with Session(self.engine) as session, session.begin():
            # The lease's expiry is its token: a takeover or a settlement changes it.
            result = session.execute(
                update(OutboxMessageRow)
                .where(
                    col(OutboxMessageRow.id) == item.id,
                    col(OutboxMessageRow.status) == "sending",
                    col(OutboxMessageRow.not_before) == item.lease_until,
                )
                .values(not_before=renewed)
            )
        if rowcount(result) != 1:
            return False
        item.lease_until = renewed
        return True

    def delivered(
        self, item_id: int, people: list[int], now: datetime, nudge_days: dict[int, date] | None = None
    ) -> None:
        self._settle(item_id, people, now, note="", nudge_days=nudge_days)

    def suppressed(self, item_id: int, people: list[int], reason: str, now: datetime) -> None:
        self._settle(item_id, people, now, note=reason)

    def _settle(
        self, item_id: int, people: list[int], now: datetime, note: str, nudge_days: dict[int, date] | None = None
    ) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(OutboxMessageRow, item_id)
            if row is None:
                return
            for person_id, day in (nudge_days or {}).items():
                if person_id in row.pending:  # not yet recorded as delivered: count it now, once
                    _count_nudge(session, person_id, day)
            remaining = [p for p in row.pending if p not in set(people)]
            row.pending = remaining
            if note:
                row.last_error = note[:2000]
            if not remaining:
                row.status = "sent"
                row.sent_at = now
            else:
                row.status = "pending"
                row.not_before = now

    def release(self, item_id: int, now: datetime) -> None:
        """Give a leased row back without counting an attempt (its recipient is not reachable yet)."""
        with Session(self.engine) as session, session.begin():
            row = session.get(OutboxMessageRow, item_id)
            if row is not None and row.status == "sending":
                row.status, row.not_before, row.attempts = "pending", now, max(0, row.attempts - 1)

    def defer(self, item_id: int, until: datetime) -> None:
        """Hold a leased row back until ``until`` (quiet hours, daily caps), without counting an attempt."""
        with Session(self.engine) as session, session.begin():
            row = session.get(OutboxMessageRow, item_id)
            if row is not None:
                row.status, row.not_before, row.attempts = "pending", until, max(0, row.attempts - 1)

    def failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(OutboxMessageRow, item_id)
            if row is None:
                return
            row.last_error = error[-2000:]
            if retry_at is None:
                row.status = "failed"
            else:
                row.status, row.not_before = "pending", retry_at

    def pending_count(self, platform: str | None = None) -> int:
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessageRow)
                .where(col(OutboxMessageRow.status).in_(("pending", "sending")))
            )
            if platform:
                query = query.where(OutboxMessageRow.platform == platform)
            return session.exec(query).one()

    def nudges_on(self, person_id: int, day: date) -> int:
        with Session(self.engine) as session:
            row = session.get(NudgeCountRow, (person_id, day))
            return row.count if row else 0

    def message_for(self, item_id: int, platform: str, person_id: int) -> OutgoingMessage | None:
        """The message of a row on ``platform`` sent to ``person_id`` (see the port)."""
        with Session(self.engine) as session:
            row = session.get(OutboxMessageRow, item_id)
            if row is None or row.platform != platform or person_id not in row.recipients or not row.payload:
                return None
            return OutgoingMessage.model_validate(row.payload)

    def attachment(self, item_id: int, platform: str, index: int) -> Attachment | None:
        """One attachment of a row on ``platform`` (see the port)."""
        with Session(self.engine) as session:
            row = session.get(OutboxMessageRow, item_id)
            if row is None or row.platform != platform:
                return None
            attachments = (row.payload or {}).get("attachments") or []
        return Attachment.model_validate(attachments[index]) if 0 <= index < len(attachments) else None


def _count_nudge(session: Session, person_id: int, day: date) -> None:
    insert_ignoring_duplicates(
        session, NudgeCountRow, {"person_id": person_id, "day": day, "count": 0}, ["person_id", "day"]
    )
    session.execute(
        update(NudgeCountRow)
        .where(col(NudgeCountRow.person_id) == person_id, col(NudgeCountRow.day) == day)
        .values(count=NudgeCountRow.count + 1)
    )

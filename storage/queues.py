"""The durable outbox: what the engine queued, leased to a sender and delivered exactly once.

Claimed rows are leased (``status = sending``, ``not_before = now + lease``) and committed before the platform is
called; delivery is recorded per recipient. A lease that runs out means the process died mid-send: the row is
offered again, flagged so the deliverer can reconcile. Before sending each row of a claimed batch the sender keeps
its lease (:meth:`SqlOutbox.keep_lease`): it is renewed once half has passed, and a row whose lease ran out and was
taken over by another replica is skipped, so a slow batch never sends a row that another process is sending too.
Rows wait in two lanes: a claim takes the reply lane's (answers to what someone just did) before the bulk lane's,
each in the order they were queued. The inbox is ``storage/inbox.py``; what a unit of work adds to the queues,
``storage/queue_writers.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, literal_column, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from bot.model import Attachment, OutgoingMessage
from bot.ports import Lane, OutboxItem
from storage.sql import col, insert_ignoring_duplicates, rowcount, select, stored_id, table
from storage.tables import (
    LANES,
    UNSETTLED,
    NudgeCountRow,
    OutboxMessageRow,
)

if TYPE_CHECKING:
    pass

SEND_LEASE = timedelta(minutes=2)
log = logging.getLogger(__name__)


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


_OUTBOX = table(OutboxMessageRow)
_PENDING_OF = core_select(_OUTBOX.c.pending).where(_OUTBOX.c.id == bindparam("item_id"))
"""Who a message still waits for (not its payload)."""

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
        """Record ``people`` as no longer waiting for the message (the row's ``pending`` read alone, not its
        payload, and written back in one statement)."""
        with Session(self.engine) as session, session.begin():
            pending = session.execute(_PENDING_OF, {"item_id": item_id}).scalar_one_or_none()
            if pending is None:
                return
            for person_id, day in (nudge_days or {}).items():
                if person_id in pending:  # not yet recorded as delivered: count it now, once
                    _count_nudge(session, person_id, day)
            settled = set(people)
            remaining = [p for p in pending if p not in settled]
            values: dict[str, Any] = {"pending": remaining}
            if note:
                values["last_error"] = note[:2000]
            values.update(
                {"status": "sent", "sent_at": now} if not remaining else {"status": "pending", "not_before": now}
            )
            session.execute(update(_OUTBOX).where(_OUTBOX.c.id == item_id).values(values))

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

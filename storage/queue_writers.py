"""What a unit of work writes to the queues: outgoing messages into the outbox (with their lane) and scheduled
jobs. The queues themselves (claiming, leasing, enqueuing due work) are ``storage/inbox.py``,
``storage/queues.py`` and ``storage/schedule.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, text

from bot.model import OutgoingMessage
from bot.ports import Lane
from storage.repositories import _Repo
from storage.sql import (
    col,
    insert_ignoring_duplicates,
    rowcount,
    select,
    table,
)
from storage.tables import (
    LANES,
    UNSETTLED,
    OutboxMessageRow,
    ScheduledJobRow,
)

_HELD_FOR = (
    select(OutboxMessageRow)
    .where(
        OutboxMessageRow.person_id == bindparam("person_id"),
        OutboxMessageRow.tenant_id == bindparam("tenant_id"),
        text(UNSETTLED),  # the partial index's own condition, so it is used
        OutboxMessageRow.status == "pending",
    )
    .order_by(col(OutboxMessageRow.id))
)
"""Messages still waiting for one person alone: by the index on ``person_id``, never the tenant's backlog."""

_JOBS = table(ScheduledJobRow)
_CANCEL_RANGE = delete(_JOBS).where(
    _JOBS.c.key >= bindparam("low"), _JOBS.c.key < bindparam("high"), _JOBS.c.status == "scheduled"
)
"""Jobs still scheduled whose key starts with a prefix, as a range of the key's index: SQLite compares text byte by
byte, where the keys starting with a prefix are exactly those from it to the prefix with its last character next."""
_CANCEL_LIKE = delete(_JOBS).where(_JOBS.c.key.startswith(bindparam("prefix")), _JOBS.c.status == "scheduled")
"""The same by LIKE, for PostgreSQL: its text order follows the database's collation, where a prefix need not be a
range."""


class OutboxRepo(_Repo):
    def add(
        self, message: OutgoingMessage, platform: str, not_before: datetime | None = None, lane: Lane = "bulk"
    ) -> bool:
        now = self.now()
        people = list(message.to.people)
        return insert_ignoring_duplicates(
            self.session,
            OutboxMessageRow,
            {
                "tenant_id": message.tenant_id,
                "platform": platform,
                "idempotency_key": message.idempotency_key,
                "programme_id": message.programme_id,
                "payload": message.model_dump(mode="json"),
                "recipients": people,
                "pending": people,
                "person_id": people[0] if len(people) == 1 else None,
                "status": "pending",
                "attempts": 0,
                "last_error": "",
                "created_at": now,
                "not_before": not_before or now,
                "lane": LANES[lane],
            },
            ["idempotency_key"],
        )

    def release_held(self, tenant_id: int, person_id: int, now: datetime) -> list[OutgoingMessage]:
        """Nudges still waiting for ``person_id`` alone go out now, as replies (see the port)."""
        rows = self.session.exec(_HELD_FOR, params={"person_id": person_id, "tenant_id": tenant_id}).all()
        released = []
        for row in rows:
            if row.recipients != [person_id] or row.pending != [person_id] or row.payload.get("kind") != "nudge":
                continue
            row.payload = {**row.payload, "kind": "reply"}
            row.not_before, row.lane = min(row.not_before, now), LANES["reply"]
            self.session.add(row)
            released.append(OutgoingMessage.model_validate(row.payload))
        self.session.flush()
        return released


class ScheduleRepo(_Repo):
    def add(self, tenant_id: int, kind: str, due_at: datetime, payload: dict[str, Any], key: str) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            ScheduledJobRow,
            {
                "tenant_id": tenant_id,
                "kind": kind,
                "key": key,
                "due_at": due_at,
                "payload": payload,
                "status": "scheduled",
                "created_at": self.now(),
            },
            ["key"],
        )

    def cancel(self, key_prefix: str) -> int:
        if key_prefix and self.session.get_bind().dialect.name == "sqlite":
            after = key_prefix[:-1] + chr(ord(key_prefix[-1]) + 1)
            return rowcount(self.session.execute(_CANCEL_RANGE, {"low": key_prefix, "high": after}))
        return rowcount(self.session.execute(_CANCEL_LIKE, {"prefix": key_prefix}))

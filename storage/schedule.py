"""Scheduled work as rows: due jobs become inbox events ``due:<job id>`` (see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.model import InboundEvent, Platform
from storage.sql import col, insert_ignoring_duplicates, select
from storage.tables import InboxEventRow, ScheduledJobRow, TenantRow


class SqlSchedule:
    """The schedule port: due jobs into the inbox, in one transaction per batch."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now

    def enqueue_due(self, at: datetime, limit: int = 500) -> int:
        """Turn every job due at ``at`` into an inbox event (``due:<id>``). Returns how many were enqueued."""
        total = 0
        while True:
            with Session(self.engine) as session, session.begin():
                rows = session.exec(
                    select(ScheduledJobRow, TenantRow)
                    .join(TenantRow, col(TenantRow.id) == ScheduledJobRow.tenant_id)
                    .where(ScheduledJobRow.status == "scheduled", col(ScheduledJobRow.due_at) <= at)
                    .order_by(col(ScheduledJobRow.due_at), col(ScheduledJobRow.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=ScheduledJobRow)
                ).all()
                for job, tenant in rows:
                    event = InboundEvent(
                        platform=Platform(tenant.platform),
                        tenant=tenant.external_id,
                        event_id=f"due:{job.id}",
                        kind="due",
                        occurred_at=job.due_at,
                        due={"kind": job.kind, "payload": job.payload, "job_id": job.id, "tenant_id": job.tenant_id},
                    )
                    insert_ignoring_duplicates(
                        session,
                        InboxEventRow,
                        {
                            "platform": tenant.platform,
                            "tenant_key": tenant.external_id,
                            "event_id": event.event_id,
                            "payload": event.model_dump(mode="json"),
                            "status": "pending",
                            "attempts": 0,
                            "last_error": "",
                            "received_at": self.now(),
                        },
                        ["platform", "tenant_key", "event_id"],
                    )
                    job.status, job.enqueued_at = "enqueued", self.now()
                total += len(rows)
            if len(rows) < limit:
                return total

    def next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            return session.exec(
                select(func.min(ScheduledJobRow.due_at)).where(ScheduledJobRow.status == "scheduled")
            ).one()

    def oldest_overdue(self, now: datetime) -> datetime | None:
        """The due time of the oldest job due by ``now`` and not yet enqueued (None when nothing is late)."""
        with Session(self.engine) as session:
            return session.exec(
                select(func.min(ScheduledJobRow.due_at)).where(
                    ScheduledJobRow.status == "scheduled", col(ScheduledJobRow.due_at) <= now
                )
            ).one()

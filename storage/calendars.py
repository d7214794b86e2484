"""The calendar request queue (``bot/ports/calendars.py``): what a unit of work records, and how the calendar
worker leases, finishes, defers and fails requests, each step in its own short transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import exists, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.ports import CalendarRequest, Provider, RequestKind
from storage.repositories import _Repo
from storage.sql import col, insert_ignoring_duplicates, select
from storage.tables import CalendarRequestRow, TenantRow

LEASE = timedelta(minutes=2)
"""How long a claimed request is the claimer's: one that dies mid-request is claimed again after it."""


class CalendarRequestsRepo(_Repo):
    """The unit of work's side: requests recorded in the handling transaction."""

    def add(
        self, tenant_id: int, kind: RequestKind, provider: Provider, key: str, payload: dict[str, Any], due_at: datetime
    ) -> int | None:
        """Record a request under ``key``; its id, or None when the key was recorded before."""
        session_id = payload.get("session_id")
        added = insert_ignoring_duplicates(
            self.session,
            CalendarRequestRow,
            {
                "tenant_id": tenant_id,
                "key": key,
                "kind": kind,
                "provider": provider,
                "session_id": session_id if kind == "event" and isinstance(session_id, int) else None,
                "payload": payload,
                "result": {},
                "status": "pending",
                "due_at": due_at,
                "attempts": 0,
                "last_error": "",
                "created_at": self.now(),
            },
            ["key"],
        )
        if not added:
            return None
        return self.session.exec(select(CalendarRequestRow.id).where(CalendarRequestRow.key == key)).one()


class SqlCalendarQueue:
    """The calendar worker's side of the queue."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now
        self.lease = LEASE

    def claim(self, now: datetime, limit: int = 20) -> list[CalendarRequest]:
        """Lease due requests, oldest first (pending ones, and working ones whose lease ran out). A request about a
        session waits while an earlier one about the same session is not settled, so a move never overtakes the
        creation it moves."""
        earlier = aliased(CalendarRequestRow)
        with Session(self.engine) as session, session.begin():
            rows = session.exec(
                select(CalendarRequestRow, TenantRow)
                .join(TenantRow, col(TenantRow.id) == CalendarRequestRow.tenant_id)
                .where(
                    col(CalendarRequestRow.due_at) <= now,
                    or_(
                        col(CalendarRequestRow.status) == "pending",
                        (col(CalendarRequestRow.status) == "working") & (col(CalendarRequestRow.lease_until) <= now),
                    ),
                    ~exists().where(
                        col(earlier.session_id) == col(CalendarRequestRow.session_id),
                        col(earlier.id) < col(CalendarRequestRow.id),
                        col(earlier.status).in_(["pending", "working"]),
                    ),
                )
                .order_by(col(CalendarRequestRow.id))
                .limit(limit)
                .with_for_update(skip_locked=True, of=CalendarRequestRow)
            ).all()
            claimed = []
            for row, tenant in rows:
                row.status, row.lease_until, row.attempts = "working", now + self.lease, row.attempts + 1
                session.add(row)
                claimed.append(
                    CalendarRequest(
                        id=cast(int, row.id),
                        tenant_id=row.tenant_id,
                        platform=tenant.platform,
                        tenant_key=tenant.external_id,
                        kind=cast(RequestKind, row.kind),
                        provider=cast(Provider, row.provider),
                        key=row.key,
                        payload=dict(row.payload),
                        attempts=row.attempts,
                    )
                )
            return claimed

    def _update(self, request_id: int, **values: Any) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(CalendarRequestRow, request_id)
            if row is not None:
                for name, value in values.items():
                    setattr(row, name, value)
                session.add(row)

    def finish(self, request_id: int, result: dict[str, Any]) -> None:
        """Done: the result is kept, the payload (the people's addresses) is not."""
        payload_kept = {k: v for k, v in self._payload(request_id).items() if k in ("session_id", "op", "circle")}
        self._update(
            request_id,
            status="done",
            result=result,
            payload=payload_kept,
            lease_until=None,
            done_at=self.now(),
            last_error="",
        )

    def _payload(self, request_id: int) -> dict[str, Any]:
        with Session(self.engine) as session:
            row = session.get(CalendarRequestRow, request_id)
            return dict(row.payload) if row is not None else {}

    def defer(self, request_id: int, until: datetime, error: str) -> None:
        """Pending again from ``until``."""
        self._update(request_id, status="pending", due_at=until, lease_until=None, last_error=error[:500])

    def fail(self, request_id: int, error: str) -> None:
        """Given up: kept with its error; the people's addresses are dropped."""
        payload_kept = {k: v for k, v in self._payload(request_id).items() if k in ("session_id", "op", "circle")}
        self._update(
            request_id,
            status="failed",
            payload=payload_kept,
            lease_until=None,
            done_at=self.now(),
            last_error=error[:500],
        )

    def event_id(self, session_id: int, provider: Provider) -> str | None:
        """The event id the latest finished write for the session returned."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(CalendarRequestRow)
                .where(
                    CalendarRequestRow.session_id == session_id,
                    CalendarRequestRow.provider == provider,
                    CalendarRequestRow.status == "done",
                )
                .order_by(col(CalendarRequestRow.id).desc())
            ).all()
            for row in rows:
                found = row.result.get("event_id")
                if isinstance(found, str) and found:
                    return found
            return None

    def pending_count(self) -> int:
        with Session(self.engine) as session:
            return session.exec(
                select(func.count()).where(col(CalendarRequestRow.status).in_(["pending", "working"]))
            ).one()

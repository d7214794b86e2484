"""What directory syncs kept (``bot.ports.DirectorySyncRepository``): per tenant and source, the rows the last sync
read (each under the source's id for the person, linked to the person so ``forget-me`` drops it), the delta link,
when the scheduled sync is next due, and running totals for ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, delete, func, insert, select, update
from sqlmodel import Field, SQLModel

from bot.ports import SyncState, SyncTotals
from storage.directory import CHUNK, _chunks
from storage.repositories import _Repo
from storage.sql import col, rowcount, table
from storage.tables import UTCDateTime, empty_dict


class DirectorySyncStateRow(SQLModel, table=True):
    """A tenant's sync from one source."""

    __tablename__ = "directory_sync_state"
    __table_args__ = (UniqueConstraint("tenant_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    source: str = Field(max_length=16)
    delta_link: str = Field(default="", max_length=4000)
    next_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_run_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    added_total: int = 0
    changed_total: int = 0
    left_total: int = 0


class DirectorySourcePersonRow(SQLModel, table=True):
    """A person as the last sync from a source read them (the source's values, before any derivation)."""

    __tablename__ = "directory_source_person"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    source: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    row: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))


_STATE = table(DirectorySyncStateRow)
_KEPT = table(DirectorySourcePersonRow)


class DirectorySyncRepo(_Repo):
    """:class:`bot.ports.DirectorySyncRepository` over one session."""

    def _state_row(self, tenant_id: int, source: str) -> DirectorySyncStateRow | None:
        return self.session.execute(
            select(DirectorySyncStateRow).where(
                col(DirectorySyncStateRow.tenant_id) == tenant_id, col(DirectorySyncStateRow.source) == source
            )
        ).scalar_one_or_none()

    def state(self, tenant_id: int, source: str) -> SyncState:
        found = self._state_row(tenant_id, source)
        if found is None:
            return SyncState()
        return SyncState(
            delta_link=found.delta_link,
            next_due_at=found.next_due_at,
            last_run_at=found.last_run_at,
            added_total=found.added_total,
            changed_total=found.changed_total,
            left_total=found.left_total,
        )

    def rows(self, tenant_id: int, source: str) -> dict[str, dict[str, str]]:
        found = self.session.execute(
            select(col(DirectorySourcePersonRow.external_id), col(DirectorySourcePersonRow.row)).where(
                _KEPT.c.tenant_id == tenant_id, _KEPT.c.source == source
            )
        ).all()
        return {str(each[0]): {str(k): str(v) for k, v in dict(each[1]).items()} for each in found}

    def _ensure_state(self, tenant_id: int, source: str) -> DirectorySyncStateRow:
        found = self._state_row(tenant_id, source)
        if found is None:
            found = DirectorySyncStateRow(tenant_id=tenant_id, source=source)
            self.session.add(found)
            self.session.flush()
        return found

    def record_run(
        self,
        tenant_id: int,
        source: str,
        *,
        rows: Mapping[str, Mapping[str, str]],
        person_ids: Mapping[str, int],
        delta_link: str,
        ran_at: datetime,
        added: int,
        changed: int,
        left: int,
    ) -> None:
        kept = self.rows(tenant_id, source)
        gone = [external_id for external_id in kept if external_id not in rows]
        for step in _chunks(gone):
            self.session.execute(
                delete(_KEPT).where(
                    _KEPT.c.tenant_id == tenant_id, _KEPT.c.source == source, _KEPT.c.external_id.in_(step)
                )
            )

        def values(external_id: str, row: Mapping[str, str]) -> dict[str, Any]:
            return {"row": dict(row), "person_id": person_ids.get((row.get("email") or "").lower())}

        new = [
            {"tenant_id": tenant_id, "source": source, "external_id": external_id, **values(external_id, row)}
            for external_id, row in rows.items()
            if external_id not in kept
        ]
        for step in _chunks(new, CHUNK // 2):
            self.session.execute(insert(_KEPT), list(step))
        for external_id, row in rows.items():
            if external_id in kept and kept[external_id] != dict(row):
                self.session.execute(
                    update(_KEPT)
                    .where(_KEPT.c.tenant_id == tenant_id, _KEPT.c.source == source, _KEPT.c.external_id == external_id)
                    .values(**values(external_id, row))
                )
        state = self._ensure_state(tenant_id, source)
        state.delta_link = delta_link
        state.last_run_at = ran_at
        state.added_total += added
        state.changed_total += changed
        state.left_total += left
        self.session.flush()

    def claim_due(self, tenant_id: int, source: str, now: datetime, following: datetime) -> bool:
        state = self._ensure_state(tenant_id, source)
        due = state.next_due_at
        if due is not None and due > now:
            return False
        condition = (
            col(DirectorySyncStateRow.next_due_at).is_(None)
            if due is None
            else col(DirectorySyncStateRow.next_due_at) == due
        )
        claimed = self.session.execute(
            update(DirectorySyncStateRow)
            .where(col(DirectorySyncStateRow.id) == state.id, condition)
            .values(next_due_at=following)
        )
        self.session.expire(state)
        return rowcount(claimed) == 1

    def totals(self) -> list[SyncTotals]:
        found = self.session.execute(
            select(
                _STATE.c.source,
                func.sum(_STATE.c.added_total),
                func.sum(_STATE.c.changed_total),
                func.sum(_STATE.c.left_total),
                func.max(_STATE.c.last_run_at),
            ).group_by(_STATE.c.source)
        ).all()
        totals = []
        for each in found:
            values: tuple[Any, ...] = tuple(each)
            source, added, changed, left, last = values
            totals.append(
                SyncTotals(
                    source=source,
                    added=int(added or 0),
                    changed=int(changed or 0),
                    left=int(left or 0),
                    last_run_at=last,
                )
            )
        return totals

    def forget(self, person_id: int) -> None:
        self.session.execute(delete(_KEPT).where(_KEPT.c.person_id == person_id))

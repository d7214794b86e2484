"""The port of directory sync (``rmbot directory sync``, RMBOT_DIRECTORY_SYNC): what the last sync of a source read.

A source that reads changes only (Microsoft Graph's delta queries) still has to hand the import the whole
organisation, so the rows the last sync read are kept per tenant and source, each under the source's own id
for the person, and the changes are applied on top. The state row holds the delta link, when the scheduled
sync is next due, and the running totals that ``/metrics`` shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SyncState:
    """A tenant's sync from one source: where the next delta starts, when it is due, and what it did so far."""

    delta_link: str = ""
    next_due_at: datetime | None = None
    last_run_at: datetime | None = None
    added_total: int = 0
    changed_total: int = 0
    left_total: int = 0


@dataclass(frozen=True)
class SyncTotals:
    """A source's running totals across tenants, for ``/metrics``."""

    source: str
    added: int
    changed: int
    left: int
    last_run_at: datetime | None


class DirectorySyncRepository(Protocol):
    """The kept state of directory syncs (a member of the unit of work, so a sync's state lands with its import)."""

    def state(self, tenant_id: int, source: str) -> SyncState:
        """The state of the tenant's sync from ``source`` (an empty state when it never ran)."""
        ...

    def rows(self, tenant_id: int, source: str) -> dict[str, dict[str, str]]:
        """The rows the last sync read, by the source's id for each person."""
        ...

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
        """Keep what a sync read (``rows`` replace the kept rows; ``person_ids`` by lower-cased email link them to
        their people) and its delta link, and add its counts to the totals."""
        ...

    def claim_due(self, tenant_id: int, source: str, now: datetime, following: datetime) -> bool:
        """True, once, when the tenant's scheduled sync from ``source`` is due at ``now`` (or never ran): its next
        due time is moved to ``following`` in the same step, so no other replica claims it too."""
        ...

    def totals(self) -> list[SyncTotals]:
        """Every source's totals over all tenants."""
        ...

    def forget(self, person_id: int) -> None:
        """Drop what any sync kept about this person (``forget-me``)."""
        ...


__all__ = ["SyncState", "SyncTotals", "DirectorySyncRepository"]

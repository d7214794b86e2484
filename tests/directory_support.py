"""Directory and participant imports for tests: each in its own transaction, as the ``rmbot`` commands run them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from bot.directory import DirectoryRow
from bot.participants_import import ParticipantRow, ParticipantsSummary
from bot.services.directory import DirectoryService, ImportSummary
from storage.store import SqlStore


def import_directory(
    store: SqlStore, tenant_id: int, rows: Iterable[DirectoryRow], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Import validated directory rows into the tenant, at the store's time."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.get(tenant_id)
        assert tenant is not None, tenant_id
        return DirectoryService.of(uow).import_directory(tenant, rows, store.now(), progress)


def existing_managers(store: SqlStore, tenant_id: int) -> dict[str, str | None]:
    """What ``parse_directory`` checks a file's managers against."""
    with store.unit_of_work() as uow:
        return DirectoryService.of(uow).existing_managers(tenant_id)


def directory_emails(store: SqlStore, tenant_id: int) -> dict[str, int]:
    """What ``parse_participants`` checks a file's emails against."""
    with store.unit_of_work() as uow:
        return DirectoryService.of(uow).emails(tenant_id)


def import_participants(
    store: SqlStore, programme_id: int, rows: Iterable[ParticipantRow], now: datetime
) -> ParticipantsSummary:
    """Import validated participant rows into the programme."""
    with store.unit_of_work() as uow:
        programme = uow.programmes.get(programme_id)
        assert programme is not None, programme_id
        return DirectoryService.of(uow).import_participants(programme, rows, now)

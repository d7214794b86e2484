"""Composition helpers shared by the command line and the server: settings in, store and tenant out.

One of the composition roots: the only adapter modules that open the store (``storage.store``); every other
adapter reaches it through the ports of ``bot.ports`` (the import contracts in pyproject.toml).
"""

from __future__ import annotations

from datetime import timedelta

from adapters.settings import Settings
from bot.domain import Tenant
from bot.grants import apply_standing
from bot.ports import Store
from bot.tenancy import parse_tenant_key
from storage.store import SqlStore


def open_store(settings: Settings, *, migrate: bool = True, spool_accepts: bool = False) -> SqlStore:
    """Open the configured store, applying migrations and RMBOT_ADMIN_EMAILS unless told otherwise.

    ``spool_accepts``: for a process that acknowledges while another process handles (on SQLite, accepted events
    go into the spool file beside the database, ``storage/inbox_spool.py``; no effect on PostgreSQL)."""
    store = SqlStore.open(settings.database_url, migrate=migrate)
    if spool_accepts:
        store.inbox.spool_accepts()
    store.outbox.lease = timedelta(seconds=settings.rmbot_send_lease_seconds)
    store.payload_retention = timedelta(days=settings.rmbot_payload_retention_days)
    if migrate:
        apply_admin_emails(store, settings)
    return store


def apply_admin_emails(store: Store, settings: Settings) -> None:
    """Make the coordinators RMBOT_ADMIN_EMAILS names: known people at once, the others when they first appear;
    people taken off the list are no longer waited for (a role already given stays)."""
    with store.unit_of_work() as uow:
        apply_standing(uow, settings.admin_grants, source="settings")


def ensure_tenant(store: Store, key: str) -> Tenant:
    """Find or create the tenant for an operator-typed key (``console``, ``slack:T…``, ``teams:…``)."""
    platform, external_id = parse_tenant_key(key)
    with store.unit_of_work() as uow:
        return uow.tenants.ensure(platform, external_id)

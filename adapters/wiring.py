"""Composition helpers shared by the command line and the server: settings in, store and tenant out."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import Tenant
from bot.tenancy import parse_tenant_key
from storage.store import SqlStore

from adapters.settings import Settings


def open_store(settings: Settings, *, migrate: bool = True) -> SqlStore:
    """Open the configured store, applying migrations unless told otherwise."""
    store = SqlStore.open(settings.database_url, migrate=migrate)
    store.outbox.lease = timedelta(seconds=settings.rmbot_send_lease_seconds)
    return store


def ensure_tenant(store: SqlStore, key: str) -> Tenant:
    """Find or create the tenant for an operator-typed key (``console``, ``slack:T…``, ``teams:…``)."""
    platform, external_id = parse_tenant_key(key)
    with store.unit_of_work() as uow:
        return uow.tenants.ensure(platform, external_id)

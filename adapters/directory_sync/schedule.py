"""The scheduled directory sync (RMBOT_DIRECTORY_SYNC=microsoft@daily, @hourly or @weekly).

It rides on the scheduler's ticks (``adapters/server.py``: ``Worker.enqueue_due``, and ``rmbot scheduler
run-due``), so only the scheduler leader runs it, and it is independent of programmes. Each tenant's sync is
due at a time kept in the database; the leader claims it (moving the due time on in the same statement, so
no replica runs it twice), reads the source in a thread of its own outside any transaction, imports in one
unit of work, and reports adds, changes and leavers to the operator log; ``/metrics`` shows the totals
(``adapters/observability.py``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.directory_sync.run import report_lines, sync_directory
from adapters.directory_sync.seniority import load_seniority_map
from adapters.directory_sync.sources import SOURCE_NAMES, SourceError, make_source
from adapters.settings import ConfigurationError, Settings
from bot.ports import Store
from bot.tenancy import CONSOLE_TENANT, TenantKeyError, normalise_tenant_key, parse_tenant_key
from bot.wording import say, unescape

log = logging.getLogger(__name__)
PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


@dataclass(frozen=True)
class SyncPlan:
    """Which source to sync into which tenant, how often."""

    source: str
    every: timedelta
    tenant_key: str


def default_tenant_key(settings: Settings, source: str) -> str:
    """RMBOT_DIRECTORY_SYNC_TENANT, else the Entra tenant as a Teams tenant for ``microsoft``, else the console."""
    if settings.rmbot_directory_sync_tenant.strip():
        return normalise_tenant_key(settings.rmbot_directory_sync_tenant.strip())
    graph_tenant = settings.rmbot_graph_tenant_id or settings.microsoft_app_tenant_id
    if source == "microsoft" and graph_tenant:
        return f"teams:{graph_tenant}"
    return CONSOLE_TENANT


def sync_plan(settings: Settings) -> SyncPlan | None:
    """The plan RMBOT_DIRECTORY_SYNC describes (None when it is empty); ConfigurationError when it is wrong."""
    value = settings.rmbot_directory_sync.strip().lower()
    if not value:
        return None
    source, _, period = value.partition("@")
    if source not in SOURCE_NAMES or period not in PERIODS:
        raise ConfigurationError(
            unescape(say("directory_sync.bad_schedule", given=value, names=", ".join(SOURCE_NAMES)))
        )
    try:
        tenant = default_tenant_key(settings, source)
    except TenantKeyError as problem:
        raise ConfigurationError(f"RMBOT_DIRECTORY_SYNC_TENANT: {problem}") from None
    return SyncPlan(source=source, every=PERIODS[period], tenant_key=tenant)


class ScheduledSync:
    """Runs the planned sync when it is due; :meth:`run_if_due` is called on every scheduler tick of the leader."""

    def __init__(self, plan: SyncPlan, settings: Settings, store: Store) -> None:
        self.plan, self.settings, self.store = plan, settings, store
        self._running: threading.Thread | None = None

    def run_if_due(self, now: datetime, wait: bool = False) -> bool:
        """Claim and start the sync if it is due at ``now`` (in a thread, unless ``wait``); True if it started."""
        if self._running is not None and self._running.is_alive():
            return False
        platform, external_id = parse_tenant_key(self.plan.tenant_key)
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.ensure(platform, external_id)
            if not uow.directory_sync.claim_due(tenant.id, self.plan.source, now, now + self.plan.every):
                return False
        self._running = threading.Thread(
            target=self._run, args=(now,), name=f"rmbot-directory-sync-{self.plan.source}", daemon=True
        )
        self._running.start()
        if wait:
            self._running.join()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for a sync started by :meth:`run_if_due` to finish (at shutdown, and in tests)."""
        if self._running is not None:
            self._running.join(timeout)

    def _run(self, now: datetime) -> None:
        plan = self.plan
        following = (now + plan.every).isoformat(timespec="minutes")
        try:
            platform, external_id = parse_tenant_key(plan.tenant_key)
            with self.store.unit_of_work() as uow:
                tenant = uow.tenants.ensure(platform, external_id)
            source = make_source(plan.source, self.settings)
            outcome = sync_directory(self.store, tenant, source, now, mapping=load_seniority_map(self.settings))
        except SourceError as problem:
            self._failed(str(problem), following)
            return
        except Exception:  # noqa: BLE001 - the next due time tries again; the operator sees why
            log.exception("scheduled directory sync from %s failed", plan.source)
            return
        out, err = report_lines(outcome, plan.tenant_key)
        for line in err:
            log.warning("%s", line)
        if outcome.summary is None:
            self._failed(outcome.failure or (err[-1] if err else ""), following)
            return
        summary = outcome.summary
        log.info(
            "%s",
            unescape(
                say(
                    "directory_sync.scheduled_done",
                    source=plan.source,
                    tenant=plan.tenant_key,
                    added=summary.created,
                    changed=summary.updated,
                    left=summary.left,
                    next=following,
                )
            ),
        )
        for line in out[1:]:
            log.info("%s", line)

    def _failed(self, reason: str, following: str) -> None:
        plan = self.plan
        line = say(
            "directory_sync.scheduled_failed", source=plan.source, tenant=plan.tenant_key, reason=reason, next=following
        )
        log.error("%s", unescape(line))


def scheduled_sync(settings: Settings, store: Store) -> ScheduledSync | None:
    """The scheduled sync RMBOT_DIRECTORY_SYNC asks for, or None."""
    plan = sync_plan(settings)
    return ScheduledSync(plan, settings, store) if plan is not None else None

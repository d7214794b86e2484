"""One directory sync: read a source (outside any transaction), validate everything, then import in one unit of work.

``rmbot directory sync SOURCE`` and the scheduled sync (``adapters/directory_sync/schedule.py``) both run
:func:`sync_directory`. The rows go through the CSV import's validation (:func:`bot.directory.parse_rows`, with the
operator's seniority mapping), all or nothing, then :meth:`DirectoryService.import_directory`, whose leaver
handling is the import's. A source that reads changes only (:class:`IncrementalSource`) gets what the last sync
read, and its new delta link and rows are kept in the same unit of work as the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from adapters.directory_sync.sources import DirectorySource, IncrementalSource, SourceError
from bot.directory import RowError, parse_rows
from bot.domain import Tenant
from bot.ports import Store
from bot.seniority import SeniorityMap
from bot.services.directory import DirectoryService, ImportSummary
from bot.wording import say, unescape


class _DryRun(Exception):
    """Raised inside the unit of work of a dry run, so nothing it did is committed."""


@dataclass
class SyncOutcome:
    """What a sync did (``summary``), or why it changed nothing (``failure``, or the rows' ``errors``)."""

    source: str
    summary: ImportSummary | None = None
    errors: list[RowError] = field(default_factory=list)
    failure: str = ""
    notes: list[str] = field(default_factory=list)
    delta: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when the import ran (or, in a dry run, would have)."""
        return self.summary is not None


def sync_directory(
    store: Store,
    tenant: Tenant,
    source: DirectorySource,
    now: datetime,
    *,
    mapping: SeniorityMap | None = None,
    dry_run: bool = False,
) -> SyncOutcome:
    """Sync ``tenant``'s directory from ``source`` (see the module docstring); a dry run commits nothing."""
    outcome = SyncOutcome(source=source.name, dry_run=dry_run)
    incremental = source if isinstance(source, IncrementalSource) else None
    with store.unit_of_work() as uow:  # a short read: what the listing is checked against and starts from
        existing = DirectoryService.of(uow).existing_managers(tenant.id)
        if incremental is not None:
            state = uow.directory_sync.state(tenant.id, source.name)
            incremental.resume(state.delta_link, uow.directory_sync.rows(tenant.id, source.name))
    try:
        rows = list(source.rows())  # network I/O: no transaction is open
    except SourceError as problem:
        outcome.failure = str(problem)
        return outcome
    if incremental is not None:
        outcome.notes, outcome.delta = list(incremental.notes), bool(getattr(incremental, "delta", False))
    if not rows:
        outcome.failure = unescape(say("directory_sync.nobody_listed", source=source.name))
        return outcome
    parsed = parse_rows(rows, existing, mapping, source.name)
    if parsed.errors:
        outcome.errors = parsed.errors
        return outcome
    try:
        with store.unit_of_work() as uow:  # one transaction: the whole organisation and the kept state, or nothing
            summary = DirectoryService.of(uow).import_directory(tenant, parsed.rows, now)
            outcome.summary = summary
            if dry_run:
                raise _DryRun
            uow.directory_sync.record_run(
                tenant.id,
                source.name,
                rows=incremental.kept if incremental is not None else {},
                person_ids=uow.directory.ids_by_email(tenant.id),
                delta_link=incremental.delta_link if incremental is not None else "",
                ran_at=now,
                added=summary.created,
                changed=summary.updated,
                left=summary.left,
            )
    except _DryRun:
        pass
    except LookupError as problem:  # the directory changed under the sync (a manager went meanwhile)
        outcome.summary, outcome.failure = None, str(problem)
    return outcome


SHOWN = 20
"""People named per kind of change in a report; the rest are counted."""


def report_lines(outcome: SyncOutcome, tenant_key: str) -> tuple[list[str], list[str]]:
    """(standard output, standard error) lines for the operator, as plain text."""

    def text(key: str, **values: object) -> str:
        return unescape(say(f"directory_sync.{key}", **values))

    out: list[str] = []
    err: list[str] = list(outcome.notes)
    if outcome.failure:
        err.append(text("source_failed", source=outcome.source, reason=outcome.failure))
        return out, err
    if outcome.errors:
        err += [text("error_row", line=e.line, email=e.email, reason=e.reason) for e in outcome.errors]
        err.append(text("errors_found", count=len(outcome.errors), source=outcome.source))
        return out, err
    summary = outcome.summary
    assert summary is not None
    out.append(
        text(
            "summary",
            dry_run=outcome.dry_run,
            total=summary.total,
            source=outcome.source,
            tenant=tenant_key,
            delta=outcome.delta,
            added=summary.created,
            changed=summary.updated,
            unchanged=summary.unchanged,
            left=summary.left,
        )
    )
    for key, emails in (
        ("added_line", summary.added_emails),
        ("changed_line", summary.changed_emails),
        ("left_line", summary.left_emails),
    ):
        out += [text(key, email=email) for email in emails[:SHOWN]]
        if len(emails) > SHOWN:
            out.append(text("more_lines", count=len(emails) - SHOWN))
    return out, err

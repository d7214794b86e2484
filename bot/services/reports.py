"""Report use cases: a programme's figures (``status``, ``report``, the sponsor's copy, ``rmbot report``),
its audit log, the CSV of its pairs, the dashboard, and its final figures when it closes (see
``bot.commands.reports``; closing itself is :meth:`bot.services.programmes.ProgrammeService.close`).

Figures are aggregates released under the anonymity rules of ``bot.reports``; nothing here renders words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from bot.commands.registry import Registry
from bot.domain import Person, Programme, ProgrammeStatus
from bot.errors import CommandError
from bot.ports import AuditRepository, PeopleRepository, UnitOfWork
from bot.reports.charts import all_charts
from bot.reports.dashboard import Dashboard, build_dashboard
from bot.reports.export import pairs_csv
from bot.reports.health import Health, programme_health


@dataclass(frozen=True)
class Report:
    """A programme's figures and their charts (file name -> PNG)."""

    health: Health
    charts: dict[str, bytes]


@dataclass(frozen=True)
class Closing:
    """A programme about to close: its final figures, and its sponsor's report (if it names one known here)."""

    health: Health
    sponsor: Person | None
    sponsor_report: Report | None


class ReportService:
    """Figures, audit and export, for one programme at a time.

    ``records`` is the unit of work the figures are computed and released in: ``bot.reports`` (health, export,
    dashboard) reads it across repositories, and releasing figures writes to it."""

    def __init__(self, people: PeopleRepository, audit: AuditRepository, records: UnitOfWork) -> None:
        self.people = people
        self.audit_log = audit
        self.records = records

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over ``uow``'s repositories."""
        return cls(uow.people, uow.audit, uow)

    def health(self, programme: Programme, now: datetime) -> Health:
        """Every figure of ``status`` and ``report`` (what is due is released first)."""
        return programme_health(self.records, programme, now)

    def report(self, programme: Programme, now: datetime) -> Report:
        """The figures and charts of ``report`` (and ``rmbot report``)."""
        health = self.health(programme, now)
        return Report(health, all_charts(health))

    def pairs_csv(self, programme: Programme, now: datetime) -> str:
        """The CSV of the programme's pairs (``report csv``, ``rmbot report``)."""
        return pairs_csv(self.records, programme, now)

    def audit(self, programme: Programme) -> list[dict[str, Any]]:
        """The programme's audit log, newest first, each entry with the ``name`` of who acted (a forgotten
        coordinator's pseudonym; None for the operator, acting from the command line)."""
        entries = self.audit_log.of_programme(programme.id)
        people = self.people.many([e["person_id"] for e in entries if e["person_id"]])
        return [
            {**e, "name": people[e["person_id"]].name if e["person_id"] in people else e["actor"] or None}
            for e in entries
        ]

    def for_sponsor(self, programme: Programme, now: datetime) -> tuple[Person, Report] | None:
        """The sponsor's copy: aggregates only, without comments (their authors allowed the coordinator to
        read them, nobody else); None when the programme names no sponsor known here."""
        email = programme.settings.sponsor_email
        sponsor = self.people.by_email(programme.tenant_id, email) if email else None
        if sponsor is None:
            return None
        health = self.health(programme, now)
        health.comments = []
        return sponsor, Report(health, all_charts(health))

    def closing(self, programme: Programme, now: datetime) -> Closing:
        """Before ``program close``: the final figures and the sponsor's copy; refused if already closed."""
        if programme.status == ProgrammeStatus.CLOSED:
            raise CommandError("reports.already_closed", programme=programme)
        final = self.health(programme, now)
        sponsor = self.for_sponsor(programme, now)
        if sponsor is None:
            return Closing(final, None, None)
        return Closing(final, *sponsor)

    def dashboard(self, person: Person, commands: Registry, now: datetime) -> Dashboard:
        """What the dashboard shows ``person`` (aggregates released first)."""
        return build_dashboard(self.records, person, commands, now)

"""The directory's use cases: HR and participant imports, and the people behind chat accounts.

Callers parse and validate a file first (``bot/directory.py``, ``bot/participants_import.py``) and import
nothing when any row is wrong; an import then runs in the caller's one unit of work, so it lands whole
or not at all. The rules live next to the parsers (who left, who a participant becomes) and in
``bot/identities.py`` (who a chat account is); this service applies them through the ports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from bot import identities
from bot.directory import DIRECTORY_FIELDS, IDENTITY_COLUMNS, LEFT_JOB, DirectoryRow, departures
from bot.domain import Person, Programme, Tenant
from bot.identities import Claims, GrantClaims
from bot.model import InboundEvent
from bot.participants_import import ParticipantRow, ParticipantsSummary, enrol
from bot.ports import (
    AuditRepository,
    DirectoryRepository,
    IdentityLink,
    ParticipantRepository,
    PeopleRepository,
    ScheduleRepository,
    TenantRepository,
    UnitOfWork,
)
from bot.zones import adopt_zone

PROGRESS_STEP = 1000
"""People written between two progress reports of a directory import."""


@dataclass(frozen=True)
class ImportSummary:
    """How many people an import added, changed, and found already up to date."""

    created: int
    updated: int
    unchanged: int = 0
    left: int = field(default=0, compare=False)
    """People the import found gone (not counting those who had left before)."""
    added_emails: tuple[str, ...] = field(default=(), compare=False)
    changed_emails: tuple[str, ...] = field(default=(), compare=False)
    left_emails: tuple[str, ...] = field(default=(), compare=False)
    """Who was added, changed and found gone (lower-cased emails, sorted), for a sync's report; like ``left``, not
    part of a summary's equality (which compares the counts of the people listed)."""

    @property
    def total(self) -> int:
        """Everyone the file listed."""
        return self.created + self.updated + self.unchanged


def _steps(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), PROGRESS_STEP):
        yield items[start : start + PROGRESS_STEP]


def _fields(row: DirectoryRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in DIRECTORY_FIELDS}


@dataclass(frozen=True)
class DirectoryService:
    """HR directory and participant imports, and who a platform user is."""

    directory: DirectoryRepository
    tenants: TenantRepository
    people: PeopleRepository
    participants: ParticipantRepository
    schedule: ScheduleRepository
    audit: AuditRepository
    claims: Claims

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over ``uow``'s repositories."""
        return cls(
            directory=uow.directory,
            tenants=uow.tenants,
            people=uow.people,
            participants=uow.participants,
            schedule=uow.schedule,
            audit=uow.audit,
            claims=GrantClaims(uow),
        )

    # -- what the parsers check against ----------------------------------------------------------

    def existing_managers(self, tenant_id: int) -> dict[str, str | None]:
        """Lower-cased email -> lower-cased manager email (or None) of everyone already in the directory.

        People who asked to be forgotten have no email left: they are invisible here, as in every import."""
        entries = self.directory.entries(tenant_id)
        email_of = {entry.id: entry.email for entry in entries}
        return {entry.email: email_of.get(entry.manager_id) if entry.manager_id else None for entry in entries}

    def emails(self, tenant_id: int) -> dict[str, int]:
        """Lower-cased email -> person id for the tenant (people who asked to be forgotten have none)."""
        return self.directory.ids_by_email(tenant_id)

    # -- imports ----------------------------------------------------------------------------------

    def import_directory(
        self,
        tenant: Tenant,
        rows: Iterable[DirectoryRow],
        now: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Create or update every row's person, manager link and chat identities.

        People are matched by lower-cased email, so importing the same file again updates them in place.
        ``progress`` is called with the number of rows handled so far. Someone the file no longer lists has
        left (a :data:`~bot.directory.LEFT_JOB` then ends their participation), someone it lists again is
        back. A blank Slack or Teams id leaves any identity already linked alone; a new id replaces the
        person's old one for that platform and is taken from whoever held it before (the directory is the
        authority). Anyone a coordinator grant waited for (``bot/grants.py``) becomes a coordinator.
        Raises LookupError, before writing anything, when a row names a manager nobody has as email."""
        rows = list(rows)
        report = progress or (lambda done: None)
        current = {entry.email: entry for entry in self.directory.entries(tenant.id)}
        listed = {row.email for row in rows}
        for row in rows:
            if row.manager_email is not None and row.manager_email not in current and row.manager_email not in listed:
                raise LookupError(f"manager {row.manager_email} of {row.email} is not in the directory")

        new_rows = [row for row in rows if row.email not in current]
        done = 0
        for step in _steps(new_rows):
            self.directory.add_people(tenant.id, [{"email": row.email, **_fields(row)} for row in step], now)
            done += len(step)
            report(done)
        ids = self.directory.ids_by_email(tenant.id)

        def manager_id(row: DirectoryRow) -> int | None:
            return ids[row.manager_email] if row.manager_email is not None else None

        changed: set[int] = set()
        updates: list[dict[str, Any]] = []
        for row in rows:
            before = current.get(row.email)
            if before is None:
                continue
            values = {**_fields(row), "manager_id": manager_id(row)}
            stored = {**before.fields, "manager_id": before.manager_id}
            if any(stored[name] != value for name, value in values.items()):
                updates.append({"id": before.id, "updated_at": now, **values})
                changed.add(before.id)
        done += len(rows) - len(new_rows) - len(updates)
        for step in _steps(updates):
            self.directory.update_people(step)
            done += len(step)
            report(done)
        self.directory.update_people(
            [{"id": ids[row.email], "manager_id": manager_id(row)} for row in new_rows if row.manager_email]
        )

        gone = departures(current, listed)
        for person_id in gone.left:  # `run-due` then ends their participation (bot/commands/reports.py)
            self.schedule.add(
                tenant.id, LEFT_JOB, now, {"person_id": person_id}, key=f"left:{person_id}:{now.isoformat()}"
            )
        self.directory.mark_left(gone.left, now)
        self.directory.mark_back(gone.back)

        relinked = self._link_identities(tenant.id, rows, ids)
        changed |= relinked & {current[row.email].id for row in rows if row.email in current}
        self.claims.claim_in_tenant(tenant)  # coordinators named by email before they were imported
        report(len(rows))
        matched = len(rows) - len(new_rows)
        email_of = {entry.id: email for email, entry in current.items()}
        return ImportSummary(
            created=len(new_rows),
            updated=len(changed),
            unchanged=matched - len(changed),
            left=len(gone.left),
            added_emails=tuple(sorted(row.email for row in new_rows)),
            changed_emails=tuple(sorted(email_of[person_id] for person_id in changed)),
            left_emails=tuple(sorted(email_of[person_id] for person_id in gone.left)),
        )

    def _link_identities(self, tenant_id: int, rows: list[DirectoryRow], ids: dict[str, int]) -> set[int]:
        """Bring Slack and Teams identities in line with the file; return the people whose links changed."""
        retired, added, changed = relink(
            self.directory.identity_links(tenant_id, list(IDENTITY_COLUMNS.values())), rows, ids
        )
        self.directory.remove_identity_links(sorted(retired))
        self.directory.add_identity_links(tenant_id, added)
        return changed

    def import_participants(
        self, programme: Programme, rows: Iterable[ParticipantRow], now: datetime, *, audit_as: str | None = None
    ) -> ParticipantsSummary:
        """Add or update a programme's participants from valid rows (see :func:`bot.participants_import.enrol`).
        From the command line, ``audit_as`` records the import in the programme's audit log as the operator's."""
        directory = self.directory.ids_by_email(programme.tenant_id)
        done = enrol(self.participants, self.people, self.schedule, programme, rows, directory, now)
        if audit_as is not None:
            self.audit.add(programme.tenant_id, programme.id, None, "participants import", audit_as)
        return done

    # -- people behind chat accounts -------------------------------------------------------------

    def identify(self, tenant: Tenant, event: InboundEvent) -> Person | None:
        """Who sent ``event`` (see :func:`bot.identities.identify`), with the time zone the platform reports
        stored when their record has none (see :func:`bot.zones.adopt_zone`)."""
        person = identities.identify(
            self.people, self.claims, tenant, event.platform.value, event.user, event.user_email, event.user_name
        )
        if person is not None and event.time_zone:
            person = adopt_zone(self.people, self.participants, person, event.time_zone)
        return person

    def needs_profile(self, platform: str, tenant_key: str, user: str) -> bool:
        """True when the user has no person yet, or only a placeholder without an email."""
        return identities.needs_profile(self.tenants, self.people, platform, tenant_key, user)

    def merge_profile(self, platform: str, tenant_key: str, user: str, fields: dict[str, Any]) -> Person:
        """Merge a chat profile into the directory (see :func:`bot.identities.merge_profile`)."""
        return identities.merge_profile(self.tenants, self.people, self.claims, platform, tenant_key, user, fields)


def relink(
    links: Iterable[IdentityLink], rows: Iterable[DirectoryRow], ids: dict[str, int]
) -> tuple[set[int], list[tuple[int, str, str]], set[int]]:
    """The identity links an import retires (ids), the ones it adds (person id, platform, user id), and the people
    whose links change: each Slack or Teams id the file gives moves to its row's person, who gives up their old
    one for that platform; a blank id changes nothing."""
    held_by: dict[tuple[str, str], tuple[int, int]] = {}
    owned: dict[tuple[int, str], list[int]] = defaultdict(list)
    for link in links:
        held_by[(link.platform, link.external_id)] = (link.id, link.person_id)
        owned[(link.person_id, link.platform)].append(link.id)
    retired: set[int] = set()
    added: list[tuple[int, str, str]] = []
    changed: set[int] = set()
    for row in rows:
        person_id = ids[row.email]
        for column, platform in IDENTITY_COLUMNS.items():
            external_id = getattr(row, column)
            if not external_id:
                continue
            holder = held_by.get((platform, external_id))
            if holder is not None and holder[1] == person_id:
                continue
            retired.update(owned.get((person_id, platform), ()))
            if holder is not None:
                retired.add(holder[0])
            added.append((person_id, platform, external_id))
            changed.add(person_id)
    return retired, added, changed

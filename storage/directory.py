"""Write a validated HR directory into the store: one transaction, a handful of bulk statements.

Rows come from :func:`bot.directory.parse_directory`. People are matched by tenant and lower-cased
email, so importing the same file again updates them in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from bot.directory import IDENTITY_COLUMNS, LEFT_JOB, DirectoryRow
from bot.grants import claim_in_tenant
from storage.sql import col, stored_id, table
from storage.store import SqlStore
from storage.tables import PersonIdentityRow, PersonRow

CHUNK = 1000
"""Rows per bulk statement: small enough for SQLite's parameter limit, large enough to be fast."""

_FIELDS = ("name", "title", "seniority", "department", "division", "location", "time_zone", "working_hours", "gender")


@dataclass(frozen=True)
class ImportSummary:
    """How many people an import added, changed, and found already up to date."""

    created: int
    updated: int
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def existing_managers(store: SqlStore, tenant_id: int) -> dict[str, str | None]:
    """Lower-cased email -> lower-cased manager email (or None) of everyone already in the directory.

    People who asked to be forgotten have no email left: they are invisible here, as in every import."""
    with store.unit_of_work() as uow:
        people = uow.session.execute(
            select(col(PersonRow.id), col(PersonRow.email), col(PersonRow.manager_id)).where(
                col(PersonRow.tenant_id) == tenant_id, col(PersonRow.email).is_not(None)
            )
        ).all()
    email_of = {person.id: person.email.lower() for person in people}
    return {person.email.lower(): email_of.get(person.manager_id) if person.manager_id else None for person in people}


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_directory(
    store: SqlStore, tenant_id: int, rows: Iterable[DirectoryRow], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Create or update every row's person, manager link and chat identities, all in one transaction.

    ``progress`` is called with the number of rows handled so far. A blank Slack or Teams id leaves
    any identity already linked alone; a new id replaces the person's old one for that platform and
    is taken from whoever held it before (the directory is the authority). Anyone a coordinator grant
    waited for (``bot/grants.py``) becomes a coordinator in the same transaction.
    """
    rows = list(rows)
    report = progress or (lambda done: None)
    now = store.now()
    with store.unit_of_work() as uow:
        session = uow.session
        current = {
            person.email.lower(): person
            for person in session.execute(
                select(
                    col(PersonRow.id),
                    col(PersonRow.email),
                    col(PersonRow.manager_id),
                    *(col(getattr(PersonRow, f)) for f in _FIELDS),
                ).where(col(PersonRow.tenant_id) == tenant_id, col(PersonRow.email).is_not(None))
            ).all()
        }
        new_rows = [row for row in rows if row.email not in current]
        done = 0
        for chunk in _chunks(new_rows):
            session.execute(
                insert(table(PersonRow)),
                [
                    {
                        "tenant_id": tenant_id,
                        "email": row.email,
                        "manager_id": None,
                        "opted_out": False,
                        "created_at": now,
                        "updated_at": now,
                        **{f: getattr(row, f) for f in _FIELDS},
                    }
                    for row in chunk
                ],
            )
            done += len(chunk)
            report(done)

        ids = {
            row.email.lower(): stored_id(row.id)
            for row in session.execute(
                select(col(PersonRow.email), col(PersonRow.id)).where(
                    col(PersonRow.tenant_id) == tenant_id, col(PersonRow.email).is_not(None)
                )
            ).all()
        }

        def manager_id(row: DirectoryRow) -> int | None:
            if row.manager_email is None:
                return None
            if row.manager_email not in ids:
                raise LookupError(f"manager {row.manager_email} of {row.email} is not in the directory")
            return ids[row.manager_email]

        changed: set[int] = set()
        updates: list[dict[str, Any]] = []
        for row in rows:
            before = current.get(row.email)
            if before is None:
                continue
            values = {f: getattr(row, f) for f in _FIELDS}
            values["manager_id"] = manager_id(row)
            if any(getattr(before, name) != value for name, value in values.items()):
                updates.append({"id": before.id, "updated_at": now, **values})
                changed.add(before.id)
        done += len(rows) - len(new_rows) - len(updates)
        for chunk in _chunks(updates):
            session.execute(update(PersonRow), list(chunk))
            done += len(chunk)
            report(done)

        links = [{"id": ids[row.email], "manager_id": manager_id(row)} for row in new_rows if row.manager_email]
        for chunk in _chunks(links):
            session.execute(update(PersonRow), list(chunk))

        # The directory is a full snapshot: someone missing from it has left the organisation.
        listed = {row.email for row in rows}
        gone = [person.id for email, person in current.items() if email not in listed]
        for chunk in _chunks(gone):
            leaving: list[int] = list(
                session.execute(
                    select(col(PersonRow.id)).where(col(PersonRow.id).in_(chunk), col(PersonRow.left_at).is_(None))
                ).scalars()
            )
            for person_id in leaving:  # `run-due` then ends their participation (bot/commands/reports.py)
                uow.schedule.add(
                    tenant_id, LEFT_JOB, now, {"person_id": person_id}, key=f"left:{person_id}:{now.isoformat()}"
                )
            session.execute(
                update(PersonRow)
                .where(col(PersonRow.id).in_(chunk), col(PersonRow.left_at).is_(None))
                .values(left_at=now)
            )
        back = [ids[email] for email in listed if email in current]
        for chunk in _chunks(back):
            session.execute(
                update(PersonRow)
                .where(col(PersonRow.id).in_(chunk), col(PersonRow.left_at).is_not(None))
                .values(left_at=None)
            )

        relinked = _link_identities(session, tenant_id, rows, ids)
        changed |= relinked & {current[row.email].id for row in rows if row.email in current}
        tenant = uow.tenants.get(tenant_id)
        if tenant is not None:  # coordinators named by email before they were imported
            claim_in_tenant(uow, tenant)
    report(len(rows))
    matched = len(rows) - len(new_rows)
    return ImportSummary(created=len(new_rows), updated=len(changed), unchanged=matched - len(changed))


def _link_identities(session: Session, tenant_id: int, rows: list[DirectoryRow], ids: dict[str, int]) -> set[int]:
    """Bring Slack and Teams identities in line with the file; return the people whose links changed."""
    platforms = list(IDENTITY_COLUMNS.values())
    held_by: dict[tuple[str, str], tuple[int, int]] = {}
    owned: dict[tuple[int, str], list[int]] = defaultdict(list)
    for identity in session.execute(
        select(
            col(PersonIdentityRow.id),
            col(PersonIdentityRow.person_id),
            col(PersonIdentityRow.platform),
            col(PersonIdentityRow.external_id),
        ).where(col(PersonIdentityRow.tenant_id) == tenant_id, col(PersonIdentityRow.platform).in_(platforms))
    ).all():
        held_by[(identity.platform, identity.external_id)] = (identity.id, identity.person_id)
        owned[(identity.person_id, identity.platform)].append(identity.id)

    retired: set[int] = set()
    added: list[dict[str, Any]] = []
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
            added.append(
                {"tenant_id": tenant_id, "person_id": person_id, "platform": platform, "external_id": external_id}
            )
            changed.add(person_id)
    for chunk in _chunks(sorted(retired)):
        session.execute(delete(PersonIdentityRow).where(col(PersonIdentityRow.id).in_(chunk)))
    for chunk in _chunks(added):
        session.execute(insert(table(PersonIdentityRow)), list(chunk))
    return changed

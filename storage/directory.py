"""The bulk reads and writes of an HR directory import: a handful of statements, whatever the file's size.

What to write is decided in ``bot/services/directory.py``; this module only reads and writes, splitting
long lists into statements of :data:`CHUNK` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from bot.directory import DIRECTORY_FIELDS
from bot.ports import DirectoryEntry, IdentityLink
from storage.repositories import _Repo
from storage.sql import col, stored_id, table
from storage.tables import PersonIdentityRow, PersonRow

CHUNK = 1000
"""Rows per bulk statement: small enough for SQLite's parameter limit, large enough to be fast."""


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DirectoryRepo(_Repo):
    """:class:`bot.ports.DirectoryRepository` over one session."""

    def entries(self, tenant_id: int) -> list[DirectoryEntry]:
        rows = self.session.execute(
            select(
                col(PersonRow.id),
                col(PersonRow.email),
                col(PersonRow.manager_id),
                col(PersonRow.left_at),
                *(col(getattr(PersonRow, name)) for name in DIRECTORY_FIELDS),
            ).where(col(PersonRow.tenant_id) == tenant_id, col(PersonRow.email).is_not(None))
        ).all()
        return [
            DirectoryEntry(
                id=stored_id(row.id),
                email=row.email.lower(),
                manager_id=row.manager_id,
                left_at=row.left_at,
                fields={name: getattr(row, name) for name in DIRECTORY_FIELDS},
            )
            for row in rows
        ]

    def ids_by_email(self, tenant_id: int) -> dict[str, int]:
        rows = self.session.execute(
            select(col(PersonRow.email), col(PersonRow.id)).where(
                col(PersonRow.tenant_id) == tenant_id, col(PersonRow.email).is_not(None)
            )
        ).all()
        return {row.email.lower(): stored_id(row.id) for row in rows}

    def add_people(self, tenant_id: int, people: Sequence[Mapping[str, Any]], now: datetime) -> None:
        for chunk in _chunks(people):
            self.session.execute(
                insert(table(PersonRow)),
                [
                    {
                        "tenant_id": tenant_id,
                        "manager_id": None,
                        "opted_out": False,
                        "created_at": now,
                        "updated_at": now,
                        **values,
                    }
                    for values in chunk
                ],
            )

    def update_people(self, changes: Sequence[Mapping[str, Any]]) -> None:
        for chunk in _chunks(changes):
            self.session.execute(update(PersonRow), [dict(change) for change in chunk])

    def mark_left(self, person_ids: Sequence[int], now: datetime) -> None:
        for chunk in _chunks(person_ids):
            self.session.execute(
                update(PersonRow)
                .where(col(PersonRow.id).in_(chunk), col(PersonRow.left_at).is_(None))
                .values(left_at=now)
            )

    def mark_back(self, person_ids: Sequence[int]) -> None:
        for chunk in _chunks(person_ids):
            self.session.execute(
                update(PersonRow)
                .where(col(PersonRow.id).in_(chunk), col(PersonRow.left_at).is_not(None))
                .values(left_at=None)
            )

    def identity_links(self, tenant_id: int, platforms: Sequence[str]) -> list[IdentityLink]:
        rows = self.session.execute(
            select(
                col(PersonIdentityRow.id),
                col(PersonIdentityRow.person_id),
                col(PersonIdentityRow.platform),
                col(PersonIdentityRow.external_id),
            ).where(col(PersonIdentityRow.tenant_id) == tenant_id, col(PersonIdentityRow.platform).in_(platforms))
        ).all()
        return [
            IdentityLink(
                id=stored_id(row.id), person_id=row.person_id, platform=row.platform, external_id=row.external_id
            )
            for row in rows
        ]

    def remove_identity_links(self, link_ids: Sequence[int]) -> None:
        for chunk in _chunks(sorted(link_ids)):
            self.session.execute(delete(PersonIdentityRow).where(col(PersonIdentityRow.id).in_(chunk)))

    def add_identity_links(self, tenant_id: int, links: Sequence[tuple[int, str, str]]) -> None:
        rows = [
            {"tenant_id": tenant_id, "person_id": person_id, "platform": platform, "external_id": external_id}
            for person_id, platform, external_id in links
        ]
        for chunk in _chunks(rows):
            self.session.execute(insert(table(PersonIdentityRow)), list(chunk))

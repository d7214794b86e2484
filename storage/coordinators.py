"""Who coordinates what: a tenant's coordinators and each programme's (``tenant_coordinator``,
``programme_coordinator``). The grants waiting for an email are ``storage/grants.py``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CompoundSelect, Integer, bindparam, literal, null, union_all
from sqlalchemy import select as core_select

from storage.repositories import _Repo
from storage.sql import insert_ignoring_duplicates, remembered, select, table
from storage.tables import ProgrammeCoordinatorRow, TenantCoordinatorRow

_PROGRAMME_ROLES, _TENANT_ROLES = table(ProgrammeCoordinatorRow), table(TenantCoordinatorRow)
_ROLES: CompoundSelect = union_all(
    core_select(_PROGRAMME_ROLES.c.programme_id, null().label("tenant_id")).where(
        _PROGRAMME_ROLES.c.person_id == bindparam("person_id")
    ),
    core_select(literal(None, Integer), _TENANT_ROLES.c.tenant_id).where(
        _TENANT_ROLES.c.person_id == bindparam("person_id")
    ),
)
"""Both of a person's roles in one read: the programmes they coordinate, and the tenants they coordinate."""


@dataclass(frozen=True)
class _Roles:
    programmes: tuple[int, ...]
    tenants: frozenset[int]


class CoordinatorRepo(_Repo):
    def add_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            TenantCoordinatorRow,
            {"tenant_id": tenant_id, "person_id": person_id, "added_at": self.now()},
            ["tenant_id", "person_id"],
        )

    def is_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool:
        return tenant_id in self._roles(person_id).tenants

    def _roles(self, person_id: int) -> _Roles:
        """The person's roles, read once per unit of work (both kinds in one statement) until either table is
        written."""

        def load() -> _Roles:
            rows = self.session.execute(_ROLES, {"person_id": person_id}).all()
            programmes = sorted(row[0] for row in rows if row[0] is not None)
            return _Roles(tuple(programmes), frozenset(row[1] for row in rows if row[1] is not None))

        key = ("coordinator roles", person_id)
        return remembered(self.session, key, ("programme_coordinator", "tenant_coordinator"), load)

    def add(self, programme_id: int, person_id: int, added_by: int | None) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            ProgrammeCoordinatorRow,
            {"programme_id": programme_id, "person_id": person_id, "added_by": added_by, "added_at": self.now()},
            ["programme_id", "person_id"],
        )

    def is_coordinator(self, programme_id: int, person_id: int) -> bool:
        return self.session.get(ProgrammeCoordinatorRow, (programme_id, person_id)) is not None

    def of_programme(self, programme_id: int) -> list[int]:
        rows = self.session.exec(
            select(ProgrammeCoordinatorRow.person_id).where(ProgrammeCoordinatorRow.programme_id == programme_id)
        )
        return list(rows)

    def programmes_of(self, person_id: int) -> list[int]:
        return list(self._roles(person_id).programmes)

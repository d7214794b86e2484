"""Who coordinates what: a tenant's coordinators and each programme's (``tenant_coordinator``,
``programme_coordinator``). The grants waiting for an email are ``storage/grants.py``."""

from __future__ import annotations

from sqlalchemy import bindparam

from storage.repositories import _Repo
from storage.sql import insert_ignoring_duplicates, select
from storage.tables import ProgrammeCoordinatorRow, TenantCoordinatorRow

_COORDINATED = select(ProgrammeCoordinatorRow.programme_id).where(
    ProgrammeCoordinatorRow.person_id == bindparam("person_id")
)


class CoordinatorRepo(_Repo):
    def add_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            TenantCoordinatorRow,
            {"tenant_id": tenant_id, "person_id": person_id, "added_at": self.now()},
            ["tenant_id", "person_id"],
        )

    def is_tenant_coordinator(self, tenant_id: int, person_id: int) -> bool:
        return self.session.get(TenantCoordinatorRow, (tenant_id, person_id)) is not None

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
        return sorted(self.session.exec(_COORDINATED, params={"person_id": person_id}))

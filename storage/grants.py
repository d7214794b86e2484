"""The coordinator grants of ``bot/grants.py`` in the ``coordinator_grant`` table (migration 0011)."""

from __future__ import annotations

from sqlalchemy import bindparam, delete
from sqlalchemy import select as core_select

from bot.domain import CoordinatorGrant
from storage.repositories import _Repo
from storage.sql import col, insert_ignoring_duplicates, select, table, to_domain, to_domain_or_none
from storage.tables import CoordinatorGrantRow

_GRANTS = table(CoordinatorGrantRow)
_FOR_EMAIL = (
    core_select(_GRANTS)
    .where(_GRANTS.c.email == bindparam("email"), _GRANTS.c.tenant_key.in_(bindparam("tenant_keys", expanding=True)))
    .order_by(_GRANTS.c.id)
)
"""Looked up on every event that names an email: built once, read as rows (no ORM instances)."""


class CoordinatorGrantRepo(_Repo):
    """Grants by email (unique per tenant key and email) and offers to a person (unique per tenant key and person)."""

    def add(self, tenant_key: str, email: str, source: str) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            CoordinatorGrantRow,
            {
                "tenant_key": tenant_key,
                "email": email.lower(),
                "person_id": None,
                "source": source,
                "created_at": self.now(),
            },
            ["tenant_key", "email"],
        )

    def offer(self, tenant_key: str, person_id: int, source: str) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            CoordinatorGrantRow,
            {
                "tenant_key": tenant_key,
                "email": None,
                "person_id": person_id,
                "source": source,
                "created_at": self.now(),
            },
            ["tenant_key", "person_id"],
        )

    def for_email(self, email: str, tenant_keys: list[str]) -> list[CoordinatorGrant]:
        rows = self.session.execute(_FOR_EMAIL, {"email": email.lower(), "tenant_keys": tenant_keys})
        return [CoordinatorGrant.model_validate(dict(row._mapping)) for row in rows]

    def in_tenants(self, tenant_keys: list[str]) -> list[CoordinatorGrant]:
        rows = self.session.exec(
            select(CoordinatorGrantRow)
            .where(col(CoordinatorGrantRow.email).is_not(None), col(CoordinatorGrantRow.tenant_key).in_(tenant_keys))
            .order_by(col(CoordinatorGrantRow.id))
        )
        return [to_domain(CoordinatorGrant, row) for row in rows]

    def offer_for(self, tenant_key: str, person_id: int) -> CoordinatorGrant | None:
        row = self.session.exec(
            select(CoordinatorGrantRow).where(
                CoordinatorGrantRow.tenant_key == tenant_key, CoordinatorGrantRow.person_id == person_id
            )
        ).one_or_none()
        return to_domain_or_none(CoordinatorGrant, row)

    def from_source(self, source: str) -> list[CoordinatorGrant]:
        rows = self.session.exec(
            select(CoordinatorGrantRow)
            .where(CoordinatorGrantRow.source == source)
            .order_by(col(CoordinatorGrantRow.id))
        )
        return [to_domain(CoordinatorGrant, row) for row in rows]

    def remove(self, grant_id: int) -> None:
        self.session.execute(delete(CoordinatorGrantRow).where(col(CoordinatorGrantRow.id) == grant_id))

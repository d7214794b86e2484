"""Repository implementations of ``bot.ports`` over SQLModel sessions.

Rows and domain records share field names, so mapping is a copy; the engine only ever receives
domain records, never rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, func, inspect
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

from bot.domain import NewParticipant, NewPerson, NewProgramme, Participant, Person, Programme, Tenant
from bot.ports.match_facts import MatchFacts, Reach, RosterEntry
from storage import match_facts as match_reads
from storage.held_rows import HeldRows
from storage.sql import (
    col,
    insert_ignoring_duplicates,
    keep,
    listed,
    read_once,
    remembered,
    select,
    stored_id,
    table,
    to_domain,
    to_domain_or_none,
)
from storage.tables import (
    ParticipantRow,
    PersonIdentityRow,
    PersonRow,
    ProgrammeRow,
    TenantRow,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# The lookups every turn makes, built once (values are bound when they run): building and keying a statement
# cost more than running it.
_TENANT = select(TenantRow).where(
    TenantRow.platform == bindparam("platform"), TenantRow.external_id == bindparam("external_id")
)
_PROGRAMMES = table(ProgrammeRow)
_PROGRAMME_BY_ID = core_select(_PROGRAMMES).where(_PROGRAMMES.c.id == bindparam("programme_id"))
"""A programme read as a row, not an ORM instance (it is read on most turns; a save loads the instance)."""
_PROGRAMME_KEY = inspect(ProgrammeRow).identity_key_from_primary_key
_HELD_PEOPLE = HeldRows(PersonRow, Person)
_HELD_PARTICIPANTS = HeldRows(ParticipantRow, Participant)
_PEOPLE = _HELD_PEOPLE.table
_PERSON_BY_EMAIL = core_select(_PEOPLE).where(
    _PEOPLE.c.tenant_id == bindparam("tenant_id"), func.lower(_PEOPLE.c.email) == bindparam("email")
)
_IDENTITIES = table(PersonIdentityRow)
_PERSON_BY_IDENTITY = (
    core_select(_PEOPLE)
    .join(_IDENTITIES, _IDENTITIES.c.person_id == _PEOPLE.c.id)
    .where(
        _IDENTITIES.c.tenant_id == bindparam("tenant_id"),
        _IDENTITIES.c.platform == bindparam("platform"),
        _IDENTITIES.c.external_id == bindparam("external_id"),
    )
)
_PARTICIPANT = select(ParticipantRow).where(
    ParticipantRow.programme_id == bindparam("programme_id"), ParticipantRow.person_id == bindparam("person_id")
)
_PARTICIPATIONS = (
    select(ParticipantRow).where(ParticipantRow.person_id == bindparam("person_id")).order_by(col(ParticipantRow.id))
)


def _copy_into(row: SQLModel, domain: BaseModel) -> None:
    as_json = domain.model_dump(mode="json", exclude={"id"})  # JSON columns (settings with dates) as JSON
    for name, value in domain.model_dump(exclude={"id"}).items():
        if hasattr(row, name):
            setattr(row, name, as_json[name] if isinstance(value, dict | list) else value)


class _Repo:
    def __init__(self, session: Session, clock_now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock_now


class TenantRepo(_Repo):
    """Tenants. ``known`` is the process's memory of tenants already committed (shared by the units of work of one
    store): a tenant's id, platform, key and name never change, so every event after the first finds its tenant
    without SQL. Tenants this unit of work found are in ``found``, remembered once it commits."""

    def __init__(
        self,
        session: Session,
        clock_now: Callable[[], datetime] = utcnow,
        known: dict[tuple[str, str], Tenant] | None = None,
    ) -> None:
        super().__init__(session, clock_now)
        self.known = {} if known is None else known
        self.found: dict[tuple[str, str], Tenant] = {}

    def ensure(self, platform: str, external_id: str, name: str = "") -> Tenant:
        """The tenant, added first if it is new (no SQL for a tenant known to the process: every event asks)."""
        known = self.find(platform, external_id)
        if known is not None:
            return known
        insert_ignoring_duplicates(
            self.session,
            TenantRow,
            {"platform": platform, "external_id": external_id, "name": name or external_id, "created_at": self.now()},
            ["platform", "external_id"],
        )
        found = self.find(platform, external_id)
        if found is None:
            raise LookupError(f"tenant {platform}:{external_id} was not stored")
        return found

    def get(self, tenant_id: int) -> Tenant | None:
        return to_domain_or_none(Tenant, self.session.get(TenantRow, tenant_id))

    def find(self, platform: str, external_id: str) -> Tenant | None:
        key = (platform, external_id)
        remembered = self.known.get(key) or self.found.get(key)
        if remembered is not None:
            return remembered.model_copy()
        row = self.session.exec(_TENANT, params={"platform": platform, "external_id": external_id}).one_or_none()
        tenant = to_domain_or_none(Tenant, row)
        if tenant is not None:
            self.found[key] = tenant.model_copy()
        return tenant

    def clock_offset(self, tenant_id: int) -> timedelta:
        row = self.session.get(TenantRow, tenant_id)
        return timedelta(seconds=row.clock_offset_seconds if row is not None else 0.0)

    def save_clock_offset(self, tenant_id: int, offset: timedelta) -> None:
        row = self.session.get(TenantRow, tenant_id)
        if row is None:
            raise LookupError(f"tenant {tenant_id} does not exist")
        row.clock_offset_seconds = offset.total_seconds()
        self.session.add(row)


class PeopleRepo(_Repo):
    def get(self, person_id: int) -> Person | None:
        return _HELD_PEOPLE.get(self.session, person_id)

    def by_email(self, tenant_id: int, email: str) -> Person | None:
        found = self.session.execute(_PERSON_BY_EMAIL, {"tenant_id": tenant_id, "email": email.lower()})
        return _HELD_PEOPLE.hold(self.session, found.one_or_none())

    def by_identity(self, tenant_id: int, platform: str, external_id: str) -> Person | None:
        found = self.session.execute(
            _PERSON_BY_IDENTITY, {"tenant_id": tenant_id, "platform": platform, "external_id": external_id}
        )
        return _HELD_PEOPLE.hold(self.session, found.one_or_none())

    def add(self, person: NewPerson) -> Person:
        row = PersonRow(**person.model_dump(exclude={"id"}))
        row.created_at = row.created_at or self.now()
        row.updated_at = self.now()
        self.session.add(row)
        self.session.flush()
        return to_domain(Person, keep(self.session, row))

    def save(self, person: Person) -> Person:
        return _HELD_PEOPLE.save(self.session, person, self.now())

    def link_identity(self, person: Person, platform: str, external_id: str) -> None:
        insert_ignoring_duplicates(
            self.session,
            PersonIdentityRow,
            {"tenant_id": person.tenant_id, "person_id": person.id, "platform": platform, "external_id": external_id},
            ["tenant_id", "platform", "external_id"],
        )

    def identities(self, person_id: int) -> dict[str, str]:
        rows = self.session.exec(select(PersonIdentityRow).where(PersonIdentityRow.person_id == person_id))
        return {row.platform: row.external_id for row in rows}

    def in_tenant(self, tenant_id: int) -> list[Person]:
        people = table(PersonRow)
        statement = core_select(people).where(people.c.tenant_id == tenant_id).order_by(people.c.name)
        return read_once(
            self.session, ("people", tenant_id), ("person",), lambda: listed(self.session, Person, statement)
        )

    def reach(self, person_ids: Sequence[int], programme_id: int | None) -> dict[int, Reach]:
        return match_reads.reach(self.session, person_ids, programme_id)

    def many(self, person_ids: list[int]) -> dict[int, Person]:
        """People by id, in one query per thousand ids (read once per unit of work for the same ids)."""
        ids = sorted(set(person_ids))

        def load() -> list[Person]:
            found: list[Person] = []
            for start in range(0, len(ids), 1000):
                chunk = core_select(table(PersonRow)).where(table(PersonRow).c.id.in_(ids[start : start + 1000]))
                found.extend(listed(self.session, Person, chunk))
            return found

        return {person.id: person for person in read_once(self.session, ("people", tuple(ids)), ("person",), load)}

    def stayed(self, tenant_id: int, programme_id: int, since: datetime, now: datetime) -> dict[bool, tuple[int, int]]:
        people, participants = table(PersonRow), table(ParticipantRow)
        taking = core_select(participants.c.person_id).where(
            participants.c.programme_id == programme_id, participants.c.status != "declined"
        )
        arrived = func.coalesce(people.c.created_at, bindparam("now", now, type_=people.c.created_at.type))
        statement = (
            core_select(
                people.c.id.in_(taking).label("taking"),
                func.count(),
                func.count().filter(people.c.left_at.is_(None)),
            )
            .where(
                people.c.tenant_id == tenant_id,
                arrived <= since,
                people.c.left_at.is_(None) | (people.c.left_at >= since),
            )
            .group_by("taking")
        )
        found = {True: (0, 0), False: (0, 0)}
        for taking_part, counted, still_here in self.session.execute(statement).all():
            found[bool(taking_part)] = (cast(int, still_here), cast(int, counted))
        return found

    def reports(self, person_id: int) -> list[Person]:
        """The people who report directly to someone."""
        rows = self.session.exec(select(PersonRow).where(PersonRow.manager_id == person_id))
        return [to_domain(Person, row) for row in rows]

    def report_counts(self, person_ids: list[int]) -> dict[int, int]:
        """How many people report directly to each of these people (absent: nobody), in one query per thousand."""
        counts: dict[int, int] = {}
        ids = sorted(set(person_ids))
        for start in range(0, len(ids), 1000):
            rows = self.session.exec(
                select(PersonRow.manager_id, func.count())
                .where(col(PersonRow.manager_id).in_(ids[start : start + 1000]))
                .group_by(col(PersonRow.manager_id))
            )
            counts.update({stored_id(manager): count for manager, count in rows})
        return counts

    def forget(self, person: Person) -> None:
        """Erase what identifies someone: the row stays (anonymous) so that aggregates still add up."""
        row = self.session.get(PersonRow, person.id)
        if row is None:
            return
        row.name, row.email, row.title, row.gender = "Former participant", None, "", None
        row.department = row.division = row.location = ""
        row.time_zone, row.working_hours, row.seniority, row.manager_id = "UTC", "09:00-17:00", None, None
        row.opted_out, row.updated_at = True, self.now()
        self.session.flush()

    def unlink_identities(self, person_id: int) -> None:
        self.session.execute(delete(PersonIdentityRow).where(col(PersonIdentityRow.person_id) == person_id))

    def managers(self, tenant_id: int) -> dict[int, int | None]:
        """Every person of the tenant and their manager (for reporting-line rules)."""
        return match_reads.managers(self.session, tenant_id)

    def seniority_range(self, tenant_id: int) -> tuple[int | None, int | None]:
        row = self.session.exec(
            select(func.min(PersonRow.seniority), func.max(PersonRow.seniority)).where(PersonRow.tenant_id == tenant_id)
        ).one()
        return row[0], row[1]

    def with_email_anywhere(self, email: str) -> list[Person]:
        """Everyone with this email, in every tenant (for coordinator grants that name no tenant)."""
        rows = self.session.exec(
            select(PersonRow).where(func.lower(col(PersonRow.email)) == email.lower()).order_by(col(PersonRow.id))
        )
        return [to_domain(Person, row) for row in rows]


class ProgrammeRepo(_Repo):
    def add(self, programme: NewProgramme) -> Programme:
        row = ProgrammeRow(
            **{**programme.model_dump(exclude={"id"}), "settings": programme.settings.model_dump(mode="json")}
        )
        row.created_at = self.now()
        self.session.add(row)
        self.session.flush()
        return to_domain(Programme, keep(self.session, row))

    def save(self, programme: Programme) -> Programme:
        row = self.session.get(ProgrammeRow, programme.id)
        if row is None:
            raise LookupError(f"programme {programme.id} does not exist")
        _copy_into(row, programme)
        self.session.flush()
        return to_domain(Programme, row)

    def get(self, programme_id: int) -> Programme | None:
        def load() -> Programme | None:
            if (kept := self.session.identity_map.get(_PROGRAMME_KEY((programme_id,)))) is not None:
                return to_domain(Programme, kept)  # the row as this unit of work has it (changes included)
            found = self.session.execute(_PROGRAMME_BY_ID, {"programme_id": programme_id}).one_or_none()
            return None if found is None else Programme.model_validate(dict(found._mapping))

        return remembered(self.session, ("programme", programme_id), ("programme",), load)

    def by_slug(self, tenant_id: int, slug: str) -> Programme | None:
        row = self.session.exec(
            select(ProgrammeRow).where(ProgrammeRow.tenant_id == tenant_id, ProgrammeRow.slug == slug)
        ).one_or_none()
        return to_domain_or_none(Programme, keep(self.session, row))

    def in_tenant(self, tenant_id: int) -> list[Programme]:
        rows = self.session.exec(
            select(ProgrammeRow).where(ProgrammeRow.tenant_id == tenant_id).order_by(col(ProgrammeRow.id))
        )
        return [to_domain(Programme, row) for row in rows]


class ParticipantRepo(_Repo):
    def add(self, participant: NewParticipant) -> Participant:
        row = ParticipantRow(**participant.model_dump(exclude={"id"}))
        row.updated_at = self.now()
        self.session.add(row)
        self.session.flush()
        return to_domain(Participant, keep(self.session, row))

    def save(self, participant: Participant) -> Participant:
        return _HELD_PARTICIPANTS.save(self.session, participant, self.now())

    def get(self, participant_id: int) -> Participant | None:
        return _HELD_PARTICIPANTS.get(self.session, participant_id)

    def find(self, programme_id: int, person_id: int) -> Participant | None:
        row = self.session.exec(_PARTICIPANT, params={"programme_id": programme_id, "person_id": person_id})
        return to_domain_or_none(Participant, keep(self.session, row.one_or_none()))

    def in_programme(self, programme_id: int) -> list[Participant]:
        participants = table(ParticipantRow)
        statement = core_select(participants).where(participants.c.programme_id == programme_id)
        return read_once(
            self.session,
            ("participants", programme_id),
            ("participant",),
            lambda: listed(self.session, Participant, statement.order_by(participants.c.id)),
        )

    def match_facts(self, programme_id: int) -> list[MatchFacts]:
        """The programme's active participants with the facts matching compares (one query, no records)."""
        return match_reads.match_facts(self.session, programme_id)

    def roster(self, programme_id: int) -> list[RosterEntry]:
        """The programme's participants with their names and states (one query, no records), read once per unit of
        work while neither table is written."""
        key = ("roster", programme_id)
        return list(
            remembered(
                self.session, key, ("participant", "person"), lambda: match_reads.roster(self.session, programme_id)
            )
        )

    def answers_taking_part(self, programme_id: int, keys: Sequence[str]) -> dict[int, dict[str, Any]]:
        return match_reads.answers_taking_part(self.session, programme_id, keys)

    def of_person(self, person_id: int) -> list[Participant]:
        rows = self.session.exec(_PARTICIPATIONS, params={"person_id": person_id})
        return [to_domain(Participant, row) for row in rows]

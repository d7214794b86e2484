"""The report's retention line is counted by the database; it must say what the rule says, person by person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import NewParticipant, NewPerson, NewProgramme, ParticipantStatus, Role
from storage.store import SqlStore

START = datetime(2027, 1, 11, 9, tzinfo=UTC)
NOW = START + timedelta(days=90)


def test_retention_counts_follow_the_rule_for_every_kind_of_person(store: SqlStore) -> None:
    day = timedelta(days=1)
    # (arrived, left, taking part as): None = not a participant
    people = {
        "stayed participant": (START - 30 * day, None, ParticipantStatus.ACTIVE),
        "left participant": (START - 30 * day, START + 10 * day, ParticipantStatus.ACTIVE),
        "paused participant": (START - 30 * day, None, ParticipantStatus.PAUSED),
        "invited, never answered": (START - 30 * day, None, ParticipantStatus.INVITED),
        "declined (counts as the rest)": (START - 30 * day, START + 5 * day, ParticipantStatus.DECLINED),
        "stayed other": (START - 30 * day, None, None),
        "left other": (START - 30 * day, START + 20 * day, None),
        "left on the first day": (START - 30 * day, START, None),
        "gone before the start": (START - 30 * day, START - day, None),
        "arrived after the start": (START + day, None, None),
        "arrived after, as a participant": (START + day, None, ParticipantStatus.ACTIVE),
    }
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "retention")
        other = uow.tenants.ensure("console", "elsewhere")
        programme = uow.programmes.add(NewProgramme(tenant_id=tenant.id, slug="r", name="R"))
        programme.created_at = START
        uow.programmes.save(programme)
        for n, (name, (arrived, left, status)) in enumerate(people.items()):
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=name, created_at=arrived, left_at=left))
            if status is not None:
                uow.participants.add(
                    NewParticipant(
                        programme_id=programme.id,
                        person_id=person.id,
                        role=Role(("mentor", "mentee")[n % 2]),
                        status=status,
                    )
                )
        uow.people.add(NewPerson(tenant_id=other.id, name="another tenant's", created_at=START - day))
    with store.unit_of_work() as uow:
        stayed = uow.people.stayed(tenant.id, programme.id, START, NOW)
    # participants there at the start: stayed, left, paused, invited -> 3 of 4 still here
    assert stayed[True] == (3, 4)
    # the rest there at the start: declined (left), stayed other, left other, left on the first day -> 1 of 4
    assert stayed[False] == (1, 4)


def test_people_without_a_date_of_arrival_count_as_arriving_now(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "undated")
        programme = uow.programmes.add(NewProgramme(tenant_id=tenant.id, slug="u", name="U"))
        person = uow.people.add(NewPerson(tenant_id=tenant.id, name="Undated"))
        person.created_at = None
        uow.people.save(person)
    with store.unit_of_work() as uow:
        assert uow.people.stayed(tenant.id, programme.id, START, NOW) == {True: (0, 0), False: (0, 0)}
        assert uow.people.stayed(tenant.id, programme.id, NOW, NOW) == {True: (0, 0), False: (1, 1)}

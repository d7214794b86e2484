"""What a unit of work reads once and keeps (``storage.sql.remembered``) is read again after any write to its
tables, and after a rollback: a turn never sees a record that is not what the database holds for it."""

from __future__ import annotations

import pytest

from bot.domain import NewParticipant, NewPerson, NewProgramme, ParticipantStatus, Role
from storage.store import SqlStore


class Refused(Exception):
    pass


def test_kept_reads_follow_writes_and_rollbacks(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "reads")
        programme = uow.programmes.add(NewProgramme(tenant_id=tenant.id, slug="p", name="Before"))
        person = uow.people.add(NewPerson(tenant_id=tenant.id, name="Ada", email="ada@example.com"))
        uow.participants.add(NewParticipant(programme_id=programme.id, person_id=person.id, role=Role.MENTEE))
    with store.unit_of_work() as uow:
        [first] = uow.participants.in_programme(programme.id)
        assert uow.participants.in_programme(programme.id)[0] is first  # kept: no second read
        first.status = ParticipantStatus.ACTIVE
        uow.participants.save(first)
        assert uow.participants.in_programme(programme.id)[0].status == ParticipantStatus.ACTIVE

        mark = uow.mark()
        uow.programmes.get(programme.id)
        uow.participants.in_programme(programme.id)
        assert not uow.changed_since(mark)  # reads are not changes
        changed = uow.programmes.get(programme.id)
        assert changed is not None
        changed.name = "Changed"
        uow.programmes.save(changed)
        assert uow.changed_since(mark)
        assert uow.programmes.get(programme.id).name == "Changed"  # type: ignore[union-attr]

    with pytest.raises(Refused), store.unit_of_work() as uow:
        [inside] = uow.participants.in_programme(programme.id)
        inside.status = ParticipantStatus.DECLINED
        uow.participants.save(inside)
        assert uow.participants.in_programme(programme.id)[0].status == ParticipantStatus.DECLINED
        raise Refused
    with store.unit_of_work() as uow:
        assert uow.programmes.get(programme.id).name == "Changed"  # type: ignore[union-attr]
        assert uow.participants.in_programme(programme.id)[0].status == ParticipantStatus.ACTIVE
        renamed = uow.people.many([person.id])[person.id]
        renamed.name = "Ada L."
        uow.people.save(renamed)
        assert uow.people.many([person.id])[person.id].name == "Ada L."
        assert [p.name for p in uow.people.in_tenant(tenant.id)] == ["Ada L."]

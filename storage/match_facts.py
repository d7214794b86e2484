"""The narrow reads of a programme's participants, each one Core query without a domain record per row (for
programmes of thousands): what a matching run compares (see ``bot.matching.load``), and the roster of ``status``
and the health figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import and_, case, null
from sqlalchemy import select as core_select
from sqlalchemy.orm import Session

from bot.domain import ParticipantStatus, Role
from bot.ports.match_facts import MatchFacts, Reach, RosterEntry
from storage.sql import table
from storage.tables import ParticipantRow, PersonRow


def match_facts(session: Session, programme_id: int) -> list[MatchFacts]:
    """The programme's active participants in participant order, each with the facts matching compares."""
    participants, people = table(ParticipantRow), table(PersonRow)
    statement = (
        core_select(
            participants.c.id,
            participants.c.person_id,
            participants.c.role,
            participants.c.capacity,
            participants.c.intake,
            participants.c.intake_completed_at.is_not(None),
            participants.c.onboarded_at.is_not(None),
            people.c.name,
            people.c.seniority,
            people.c.time_zone,
            people.c.working_hours,
            people.c.department,
            people.c.division,
            people.c.location,
            people.c.gender,
        )
        .join_from(participants, people, people.c.id == participants.c.person_id)
        .where(participants.c.programme_id == programme_id, participants.c.status == ParticipantStatus.ACTIVE.value)
        .order_by(participants.c.id)
    )
    return [  # SQLite answers the two tests with 0 or 1
        MatchFacts._make((*row[:4], row[4] or {}, bool(row[5]), bool(row[6]), *row[7:]))
        for row in session.execute(statement)
    ]


def managers(session: Session, tenant_id: int) -> dict[int, int | None]:
    """Every person of the tenant and their manager (for reporting-line rules), in one Core query."""
    people = table(PersonRow)
    rows = session.execute(core_select(people.c.id, people.c.manager_id).where(people.c.tenant_id == tenant_id))
    return cast(dict[int, int | None], dict(rows.all()))


_TAKING_PART = (ParticipantStatus.ACTIVE.value, ParticipantStatus.PAUSED.value)


def roster(session: Session, programme_id: int) -> list[RosterEntry]:
    """Every participant of the programme in participant order, with their name and state."""
    participants, people = table(ParticipantRow), table(PersonRow)
    statement = (
        core_select(
            participants.c.id,
            participants.c.person_id,
            people.c.name,
            participants.c.role,
            participants.c.status,
            participants.c.invited_by,
            participants.c.intake_completed_at.is_not(None),
            participants.c.onboarded_at.is_not(None),
            case((participants.c.role == Role.MENTOR.value, participants.c.notices)),
        )
        .join_from(participants, people, people.c.id == participants.c.person_id, isouter=True)
        .where(participants.c.programme_id == programme_id)
        .order_by(participants.c.id)
    )
    roles, states = {r.value: r for r in Role}, {s.value: s for s in ParticipantStatus}
    return [
        RosterEntry(i, pid, name or "?", roles[role], states[status], by, bool(done), bool(onboarded), notices or {})
        for i, pid, name, role, status, by, done, onboarded, notices in cast(Any, session.execute(statement).all())
    ]


def answers_taking_part(session: Session, programme_id: int, keys: Sequence[str]) -> dict[int, dict[str, Any]]:
    """The intake answers to ``keys`` of each person taking part in the programme (active or paused), by person id.
    (Reading each whole intake and picking costs less than the database's JSON functions picking for it.)"""
    participants = table(ParticipantRow)
    statement = (
        core_select(participants.c.person_id, participants.c.intake)
        .where(participants.c.programme_id == programme_id, participants.c.status.in_(_TAKING_PART))
        .order_by(participants.c.id)  # a person in two roles: the later participation's answers
    )
    return {
        person_id: {key: intake[key] for key in keys if intake and intake.get(key) is not None}
        for person_id, intake in cast(Any, session.execute(statement).all())
    }


def reach(session: Session, person_ids: Sequence[int], programme_id: int | None) -> dict[int, Reach]:
    """Whether each of these people may still get a message of the programme (see ``PeopleRepository.reach``)."""
    people, participants = table(PersonRow), table(ParticipantRow)
    columns = (people.c.id, people.c.opted_out, people.c.left_at.is_not(None))
    if programme_id is None:
        statement = core_select(*columns, null())
    else:
        place = and_(participants.c.person_id == people.c.id, participants.c.programme_id == programme_id)
        statement = core_select(*columns, participants.c.status).join_from(people, participants, place, isouter=True)
    states = {s.value: s for s in ParticipantStatus}
    rows = cast(Any, session.execute(statement.where(people.c.id.in_(list(person_ids)))))
    return {pid: Reach(pid, bool(out) or bool(left), states.get(status or "")) for pid, out, left, status in rows}

"""The narrow reads of a matching run: a programme's active participants with their directory facts in one
Core query, without a domain record per row (for programmes of thousands, see ``bot.matching.load``)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select as core_select
from sqlalchemy.orm import Session

from bot.domain import ParticipantStatus
from bot.ports.match_facts import MatchFacts
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

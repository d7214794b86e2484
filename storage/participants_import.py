"""Writing validated participant rows: one transaction, updates in place on re-import."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain import NewParticipant, Participant, ParticipantStatus, Role
from bot.participants_import import ParticipantRow
from storage.store import SqlStore


def directory_emails(store: SqlStore, tenant_id: int) -> dict[str, int]:
    """Lower-cased email -> person id for the tenant."""
    with store.unit_of_work() as uow:
        return {p.email.lower(): p.id for p in uow.people.in_tenant(tenant_id) if p.email}


def import_participants(
    store: SqlStore, programme_id: int, rows: Iterable[ParticipantRow], directory: dict[str, int], now: datetime
) -> tuple[int, int]:
    """Create or update each participant as active with a complete intake; returns (created, updated)."""
    created = updated = 0
    with store.unit_of_work() as uow:
        by_email: dict[str, Participant] = {}
        rows = list(rows)
        for row in rows:
            person_id = directory[row.email]
            intake: dict[str, Any] = {"teach_topics" if row.role == "mentor" else "learn_topics": list(row.topics)}
            if row.cadence_days:
                intake["cadence"] = str(row.cadence_days)
            existing = uow.participants.find(programme_id, person_id)
            if existing is None:
                participant = uow.participants.add(
                    NewParticipant(
                        programme_id=programme_id,
                        person_id=person_id,
                        role=Role(row.role),
                        capacity=row.capacity,
                        status=ParticipantStatus.ACTIVE,
                        joined_at=now,
                        intake=intake,
                        intake_completed_at=now,
                    )
                )
                created += 1
            else:
                existing.role, existing.capacity, existing.status = (
                    Role(row.role),
                    row.capacity,
                    ParticipantStatus.ACTIVE,
                )
                existing.intake = {**existing.intake, **intake}
                existing.intake_completed_at = existing.intake_completed_at or now
                participant = uow.participants.save(existing)
                updated += 1
            by_email[row.email] = participant
            if row.working_hours:
                person = uow.people.get(person_id)
                if person is not None and person.working_hours != row.working_hours:
                    person.working_hours = row.working_hours
                    uow.people.save(person)
        for row in rows:
            if row.rankings:
                participant = by_email[row.email]
                participant.intake = {**participant.intake, "mentor_choices": [by_email[e].id for e in row.rankings]}
                uow.participants.save(participant)
    return created, updated

"""Writing validated participant rows: one transaction, updates in place on re-import.

A row without ``consented_at`` is an invitation: the participant waits as invited and a job sends the
consent message (then the intake and onboarding follow in chat). A row with ``consented_at`` records
consent given elsewhere: the participant is active with the file's answers as their intake; without
``onboarded_at`` a job starts their onboarding in chat. Matching takes only people who consented and
finished both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import NewParticipant, Participant, ParticipantStatus, Role
from bot.enrolment import IMPORT_INVITE, IMPORT_ONBOARDING
from bot.participants_import import ParticipantRow
from storage.store import SqlStore


@dataclass(frozen=True)
class ParticipantsSummary:
    """What an import did: new and updated rows, and who is invited, consented, or left alone."""

    created: int = 0
    updated: int = 0
    invited: int = 0
    consented: int = 0
    onboarding: int = 0
    untouched: int = 0


def directory_emails(store: SqlStore, tenant_id: int) -> dict[str, int]:
    """Lower-cased email -> person id for the tenant (people who asked to be forgotten have none)."""
    with store.unit_of_work() as uow:
        return {p.email.lower(): p.id for p in uow.people.in_tenant(tenant_id) if p.email}


def import_participants(
    store: SqlStore, programme_id: int, rows: Iterable[ParticipantRow], directory: dict[str, int], now: datetime
) -> ParticipantsSummary:
    """Create or update each participant: invited, or active when the file records consent given elsewhere."""
    counts = dict.fromkeys(("created", "updated", "invited", "consented", "onboarding", "untouched"), 0)
    with store.unit_of_work() as uow:
        programme = uow.programmes.get(programme_id)
        if programme is None:
            raise LookupError(f"programme {programme_id} does not exist")
        by_email: dict[str, Participant] = {}
        rows = list(rows)
        for row in rows:
            person_id = directory[row.email]
            intake: dict[str, Any] = {"teach_topics" if row.role == "mentor" else "learn_topics": list(row.topics)}
            if row.cadence_days:
                intake["cadence"] = str(row.cadence_days)
            existing = uow.participants.find(programme_id, person_id)
            if existing is not None and existing.status in (ParticipantStatus.DECLINED, ParticipantStatus.LEFT):
                counts["untouched"] += 1  # their answer stands; an import never brings anyone back
                continue
            if existing is None:
                participant = uow.participants.add(
                    NewParticipant(
                        programme_id=programme_id,
                        person_id=person_id,
                        role=Role(row.role),
                        capacity=row.capacity,
                        status=ParticipantStatus.INVITED,
                        intake=intake,
                    )
                )
                counts["created"] += 1
            else:
                existing.role, existing.capacity = Role(row.role), row.capacity
                existing.intake = {**existing.intake, **intake}
                participant = uow.participants.save(existing)
                counts["updated"] += 1
            if row.consented_at is not None and participant.status == ParticipantStatus.INVITED:
                participant.status, participant.joined_at = ParticipantStatus.ACTIVE, row.consented_at
            if participant.status == ParticipantStatus.INVITED:
                counts["invited"] += 1
                uow.schedule.add(
                    programme.tenant_id,
                    IMPORT_INVITE,
                    now,
                    {"participant_id": participant.id},
                    key=f"import-invite:{participant.id}",
                )
            else:
                counts["consented"] += 1
                participant.intake_completed_at = participant.intake_completed_at or now
                participant.onboarded_at = participant.onboarded_at or row.onboarded_at
                if participant.onboarded_at is None:
                    counts["onboarding"] += 1
                    uow.schedule.add(
                        programme.tenant_id,
                        IMPORT_ONBOARDING,
                        now,
                        {"participant_id": participant.id},
                        key=f"import-onboarding:{participant.id}",
                    )
            participant = uow.participants.save(participant)
            by_email[row.email] = participant
            if row.working_hours:
                person = uow.people.get(person_id)
                if person is not None and person.working_hours != row.working_hours:
                    person.working_hours = row.working_hours
                    uow.people.save(person)
        for row in rows:
            if row.rankings and row.email in by_email:
                participant = by_email[row.email]
                ranked = [by_email[e].id for e in row.rankings if e in by_email]
                participant.intake = {**participant.intake, "mentor_choices": ranked}
                uow.participants.save(participant)
    return ParticipantsSummary(**counts)

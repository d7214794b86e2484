"""A matching instance written into the store as a tenant's programme, to read back with ``load_input``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.commands.programmes import new_programme
from bot.directory import DirectoryRow
from bot.domain import (
    NewMatchPair,
    NewMatchRule,
    NewParticipant,
    PairStatus,
    ParticipantStatus,
    Programme,
    ProgrammeSettings,
    Role,
)
from bot.matching.model import Candidate, MatchInput
from bot.participants_import import ParticipantRow as ImportRow
from directory_support import directory_emails, import_directory, import_participants
from storage.store import SqlStore

TENANTS = itertools.count(1)


def write_programme(store: SqlStore, data: MatchInput) -> tuple[Programme, dict[int, int], dict[int, int]]:
    """Write ``data`` as a tenant's directory, an earlier cohort, a programme, participants, pins and forbids.

    Returns the programme and maps from the store's person and participant ids back to ``data``'s."""
    email = lambda person: f"p{person}@example.com"  # noqa: E731
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", f"t{next(TENANTS)}").id
    people = {c.person_id: c for c in (*data.mentees, *data.mentors)}

    def row(person: int, boss: int | None) -> DirectoryRow:
        c = people.get(person) or Candidate(participant_id=0, person_id=person, name="", seniority=5)
        return DirectoryRow(
            email=email(person),
            name=f"P{person}",
            seniority=c.seniority or 1,
            department=c.department,
            division=c.division,
            location=c.location,
            time_zone=c.time_zone,
            working_hours=c.working_hours,
            gender=c.gender,
            manager_email=email(boss) if boss is not None else None,
        )

    import_directory(store, tenant, [row(p, boss) for p, boss in data.managers.items()])
    rules = data.rules
    settings_ = ProgrammeSettings(
        seniority_gap=rules.seniority_gap,
        allow_peer=rules.allow_peer,
        no_shared_manager=rules.no_shared_manager,
        min_overlap_minutes=rules.min_overlap_minutes,
        participant_choice=data.uses_choice,
        allow_repeat_pairs=rules.allow_repeat,
        match_weights=data.weights.as_dict(),
        offline_depth_for={
            str(stored[email(c.person_id)]): c.offline_depth
            for stored in [directory_emails(store, tenant)]
            for c in (*data.mentees, *data.mentors)
            if c.offline_depth
        },
    )
    assert rules.reference_date is not None
    with store.unit_of_work() as uow:
        earlier = new_programme(uow, tenant, "Earlier cohort", settings=settings_)
        programme = new_programme(
            uow,
            tenant,
            "This cohort",
            settings=settings_,
            starts_on=rules.reference_date,
            ends_on=rules.reference_date + timedelta(days=90),
        )
    directory = directory_emails(store, tenant)
    rows = [
        ImportRow(
            consented_at=now,
            onboarded_at=now,
            line=2 + k,
            email=email(c.person_id),
            role="mentee",
            topics=tuple(sorted(c.topics)),
            rankings=tuple(email(people_of[r]) for r in c.rankings),
        )
        for people_of in [{o.participant_id: o.person_id for o in data.mentors}]
        for k, c in enumerate(data.mentees)
    ]
    rows += [
        ImportRow(
            line=100 + k,
            email=email(c.person_id),
            role="mentor",
            capacity=c.capacity,
            topics=tuple(sorted(c.topics)),
            consented_at=now,
            onboarded_at=now,
        )
        for k, c in enumerate(data.mentors)
    ]
    import_participants(store, programme.id, rows, now)
    person_back = {directory[email(p)]: p for p in data.managers}
    with store.unit_of_work() as uow:
        assert programme.id is not None and earlier.id is not None
        participants = {person_back[p.person_id]: p for p in uow.participants.in_programme(programme.id)}
        for c in (*data.mentees, *data.mentors):
            participant = participants[c.person_id]
            participant.intake = {
                **participant.intake,
                **c.style,
                **({"generation": c.generation} if c.generation else {}),
            }
            participant.intake_completed_at = now if c.ready or c.waiting_for == "onboarding" else None
            participant.onboarded_at = now if c.ready else None
            uow.participants.save(participant)
        by_pid = {c.participant_id: participants[c.person_id].id for c in (*data.mentees, *data.mentors)}
        for kind, pairs in (("forbid", sorted(rules.forbidden)), ("pin", rules.pins)):
            for mentee, mentor in pairs:
                uow.matching.add_rule(
                    NewMatchRule(
                        programme_id=programme.id, kind=kind, mentee_id=by_pid[mentee], mentor_id=by_pid[mentor]
                    )
                )
        old: dict[int, int] = {}
        for pair in sorted(sorted(p) for p in rules.previous):
            for person in pair:
                if person not in old:
                    old[person] = uow.participants.add(
                        NewParticipant(
                            programme_id=earlier.id,
                            person_id=directory[email(person)],
                            role=Role.MENTEE,
                            status=ParticipantStatus.ACTIVE,
                        )
                    ).id
            uow.matching.add_pair(
                NewMatchPair(
                    programme_id=earlier.id, mentee_id=old[pair[0]], mentor_id=old[pair[1]], status=PairStatus.ENDED
                )
            )
    participant_back = {v: k for k, v in by_pid.items()}
    return programme, person_back, participant_back

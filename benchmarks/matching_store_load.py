"""A :class:`Plan` written into a store for benchmarks/matching.py (scenario A, read back with ``load_input``):
the directory, an earlier cohort with its pairs, the programme, its participants, forbids and pins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from matching_programme import Plan


def load_store(store: Any, plan: Plan, today: date) -> Any:
    """People, an earlier cohort with pairs, the programme, participants, forbids and pins. Untimed."""
    from sqlalchemy import insert, update

    from bot.commands.programmes import new_programme
    from bot.directory import DirectoryRow
    from bot.domain import ProgrammeSettings
    from bot.participants_import import ParticipantRow as ImportRow
    from bot.services.directory import DirectoryService
    from storage.tables import MatchPairRow, MatchRuleRow, ParticipantRow

    email = lambda index: f"person{index:05d}@example.com"  # noqa: E731
    with store.unit_of_work() as uow:
        tenant_record = uow.tenants.ensure("console", "console")
        tenant = tenant_record.id
    with store.unit_of_work() as uow:
        DirectoryService.of(uow).import_directory(
            tenant_record,
            [
                DirectoryRow(
                    email=email(p.index),
                    name=f"Person {p.index}",
                    seniority=p.seniority,
                    title="Staff",
                    department=p.department,
                    division=p.division,
                    location=p.location,
                    time_zone=p.time_zone,
                    working_hours=p.working_hours,
                    manager_email=email(p.manager) if p.manager is not None else None,
                    gender=p.gender,
                    slack_user_id=f"U{p.index:07d}",
                    line=p.index + 2,
                )
                for p in plan.people
            ],
            store.now(),
        )
    starts = today + timedelta(days=30)
    settings = ProgrammeSettings(
        seniority_gap=1,
        allow_peer=False,
        no_shared_manager=True,
        min_overlap_minutes=60,
        participant_choice=True,
        mentor_capacity=4,
        allow_repeat_pairs=False,
    )
    with store.unit_of_work() as uow:
        earlier = new_programme(
            uow,
            tenant,
            "Reverse mentoring 2024",
            starts_on=today - timedelta(days=400),
            ends_on=today - timedelta(days=100),
            settings=settings,
        )
        current = new_programme(
            uow,
            tenant,
            "Reverse mentoring 2025",
            starts_on=starts,
            ends_on=starts + timedelta(days=180),
            settings=settings,
        )
    with store.unit_of_work() as uow:
        directory = DirectoryService.of(uow).emails(tenant)
    now = datetime.now(UTC)  # consent and onboarding given elsewhere: everyone is ready to be matched
    rows = [
        ImportRow(
            line=k + 2,
            email=email(p),
            role="mentee",
            topics=tuple(plan.topics[p]),
            rankings=tuple(email(r) for r in plan.rankings.get(p, ())),
            consented_at=now,
            onboarded_at=now,
        )
        for k, p in enumerate(plan.mentees)
    ]
    rows += [
        ImportRow(
            line=len(rows) + k + 2,
            email=email(p),
            role="mentor",
            capacity=plan.capacity[p],
            topics=tuple(plan.topics[p]),
            consented_at=now,
            onboarded_at=now,
        )
        for k, p in enumerate(plan.mentors)
    ]
    with store.unit_of_work() as uow:
        DirectoryService.of(uow).import_participants(current, rows, now)
    with store.unit_of_work() as uow:
        session = uow.session
        participant = {p.person_id: p for p in uow.participants.in_programme(current.id)}
        person_of = {directory[email(p)]: p for p in (*plan.mentees, *plan.mentors)}
        session.execute(
            update(ParticipantRow),
            [
                {
                    "id": row.id,
                    "intake": {
                        **row.intake,
                        **plan.style[person_of[pid]],
                        **({"generation": g} if (g := plan.generation[person_of[pid]]) else {}),
                    },
                }
                for pid, row in participant.items()
            ],
        )
        part = lambda index: participant[directory[email(index)]].id  # noqa: E731
        session.execute(
            insert(MatchRuleRow.__table__),
            [
                {"programme_id": current.id, "kind": kind, "mentee_id": part(e), "mentor_id": part(o)}
                for kind, pairs in (("forbid", plan.forbidden), ("pin", plan.pins))
                for e, o in pairs
            ],
        )
        # The earlier cohort: both people took part then, and were paired.
        earlier_people = sorted({p for pair in plan.previous for p in pair})
        roles = {e: "mentee" for e, _ in plan.previous} | {o: "mentor" for _, o in plan.previous}
        session.execute(
            insert(ParticipantRow.__table__),
            [
                {
                    "programme_id": earlier.id,
                    "person_id": directory[email(p)],
                    "role": roles[p],
                    "status": "active",
                    "capacity": 4,
                    "intake": {},
                    "intake_version": 0,
                    "intake_reminders": 0,
                    "joined_at": now,
                    "intake_completed_at": now,
                    "updated_at": now,
                }
                for p in earlier_people
            ],
        )
        old = {row.person_id: row.id for row in uow.participants.in_programme(earlier.id)}
        session.execute(
            insert(MatchPairRow.__table__),
            [
                {
                    "programme_id": earlier.id,
                    "mentee_id": old[directory[email(e)]],
                    "mentor_id": old[directory[email(o)]],
                    "score": 50.0,
                    "reasons": [],
                    "status": "ended",
                    "created_at": now,
                    "end_reason": "",
                    "goals": [],
                    "scheduling": {},
                }
                for e, o in plan.previous
            ],
        )
    with store.unit_of_work() as uow:
        return uow.programmes.get(current.id)

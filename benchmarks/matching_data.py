"""Generated organisations and programmes for benchmarks/matching.py.

The same :class:`Plan` feeds a SQLite store (scenario A, read back with ``load_input``) or an in-memory
``MatchInput`` (scenario B). Everything is drawn from one seeded ``random.Random``, so a seed gives the
same organisation every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.matching.model import Candidate, MatchInput, Rules, Weights

LOCATIONS = {
    "London": "Europe/London",
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "San Francisco": "America/Los_Angeles",
    "Pune": "Asia/Kolkata",
    "Bengaluru": "Asia/Kolkata",
    "Singapore": "Asia/Singapore",
    "Sydney": "Australia/Sydney",
}
HOURS = ["09:00-17:30", "09:00-17:30", "08:00-16:30", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:00-13:00"]
DIVISIONS = {
    "Technology": ["Engineering", "Data", "IT", "Security"],
    "Commercial": ["Sales", "Marketing", "Customer Success"],
    "Operations": ["Operations", "Supply Chain", "Facilities"],
    "Corporate": ["Finance", "People", "Legal"],
}
DEPARTMENTS = [(division, department) for division, names in DIVISIONS.items() for department in names]
TOPICS = [
    "ai_tools",
    "generative_ai",
    "collaboration_tools",
    "automation",
    "data_literacy",
    "cybersecurity",
    "social_platforms",
    "personal_brand",
    "content_creation",
    "online_communities",
    "remote_work",
    "accessibility",
    "lived_experience",
    "inclusive_language",
    "generations",
    "front_line_view",
    "feedback_culture",
    "customers_trends",
    "wellbeing",
    "career_paths",
]
STYLES = {
    "style_structure": ["structured", "flexible", "mix"],
    "style_feedback": ["direct", "gentle"],
    "style_pace": ["deep", "broad"],
}
GENDERS = ["woman", "man", "non_binary", None]
GENERATIONS = ["gen_z", "millennial", "gen_x", "boomer", None]
CHAIN = 12
"""The top of the organisation is one reporting chain this long, so the tree is deep as well as wide."""


@dataclass
class Person:
    index: int
    manager: int | None
    depth: int
    seniority: int
    division: str
    department: str
    location: str
    time_zone: str
    working_hours: str
    gender: str | None


def organisation(size: int, rng: random.Random) -> list[Person]:
    """A chain of CHAIN managers at the top, then a random tree of fan-out about 4 below it.

    People mostly stay in their manager's department and location; seniority falls with depth."""
    people: list[Person] = []
    for index in range(size):
        if index == 0:
            manager = None
        elif index < CHAIN:
            manager = index - 1
        else:
            manager = rng.randrange(max(CHAIN - 1, (index - CHAIN) // 4), index)
        boss = people[manager] if manager is not None else None
        if boss is None or rng.random() < 0.1:
            division, department = rng.choice(DEPARTMENTS)
        else:
            division, department = boss.division, boss.department
        location = boss.location if boss is not None and rng.random() < 0.7 else rng.choice(list(LOCATIONS))
        people.append(
            Person(
                index=index,
                manager=manager,
                depth=0 if boss is None else boss.depth + 1,
                seniority=0,
                division=division,
                department=department,
                location=location,
                time_zone=LOCATIONS[location],
                working_hours=rng.choice(HOURS),
                gender=rng.choice(GENDERS),
            )
        )
    # Seniority 9 (the shallowest) down to 1 (the deepest), by rank of depth with a little noise.
    order = sorted(people, key=lambda p: (p.depth, rng.random()))
    for rank, person in enumerate(order):
        person.seniority = max(1, min(9, 9 - (8 * rank) // size + rng.choice([-1, 0, 0, 0, 1])))
    return people


@dataclass
class Plan:
    """Who takes part and how: the same description feeds the store (A) or a MatchInput (B)."""

    people: list[Person]
    mentees: list[int]
    mentors: list[int]
    capacity: dict[int, int]
    topics: dict[int, list[str]]
    style: dict[int, dict[str, str]]
    generation: dict[int, str | None]
    rankings: dict[int, list[int]]
    forbidden: list[tuple[int, int]]
    previous: list[tuple[int, int]]
    pins: list[tuple[int, int]]


def programme(
    people: list[Person],
    mentees: int,
    mentors: int,
    max_capacity: int,
    rng: random.Random,
    forbidden: int,
    previous: int,
    pins: int,
    ranking_share: float,
) -> Plan:
    """Mentees among the most senior, mentors among the most junior (so many sit in mentees' subtrees)."""
    by_seniority = sorted(people, key=lambda p: (-p.seniority, rng.random()))
    senior = [p.index for p in by_seniority[: max(mentees, len(people) // 3)]]
    junior = [p.index for p in by_seniority[-max(mentors, len(people) // 3) :]]
    chosen_e = rng.sample(senior, mentees)
    taken = set(chosen_e)
    chosen_o = rng.sample([p for p in junior if p not in taken], mentors)
    everyone = chosen_e + chosen_o
    topics = {p: rng.sample(TOPICS, rng.randint(1, 3 if p in taken else 4)) for p in everyone}
    style = {p: {k: rng.choice(v) for k, v in STYLES.items() if rng.random() < 0.8} for p in everyone}
    rankings = {p: rng.sample(chosen_o, 3) for p in chosen_e if rng.random() < ranking_share}
    pairs = lambda count: [(rng.choice(chosen_e), rng.choice(chosen_o)) for _ in range(count)]  # noqa: E731
    return Plan(
        people=people,
        mentees=chosen_e,
        mentors=chosen_o,
        capacity={p: rng.randint(1, max_capacity) for p in chosen_o},
        topics=topics,
        style=style,
        generation={p: rng.choice(GENERATIONS) for p in everyone},
        rankings=rankings,
        forbidden=sorted(set(pairs(forbidden))),
        previous=sorted(set(pairs(previous))),
        pins=sorted(set(pairs(pins))),
    )


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


def match_input(plan: Plan, reference: date) -> MatchInput:
    def candidate(index: int, participant_id: int, capacity: int) -> Candidate:
        p = plan.people[index]
        return Candidate(
            participant_id=participant_id,
            person_id=index + 1,
            name=f"Person {index}",
            seniority=p.seniority,
            time_zone=p.time_zone,
            working_hours=p.working_hours,
            department=p.department,
            division=p.division,
            location=p.location,
            gender=p.gender,
            generation=plan.generation[index],
            topics=frozenset(plan.topics[index]),
            style=plan.style[index],
            capacity=capacity,
            ready=True,
        )

    pid = {p: 100_000 + k for k, p in enumerate((*plan.mentees, *plan.mentors))}
    mentees = [candidate(p, pid[p], 1) for p in plan.mentees]
    for c, p in zip(mentees, plan.mentees, strict=True):
        c.rankings = tuple(pid[r] for r in plan.rankings.get(p, ()))
    mentors = [candidate(p, pid[p], plan.capacity[p]) for p in plan.mentors]
    rules = Rules(
        seniority_gap=1,
        allow_peer=False,
        no_shared_manager=True,
        min_overlap_minutes=60,
        reference_date=reference,
        forbidden={(pid[e], pid[o]) for e, o in plan.forbidden},
        previous={frozenset((e + 1, o + 1)) for e, o in plan.previous},
        allow_repeat=False,
        pins=[(pid[e], pid[o]) for e, o in plan.pins],
    )
    managers = {p.index + 1: (p.manager + 1 if p.manager is not None else None) for p in plan.people}
    return MatchInput(
        mentees=mentees, mentors=mentors, managers=managers, rules=rules, weights=Weights(), uses_choice=True
    )


@dataclass(frozen=True)
class Size:
    """How big one scenario's organisation and programme are."""

    people: int
    mentees: int
    mentors: int
    max_capacity: int
    forbidden: int
    previous: int
    pins: int
    ranking_share: float = 0.3


def scenario_size(scenario: str, quick: bool, b_size: int) -> Size:
    """Scenario A: 20,000 people, 5,000 mentees, 1,500 mentors (capacities 1-4). Scenario B: ``b_size``
    mentees and mentors one-to-one in an organisation three times that size. ``quick``: both much smaller."""
    if scenario == "a":
        return Size(2_000, 500, 150, 4, 200, 150, 5) if quick else Size(20_000, 5_000, 1_500, 4, 2_000, 1_500, 25)
    size = 400 if quick else b_size
    return Size(3 * size, size, size, 1, size // 2, size * 3 // 10, 5 if quick else 25)


def plan_for(size: Size, seed: int) -> Plan:
    """The organisation and the programme of one scenario, from ``seed``."""
    rng = random.Random(seed)
    people = organisation(size.people, rng)
    return programme(
        people,
        mentees=size.mentees,
        mentors=size.mentors,
        max_capacity=size.max_capacity,
        rng=rng,
        forbidden=size.forbidden,
        previous=size.previous,
        pins=size.pins,
        ranking_share=size.ranking_share,
    )

"""Who takes part in the benchmarked programme, and how big each scenario is: the :class:`Plan` drawn from
an organisation (``matching_organisation``), and the in-memory ``MatchInput`` it gives (scenario B)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from bot.matching.model import Candidate, MatchInput, Rules, Weights
from matching_organisation import Person, organisation

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
GENERATIONS = ["gen_z", "millennial", "gen_x", "boomer", None]


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


def match_input(plan: Plan, reference: date) -> MatchInput:
    """The plan as an in-memory ``MatchInput`` (scenario B), every hard rule on, ``reference`` as its date."""

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

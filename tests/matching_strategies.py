"""Hypothesis strategies for the matching property tests: random organisations, candidates, weights and
whole programmes, often with hard-rule traps, and the values they are drawn from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hypothesis import strategies as st

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput, Rules, Weights
from matching_hard_rules import chain_above

ZONES = ["Asia/Kolkata", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "America/New_York", "UTC"]
DATES = [date(2025, 1, 15), date(2025, 3, 20), date(2025, 7, 1), date(2025, 10, 29), date(2025, 12, 1)]
"""Reference dates at least two days from any daylight-saving change in ZONES. 2025-03-20 and 2025-10-29 are
the weeks when the USA and Europe are out of step, a trap for anyone using fixed offsets."""
TAGS = ["ai_tools", "data_literacy", "cybersecurity", "social_platforms", "remote_work", "wellbeing"]
STYLES = {
    "style_structure": ["structured", "flexible", "mix"],
    "style_feedback": ["direct", "gentle"],
    "style_pace": ["deep", "broad"],
}
GENDERS = ["woman", "man", "non_binary", None]
GENERATIONS = ["gen_z", "millennial", "gen_x", "boomer", None]
PRIVATE_WORDS = {
    "gender",
    "generation",
    "woman",
    "man",
    "non_binary",
    "non-binary",
    "gen_z",
    "millennial",
    "gen_x",
    "boomer",
}


@dataclass
class Org:
    """A random organisation: each person's manager, everyone, and each person's depth in the tree."""

    managers: dict[int, int | None]
    people: list[int]
    depth: dict[int, int]


@st.composite
def orgs(draw: st.DrawFn, min_people: int = 3, max_people: int = 14) -> Org:
    """A management forest: each person gets a random earlier person as manager, or none."""
    n = draw(st.integers(min_people, max_people))
    people = [101 + 7 * k for k in range(n)]  # person ids unlike participant ids, and never 0
    managers: dict[int, int | None] = {}
    depth: dict[int, int] = {}
    for k, person in enumerate(people):
        boss = None if k == 0 else draw(st.one_of(st.none(), st.sampled_from(people[:k])))
        managers[person] = boss
        depth[person] = 0 if boss is None else depth[boss] + 1
    return Org(managers, people, depth)


def descendants(org: Org, person: int) -> list[int]:
    """Everyone anywhere below ``person``."""
    return [p for p in org.people if person in chain_above(p, org.managers)]


COMMON_HOURS = ["09:00-17:00", "08:00-16:00", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:30-13:30", "00:00-23:59"]


@st.composite
def hours(draw: st.DrawFn) -> str:
    """Working hours: mostly common ones, now and then any half-hour span."""
    if draw(st.integers(0, 3)) != 2:
        return draw(st.sampled_from(COMMON_HOURS))
    start = draw(st.integers(0, 16 * 2)) * 30
    length = draw(st.integers(2, 20)) * 30
    end = min(start + length, 23 * 60 + 59)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


@st.composite
def candidate(
    draw: st.DrawFn, participant_id: int, person_id: int, seniority: int, capacity: int, zones: list[str]
) -> Candidate:
    """One participant with random zone, hours, attributes, topics and style."""
    return Candidate(
        participant_id=participant_id,
        person_id=person_id,
        name=f"P{person_id}",
        seniority=seniority,
        time_zone=draw(st.sampled_from(zones)),
        working_hours=draw(hours()),
        department=draw(st.sampled_from(["Eng", "Sales", "Ops", ""])),
        division=draw(st.sampled_from(["North", "South", ""])),
        location=draw(st.sampled_from(["Pune", "Leeds", ""])),
        gender=draw(st.sampled_from(GENDERS)),
        generation=draw(st.sampled_from(GENERATIONS)),
        topics=frozenset(draw(st.lists(st.sampled_from(TAGS), max_size=3))),
        style={k: v for k in STYLE_KEYS if (v := draw(st.sampled_from([None, *STYLES[k]]))) is not None},
        capacity=capacity,
        ready=draw(st.integers(0, 29)) != 17,
        waiting_for=draw(st.sampled_from(["intake", "onboarding"])),
        offline_depth=draw(st.sampled_from([0, 0, 0, 1, 2])),
    )  # (Hypothesis favours the ends)


@st.composite
def weights(draw: st.DrawFn) -> Weights:
    """Soft-preference weights: one preference alone, or a random mix."""
    if draw(st.booleans()):  # one soft preference alone: scores spread from 0 to 100, sharp trade-offs
        w = Weights(topic=0, diversity=0, style=0, choice=0)
        setattr(w, draw(st.sampled_from(["topic", "diversity", "style", "choice"])), 100.0)
    else:
        w = Weights(
            topic=draw(st.floats(0, 100)),
            diversity=draw(st.floats(0, 100)),
            style=draw(st.floats(0, 100)),
            choice=draw(st.floats(0, 100)),
        )
    w.diversity_prefs = {d: draw(st.sampled_from(["different", "same", "ignore"])) for d in DIVERSITY_DIMENSIONS}
    return w


@st.composite
def instances(
    draw: st.DrawFn,
    max_people: int = 14,
    max_mentees: int = 6,
    max_mentors: int = 4,
    max_capacity: int = 3,
    with_pins: bool = False,
) -> MatchInput:
    """A random programme on a random organisation, often with hard-rule traps."""
    org = draw(orgs(max_people=max_people))
    trap = draw(st.sampled_from(["none", "subtree", "siblings", "hours"]))
    order = draw(st.permutations(org.people))
    empty = draw(st.integers(0, 11))  # now and then one side of the programme is empty
    n_mentees = 0 if empty == 5 else draw(st.integers(1, min(max_mentees, len(org.people) - 1)))
    mentee_people = list(order[:n_mentees])
    rest = list(order[n_mentees:])
    if trap == "subtree" and mentee_people:
        # Mentors from inside the mentees' subtrees (and above them) come first.
        near = {p for m in mentee_people for p in descendants(org, m) + chain_above(m, org.managers)}
        rest = [p for p in rest if p in near] + [p for p in rest if p not in near]
    elif trap == "siblings" and mentee_people:
        bosses = {org.managers[m] for m in mentee_people} - {None}
        rest = [p for p in rest if org.managers[p] in bosses] + [p for p in rest if org.managers[p] not in bosses]
    # At least one participant here; the empty programme has its own test below.
    n_mentors = 0 if empty == 6 else draw(st.integers(1, min(max_mentors, len(rest))))
    mentor_people = rest[:n_mentors]
    if mentee_people and mentor_people and draw(st.integers(0, 9)) == 0:
        mentor_people[-1] = mentee_people[0]  # one person in both roles: must never be paired with themselves
    by_depth = draw(st.integers(0, 2)) == 1

    def seniority(person: int, low: int, high: int) -> int:
        if by_depth:  # seniors high in the tree: the juniors who fit are often below them
            return max(1, min(9, 9 - 2 * org.depth[person] + draw(st.integers(-1, 1))))
        return draw(st.integers(1, 9) if draw(st.integers(0, 4)) == 2 else st.integers(low, high))

    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3 if trap == "hours" else 2, unique=True))
    mentees = [draw(candidate(5000 + 3 * k, p, seniority(p, 5, 9), 1, zones)) for k, p in enumerate(mentee_people)]
    mentors = [
        draw(candidate(8000 + 3 * k, p, seniority(p, 1, 5), draw(st.integers(1, max_capacity)), zones))
        for k, p in enumerate(mentor_people)
    ]
    if trap == "hours":
        for c in (*mentees, *mentors):
            c.time_zone = draw(st.sampled_from(["Australia/Sydney", "America/Los_Angeles", "Europe/London"]))
            c.working_hours = draw(st.sampled_from(["09:00-17:00", "08:00-12:00", "13:00-18:30", "07:30-10:00"]))
    for mentee in mentees:
        if mentors and draw(st.booleans()):
            mentee.rankings = tuple(c.participant_id for c in draw(st.permutations(mentors))[: draw(st.integers(1, 3))])
    cells = [(e, o) for e in mentees for o in mentors]
    forbidden = {(e.participant_id, o.participant_id) for e, o in cells if draw(st.integers(0, 19)) == 7}
    previous = {frozenset((e.person_id, o.person_id)) for e, o in cells if draw(st.integers(0, 19)) == 7}
    previous |= {
        frozenset(draw(st.lists(st.sampled_from(org.people), min_size=2, max_size=2, unique=True)))
        for _ in range(draw(st.integers(0, 2)))
    }
    rules = Rules(
        seniority_gap=draw(st.integers(0, 2)),
        allow_peer=draw(st.booleans()),
        no_shared_manager=draw(st.booleans()),
        min_overlap_minutes=draw(st.sampled_from([0, 30, 60, 60, 120]) | st.integers(0, 240)),
        reference_date=draw(st.sampled_from(DATES)),
        forbidden=forbidden,
        previous=previous,
        allow_repeat=draw(st.integers(0, 4)) == 0,
    )
    if with_pins and mentees and mentors:
        rules.pins = [
            (draw(st.sampled_from(mentees)).participant_id, draw(st.sampled_from(mentors)).participant_id)
            for _ in range(draw(st.integers(1, 4)))
        ]
    return MatchInput(
        mentees=mentees,
        mentors=mentors,
        managers=dict(org.managers),
        rules=rules,
        weights=draw(weights()),
        uses_choice=draw(st.booleans()),
    )

"""Checkers, Hypothesis strategies and exact solvers for the matching property tests.

Everything here is written independently of bot/matching, so that the tests check it rather than repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput, MatchResult, Rules, Weights

ROOT = Path(__file__).resolve().parent.parent
MATCHING_KEYS = set(yaml.safe_load((ROOT / "prompts" / "messages" / "matching.yml").read_text(encoding="utf-8")))

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
MODES = ("optimal", "stable", "random")
RULE_ORDER = ("intake", "reverse", "offline", "shared_manager", "time", "excluded")

FAST = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
CORE = settings(deadline=None, max_examples=160, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------------
# An independent statement of the hard rules
# ----------------------------------------------------------------------------------------------------


def chain_above(person: int, managers: dict[int, int | None]) -> list[int]:
    """Everyone above ``person``: their manager, their manager's manager, ... (stops on a cycle)."""
    above: list[int] = []
    seen = {person}
    boss = managers.get(person)
    while boss is not None and boss not in seen:
        above.append(boss)
        seen.add(boss)
        boss = managers.get(boss)
    return above


def in_reporting_line(a: int, b: int, managers: dict[int, int | None]) -> bool:
    """True when a and b are the same person or one is anywhere above the other."""
    return a == b or a in chain_above(b, managers) or b in chain_above(a, managers)


def line_excludes(upper: Candidate, lower: Candidate, managers: dict[int, int | None]) -> bool:
    """True when ``lower`` sits below ``upper`` within ``upper``'s reach (offline_depth levels; 0: any depth)."""
    above = chain_above(lower.person_id, managers)
    if upper.person_id not in above:
        return False
    levels = above.index(upper.person_id) + 1
    return upper.offline_depth <= 0 or levels <= upper.offline_depth


def utc_interval(zone: str, hours: str, day: date) -> tuple[datetime, datetime]:
    start_text, end_text = hours.split("-")
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.fromisoformat(start_text), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day, time.fromisoformat(end_text), tzinfo=tz).astimezone(UTC)
    return start, end


def overlap(a: Candidate, b: Candidate, day: date) -> float:
    """Minutes both work, people working every day: a's hours on ``day`` against b's on the day before,
    the day itself and the day after (each converted with its own date)."""
    start_a, end_a = utc_interval(a.time_zone, a.working_hours, day)
    best = 0.0
    for delta in (-1, 0, 1):
        start_b, end_b = utc_interval(b.time_zone, b.working_hours, day + timedelta(days=delta))
        best = max(best, (min(end_a, end_b) - max(start_a, start_b)).total_seconds() / 60)
    return best


def broken_rules(data: MatchInput, mentee: Candidate, mentor: Candidate) -> list[str]:
    """Every hard rule pairing ``mentee`` with ``mentor`` would break, in RULE_ORDER."""
    rules, managers = data.rules, data.managers
    broken = []
    if not (mentee.ready and mentor.ready):
        broken.append("intake")
    if mentee.seniority is None or mentor.seniority is None:
        broken.append("reverse")
    elif rules.allow_peer:
        if mentor.seniority > mentee.seniority:
            broken.append("reverse")
    elif mentor.seniority > mentee.seniority - rules.seniority_gap:
        broken.append("reverse")
    if (
        mentee.person_id == mentor.person_id
        or line_excludes(mentee, mentor, managers)
        or line_excludes(mentor, mentee, managers)
    ):
        broken.append("offline")
    boss = managers.get(mentee.person_id)
    if rules.no_shared_manager and boss is not None and boss == managers.get(mentor.person_id):
        broken.append("shared_manager")
    assert rules.reference_date is not None
    if overlap(mentee, mentor, rules.reference_date) < rules.min_overlap_minutes:
        broken.append("time")
    if (mentee.participant_id, mentor.participant_id) in rules.forbidden or (
        not rules.allow_repeat and frozenset((mentee.person_id, mentor.person_id)) in rules.previous
    ):
        broken.append("excluded")
    return broken


def feasible_matrix(data: MatchInput) -> np.ndarray:
    return np.array([[not broken_rules(data, e, o) for o in data.mentors] for e in data.mentees], dtype=bool).reshape(
        len(data.mentees), len(data.mentors)
    )


def index_pairs(data: MatchInput, result: MatchResult) -> list[tuple[int, int]]:
    index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    return [(index_e[p.mentee], index_o[p.mentor]) for p in result.pairs]


def assert_hard_rules(data: MatchInput, result: MatchResult) -> None:
    """No pair breaks a hard rule; one mentor per mentee; each mentor within capacity."""
    mentees = {c.participant_id: c for c in data.mentees}
    mentors = {c.participant_id: c for c in data.mentors}
    seen: set[int] = set()
    load: dict[int, int] = {}
    for pair in result.pairs:
        assert pair.mentee in mentees and pair.mentor in mentors, pair
        assert pair.mentee not in seen, f"mentee {pair.mentee} paired twice"
        seen.add(pair.mentee)
        load[pair.mentor] = load.get(pair.mentor, 0) + 1
        broken = broken_rules(data, mentees[pair.mentee], mentors[pair.mentor])
        assert not broken, f"{result.mode}: pair {pair.mentee}-{pair.mentor} breaks {broken}"
    for mentor, count in load.items():
        assert count <= mentors[mentor].capacity, f"mentor {mentor} has {count} > capacity {mentors[mentor].capacity}"


def expected_unmatched_key(data: MatchInput, role: str, k: int, has_partner_option: bool) -> str:
    """The wording PRODUCT.md promises: the first rule (in order) that left them without any partner."""
    me = data.mentees[k] if role == "mentee" else data.mentors[k]
    others = data.mentors if role == "mentee" else data.mentees
    if not others:
        return "matching.unmatched_no_mentors" if role == "mentee" else "matching.unmatched_no_mentees"
    if has_partner_option:
        return "matching.unmatched_capacity" if role == "mentee" else "matching.unmatched_mentor_not_needed"
    broken = [broken_rules(data, me, o) if role == "mentee" else broken_rules(data, o, me) for o in others]
    for depth, rule in enumerate(RULE_ORDER):
        if all(set(b) & set(RULE_ORDER[: depth + 1]) for b in broken):
            if rule == "intake":
                if me.ready:
                    return "matching.unmatched_others_not_ready"
                return f"matching.unmatched_{me.waiting_for}"
            if rule == "reverse":
                if me.seniority is None:
                    return "matching.unmatched_seniority_unknown"
                return f"matching.unmatched_{role}_reverse"
            return f"matching.unmatched_{rule}"
    raise AssertionError("unreachable: no partner option yet no rule blocks")


# ----------------------------------------------------------------------------------------------------
# Random organisations
# ----------------------------------------------------------------------------------------------------


@dataclass
class Org:
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
    return [p for p in org.people if person in chain_above(p, org.managers)]


COMMON_HOURS = ["09:00-17:00", "08:00-16:00", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:30-13:30", "00:00-23:59"]


@st.composite
def hours(draw: st.DrawFn) -> str:
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


# ----------------------------------------------------------------------------------------------------
# Independent optimum: exhaustive search and a MILP formulation
# ----------------------------------------------------------------------------------------------------


def exhaustive(feasible: np.ndarray, scores: np.ndarray, capacity: list[int]) -> tuple[int, float]:
    """The best (number of pairs, total score) over every feasible assignment, by depth-first search."""
    n, m = feasible.shape
    options = [[j for j in range(m) if feasible[i, j]] for i in range(n)]
    left = list(capacity)
    best = (0, 0.0)

    def search(i: int, count: int, total: float) -> None:
        nonlocal best
        if count + sum(1 for k in range(i, n) if options[k]) < best[0]:
            return
        if i == n:
            if (count, total) > best:
                best = (count, total)
            return
        for j in options[i]:
            if left[j] > 0:
                left[j] -= 1
                search(i + 1, count + 1, total + float(scores[i, j]))
                left[j] += 1
        search(i + 1, count, total)

    search(0, 0, 0.0)
    return best


def milp_optimum(feasible: np.ndarray, scores: np.ndarray, capacity: list[int]) -> tuple[int, float]:
    """The same optimum from a binary programme: x_ij on feasible cells, lexicographic by a large weight."""
    cells = list(zip(*np.nonzero(feasible), strict=True))
    if not cells:
        return 0, 0.0
    n, m = feasible.shape
    big = 1000.0 * (n + 1)  # more than any total score difference (scores are at most 100 each)
    c = np.array([-(big + scores[i, j]) for i, j in cells])
    rows = np.zeros((n + m, len(cells)))
    for k, (i, j) in enumerate(cells):
        rows[i, k] = 1
        rows[n + j, k] = 1
    upper = np.array([1.0] * n + [float(x) for x in capacity])
    solution = milp(
        c,
        integrality=np.ones(len(cells)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(rows, -np.inf, upper),
        options={"mip_rel_gap": 0.0},
    )
    assert solution.success, solution.message
    chosen = [cells[k] for k in np.flatnonzero(np.round(solution.x) == 1)]
    assert all(feasible[i, j] for i, j in chosen)
    return len(chosen), float(sum(scores[i, j] for i, j in chosen))


def achieved(data: MatchInput, result: MatchResult, matrix: np.ndarray) -> tuple[int, float]:
    """(pairs, total score) of a result, totals recomputed from the unrounded score matrix."""
    pairs = index_pairs(data, result)
    return len(pairs), float(sum(matrix[i, j] for i, j in pairs))


# ----------------------------------------------------------------------------------------------------
# Reference stable matching: the deferred acceptance bot/matching/solve.py used before it was vectorised
# ----------------------------------------------------------------------------------------------------


def reference_stable(
    allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray, rankings: list[list[int]]
) -> list[tuple[int, int]]:
    """Mentee-proposing deferred acceptance, one proposal at a time on full preference lists."""
    n, m = allowed.shape
    preferences: list[list[int]] = []
    for i in range(n):
        ranked = [j for j in rankings[i] if allowed[i, j]]
        rest = [int(j) for j in np.argsort(-scores[i], kind="stable") if allowed[i, j] and j not in ranked]
        preferences.append(ranked + rest)
    held: list[list[int]] = [[] for _ in range(m)]
    next_choice = [0] * n
    free = [i for i in range(n) if preferences[i]]
    while free:
        i = free.pop()
        if next_choice[i] >= len(preferences[i]):
            continue
        j = preferences[i][next_choice[i]]
        next_choice[i] += 1
        if capacity[j] <= 0:
            free.append(i)
            continue
        held[j].append(i)
        if len(held[j]) > capacity[j]:
            worst = min(held[j], key=lambda k: (scores[k, j], -k))
            held[j].remove(worst)
            free.append(worst)
    return sorted((i, j) for j in range(m) for i in held[j])

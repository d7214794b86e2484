"""Property-based tests of the matcher (bot/matching) over random organisations, with Hypothesis.

Every hard rule is checked here INDEPENDENTLY of bot/matching/rules.py: reporting lines by walking the
manager chain, working-hours overlap with datetimes and zoneinfo on the reference date, and so on. The
optimal mode is compared with an exhaustive search on small instances and with a separate solver
formulation (``scipy.optimize.milp``) on slightly larger ones; the stable mode is checked for blocking
pairs with our own preference comparison. One test writes random programmes to the store (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set) and checks that ``load_input`` reads every rule back.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from bot.commands.programmes import new_programme
from bot.directory import DirectoryRow
from bot.domain import (MatchPair, MatchRule, PairStatus, Participant, ParticipantStatus, Programme,
                        ProgrammeSettings, Role)
from bot.matching.load import load_input, reason_text, topic_labels
from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput, MatchResult, Rules, Weights
from bot.matching.run import run_matching
from bot.matching.scoring import score
from bot.participants_import import ParticipantRow as ImportRow
from bot.wording import say, unescape
from storage.directory import import_directory
from storage.participants_import import directory_emails, import_participants
from storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent
MATCHING_KEYS = set(yaml.safe_load((ROOT / "prompts" / "messages" / "matching.yml").read_text(encoding="utf-8")))

ZONES = ["Asia/Kolkata", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "America/New_York", "UTC"]
DATES = [date(2025, 1, 15), date(2025, 3, 20), date(2025, 7, 1), date(2025, 10, 29), date(2025, 12, 1)]
"""Reference dates at least two days from any daylight-saving change in ZONES. 2025-03-20 and 2025-10-29 are
the weeks when the USA and Europe are out of step, a trap for anyone using fixed offsets."""
TAGS = ["ai_tools", "data_literacy", "cybersecurity", "social_platforms", "remote_work", "wellbeing"]
STYLES = {"style_structure": ["structured", "flexible", "mix"], "style_feedback": ["direct", "gentle"],
          "style_pace": ["deep", "broad"]}
GENDERS = ["woman", "man", "non_binary", None]
GENERATIONS = ["gen_z", "millennial", "gen_x", "boomer", None]
PRIVATE_WORDS = {"gender", "generation", "woman", "man", "non_binary", "non-binary", "gen_z", "millennial",
                 "gen_x", "boomer"}
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


def utc_interval(zone: str, hours: str, day: date) -> tuple[datetime, datetime]:
    start_text, end_text = hours.split("-")
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.fromisoformat(start_text), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day, time.fromisoformat(end_text), tzinfo=tz).astimezone(timezone.utc)
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
    if in_reporting_line(mentee.person_id, mentor.person_id, managers):
        broken.append("offline")
    boss = managers.get(mentee.person_id)
    if rules.no_shared_manager and boss is not None and boss == managers.get(mentor.person_id):
        broken.append("shared_manager")
    assert rules.reference_date is not None
    if overlap(mentee, mentor, rules.reference_date) < rules.min_overlap_minutes:
        broken.append("time")
    if (mentee.participant_id, mentor.participant_id) in rules.forbidden or (
            not rules.allow_repeat and frozenset((mentee.person_id, mentor.person_id)) in rules.previous):
        broken.append("excluded")
    return broken


def feasible_matrix(data: MatchInput) -> np.ndarray:
    return np.array([[not broken_rules(data, e, o) for o in data.mentors] for e in data.mentees],
                    dtype=bool).reshape(len(data.mentees), len(data.mentors))


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
        if all(set(b) & set(RULE_ORDER[:depth + 1]) for b in broken):
            if rule == "intake":
                return "matching.unmatched_intake" if not me.ready else "matching.unmatched_others_not_ready"
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


COMMON_HOURS = ["09:00-17:00", "08:00-16:00", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:30-13:30",
                "00:00-23:59"]


@st.composite
def hours(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 3)) != 2:
        return draw(st.sampled_from(COMMON_HOURS))
    start = draw(st.integers(0, 16 * 2)) * 30
    length = draw(st.integers(2, 20)) * 30
    end = min(start + length, 23 * 60 + 59)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


@st.composite
def candidate(draw: st.DrawFn, participant_id: int, person_id: int, seniority: int, capacity: int,
              zones: list[str]) -> Candidate:
    return Candidate(
        participant_id=participant_id, person_id=person_id, name=f"P{person_id}", seniority=seniority,
        time_zone=draw(st.sampled_from(zones)), working_hours=draw(hours()),
        department=draw(st.sampled_from(["Eng", "Sales", "Ops", ""])),
        division=draw(st.sampled_from(["North", "South", ""])), location=draw(st.sampled_from(["Pune", "Leeds", ""])),
        gender=draw(st.sampled_from(GENDERS)), generation=draw(st.sampled_from(GENERATIONS)),
        topics=frozenset(draw(st.lists(st.sampled_from(TAGS), max_size=3))),
        style={k: v for k in STYLE_KEYS if (v := draw(st.sampled_from([None, *STYLES[k]]))) is not None},
        capacity=capacity, ready=draw(st.integers(0, 29)) != 17)  # (Hypothesis favours the ends)


@st.composite
def weights(draw: st.DrawFn) -> Weights:
    if draw(st.booleans()):  # one soft preference alone: scores spread from 0 to 100, sharp trade-offs
        w = Weights(topic=0, diversity=0, style=0, choice=0)
        setattr(w, draw(st.sampled_from(["topic", "diversity", "style", "choice"])), 100.0)
    else:
        w = Weights(topic=draw(st.floats(0, 100)), diversity=draw(st.floats(0, 100)),
                    style=draw(st.floats(0, 100)), choice=draw(st.floats(0, 100)))
    w.diversity_prefs = {d: draw(st.sampled_from(["different", "same", "ignore"])) for d in DIVERSITY_DIMENSIONS}
    return w


@st.composite
def instances(draw: st.DrawFn, max_people: int = 14, max_mentees: int = 6, max_mentors: int = 4,
              max_capacity: int = 3, with_pins: bool = False) -> MatchInput:
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
    mentors = [draw(candidate(8000 + 3 * k, p, seniority(p, 1, 5), draw(st.integers(1, max_capacity)), zones))
               for k, p in enumerate(mentor_people)]
    if trap == "hours":
        for c in (*mentees, *mentors):
            c.time_zone = draw(st.sampled_from(["Australia/Sydney", "America/Los_Angeles", "Europe/London"]))
            c.working_hours = draw(st.sampled_from(["09:00-17:00", "08:00-12:00", "13:00-18:30", "07:30-10:00"]))
    for mentee in mentees:
        if mentors and draw(st.booleans()):
            mentee.rankings = tuple(c.participant_id for c in draw(st.permutations(mentors))[:draw(st.integers(1, 3))])
    cells = [(e, o) for e in mentees for o in mentors]
    forbidden = {(e.participant_id, o.participant_id) for e, o in cells if draw(st.integers(0, 19)) == 7}
    previous = {frozenset((e.person_id, o.person_id)) for e, o in cells if draw(st.integers(0, 19)) == 7}
    previous |= {frozenset(draw(st.lists(st.sampled_from(org.people), min_size=2, max_size=2, unique=True)))
                 for _ in range(draw(st.integers(0, 2)))}
    rules = Rules(seniority_gap=draw(st.integers(0, 2)), allow_peer=draw(st.booleans()),
                  no_shared_manager=draw(st.booleans()),
                  min_overlap_minutes=draw(st.sampled_from([0, 30, 60, 60, 120]) | st.integers(0, 240)),
                  reference_date=draw(st.sampled_from(DATES)), forbidden=forbidden, previous=previous,
                  allow_repeat=draw(st.integers(0, 4)) == 0)
    if with_pins and mentees and mentors:
        rules.pins = [(draw(st.sampled_from(mentees)).participant_id, draw(st.sampled_from(mentors)).participant_id)
                      for _ in range(draw(st.integers(1, 4)))]
    return MatchInput(mentees=mentees, mentors=mentors, managers=dict(org.managers), rules=rules,
                      weights=draw(weights()), uses_choice=draw(st.booleans()))


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
    cells = list(zip(*np.nonzero(feasible)))
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
    solution = milp(c, integrality=np.ones(len(cells)), bounds=Bounds(0, 1),
                    constraints=LinearConstraint(rows, -np.inf, upper), options={"mip_rel_gap": 0.0})
    assert solution.success, solution.message
    chosen = [cells[k] for k in np.flatnonzero(np.round(solution.x) == 1)]
    assert all(feasible[i, j] for i, j in chosen)
    return len(chosen), float(sum(scores[i, j] for i, j in chosen))


def achieved(data: MatchInput, result: MatchResult, matrix: np.ndarray) -> tuple[int, float]:
    """(pairs, total score) of a result, totals recomputed from the unrounded score matrix."""
    pairs = index_pairs(data, result)
    return len(pairs), float(sum(matrix[i, j] for i, j in pairs))


# ----------------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------------

@CORE
@given(data=instances(), seed=st.integers(0, 2**31 - 1))
def test_no_mode_ever_breaks_a_hard_rule(data: MatchInput, seed: int) -> None:
    for mode in MODES:
        result = run_matching(data, mode, seed)  # type: ignore[arg-type]
        assert_hard_rules(data, result)


@CORE
@given(data=instances(max_mentees=6, max_mentors=4, max_capacity=2))
def test_optimal_equals_exhaustive_search(data: MatchInput) -> None:
    matrix = score(data).total
    expected = exhaustive(feasible_matrix(data), matrix, [c.capacity for c in data.mentors])
    result = run_matching(data, "optimal")
    assert_hard_rules(data, result)
    count, total = achieved(data, result, matrix)
    assert count == expected[0]
    assert total == pytest.approx(expected[1], abs=1e-3)  # scores are float32; they are shown to 0.1


@st.composite
def contention(draw: st.DrawFn) -> MatchInput:
    """Everyone fits by every rule but the do-not-pair list, which leaves a random bipartite graph; scores
    are sharp (topic fit alone, 0 to 100). Many mentees compete for few places: count against score."""
    n, m = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    mentees = [Candidate(participant_id=100 + i, person_id=1 + i, name="E", seniority=9,
                         topics=frozenset(draw(st.lists(st.sampled_from(TAGS[:2]), min_size=1, max_size=2))))
               for i in range(n)]
    mentors = [Candidate(participant_id=200 + j, person_id=50 + j, name="O", seniority=1,
                         topics=frozenset(draw(st.lists(st.sampled_from(TAGS[:2]), max_size=2))),
                         capacity=draw(st.integers(1, 2))) for j in range(m)]
    forbidden = {(e.participant_id, o.participant_id) for e in mentees for o in mentors if draw(st.booleans())}
    return MatchInput(mentees=mentees, mentors=mentors, managers={c.person_id: None for c in (*mentees, *mentors)},
                      rules=Rules(reference_date=DATES[0], forbidden=forbidden),
                      weights=Weights(topic=100, diversity=0, style=0, choice=0))


@CORE
@given(data=contention(), seed=st.integers(0, 1000))
def test_optimal_and_random_under_contention_equal_exhaustive_search(data: MatchInput, seed: int) -> None:
    matrix = score(data).total
    expected = exhaustive(feasible_matrix(data), matrix, [c.capacity for c in data.mentors])
    optimal = run_matching(data, "optimal")
    assert achieved(data, optimal, matrix)[0] == expected[0]
    assert achieved(data, optimal, matrix)[1] == pytest.approx(expected[1], abs=1e-3)  # scores are float32; they are shown to 0.1
    assert len(run_matching(data, "random", seed).pairs) == expected[0]


@SLOW
@given(data=instances(max_people=24, max_mentees=12, max_mentors=8, max_capacity=3))
def test_optimal_equals_a_milp_formulation(data: MatchInput) -> None:
    matrix = score(data).total
    expected = milp_optimum(feasible_matrix(data), matrix, [c.capacity for c in data.mentors])
    result = run_matching(data, "optimal")
    assert_hard_rules(data, result)
    count, total = achieved(data, result, matrix)
    assert count == expected[0]
    assert total == pytest.approx(expected[1], abs=1e-3)  # scores are float32; they are shown to 0.1


def test_optimal_matches_one_more_mentee_before_any_higher_score() -> None:
    # A fits X (perfect topic fit) and Y (none); B fits only X (no fit). Best total score would be A-X alone
    # (100); the most pairs is A-Y and B-X (0 + 0). The number of pairs comes first.
    managers: dict[int, int | None] = {1: None, 2: None, 3: None, 4: None}
    a = Candidate(participant_id=11, person_id=1, name="A", seniority=9, topics=frozenset({"ai_tools"}))
    b = Candidate(participant_id=12, person_id=2, name="B", seniority=9, topics=frozenset({"wellbeing"}))
    x = Candidate(participant_id=21, person_id=3, name="X", seniority=1, topics=frozenset({"ai_tools"}))
    y = Candidate(participant_id=22, person_id=4, name="Y", seniority=1)
    data = MatchInput(mentees=[a, b], mentors=[x, y], managers=managers,
                      weights=Weights(topic=100, diversity=0, style=0),
                      rules=Rules(reference_date=DATES[0], forbidden={(12, 22)}))
    for mode in ("optimal", "random"):
        result = run_matching(data, mode, 4)  # type: ignore[arg-type]
        assert sorted((p.mentee, p.mentor) for p in result.pairs) == [(11, 22), (12, 21)], mode
    assert [p.score for p in run_matching(data).pairs] == [0.0, 0.0]


def mentee_key(data: MatchInput, i: int, j: int, matrix: np.ndarray) -> tuple[float, float]:
    """How mentee i ranks mentor j (smaller is better): their own ranking first, then the score."""
    ranked = [pid for pid in dict.fromkeys(data.mentees[i].rankings)]
    pid = data.mentors[j].participant_id
    return (ranked.index(pid) if pid in ranked else float("inf"), -float(matrix[i, j]))


def blocking(data: MatchInput, result: MatchResult, matrix: np.ndarray) -> list[tuple[int, int]]:
    """Feasible (mentee, mentor) who both strictly prefer each other to what they got."""
    feasible = feasible_matrix(data)
    pairs = index_pairs(data, result)
    partner = dict(pairs)
    held: dict[int, list[int]] = {}
    for i, j in pairs:
        held.setdefault(j, []).append(i)
    found = []
    for i, j in itertools.product(range(len(data.mentees)), range(len(data.mentors))):
        if not feasible[i, j] or partner.get(i) == j:
            continue
        mentee_wants = i not in partner or mentee_key(data, i, j, matrix) < mentee_key(data, i, partner[i], matrix)
        mine = held.get(j, [])
        mentor_wants = len(mine) < data.mentors[j].capacity or any(matrix[i, j] > matrix[k, j] for k in mine)
        if mentee_wants and mentor_wants:
            found.append((i, j))
    return found


@CORE
@given(data=instances(max_people=18, max_mentees=8, max_mentors=6))
def test_stable_mode_has_no_blocking_pair(data: MatchInput) -> None:
    result = run_matching(data, "stable")
    assert_hard_rules(data, result)
    assert blocking(data, result, score(data).total) == []


@FAST
@given(data=instances(max_mentees=6, max_mentors=4, max_capacity=2), seed=st.integers(0, 2**31 - 1))
def test_random_mode_is_reproducible_and_maximal(data: MatchInput, seed: int) -> None:
    first, again = run_matching(data, "random", seed), run_matching(data, "random", seed)
    assert [(p.mentee, p.mentor) for p in first.pairs] == [(p.mentee, p.mentor) for p in again.pairs]
    assert_hard_rules(data, first)
    most = exhaustive(feasible_matrix(data), score(data).total, [c.capacity for c in data.mentors])[0]
    assert len(first.pairs) == most


@FAST
@given(data=instances(max_mentees=6, max_mentors=4, with_pins=True), seed=st.integers(0, 1000))
def test_feasible_pins_are_kept_and_infeasible_ones_never(data: MatchInput, seed: int) -> None:
    mentees = {c.participant_id: c for c in data.mentees}
    mentors = {c.participant_id: c for c in data.mentors}
    honoured: list[tuple[int, int]] = []
    refused: list[tuple[int, int]] = []
    left = {pid: c.capacity for pid, c in mentors.items()}
    for mentee, mentor in data.rules.pins:
        if broken_rules(data, mentees[mentee], mentors[mentor]):
            refused.append((mentee, mentor))
        elif left[mentor] > 0 and mentee not in {e for e, _ in honoured}:
            honoured.append((mentee, mentor))
            left[mentor] -= 1
    for mode in MODES:
        result = run_matching(data, mode, seed)  # type: ignore[arg-type]
        assert_hard_rules(data, result)
        got = {(p.mentee, p.mentor) for p in result.pairs}
        assert set(honoured) <= got, (mode, honoured, got)
        assert not set(refused) & got, (mode, refused, got)
        assert {(p.mentee, p.mentor) for p in result.pairs if p.pinned} == set(honoured)


@FAST
@given(data=instances(max_mentees=6, max_mentors=4, max_capacity=2, with_pins=True), seed=st.integers(0, 1000))
def test_optimal_with_pins_is_optimal_for_everyone_else(data: MatchInput, seed: int) -> None:
    result = run_matching(data, "optimal", seed)
    matrix = score(data).total
    index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    feasible = feasible_matrix(data)
    capacity = [c.capacity for c in data.mentors]
    for pair in result.pairs:
        if pair.pinned:
            feasible[index_e[pair.mentee], :] = False
            capacity[index_o[pair.mentor]] -= 1
    expected = exhaustive(feasible, matrix, capacity)
    rest = [(index_e[p.mentee], index_o[p.mentor]) for p in result.pairs if not p.pinned]
    assert len(rest) == expected[0]
    assert sum(matrix[i, j] for i, j in rest) == pytest.approx(expected[1], abs=1e-3)  # scores are float32; they are shown to 0.1


def rendered(result: MatchResult) -> list[str]:
    texts = [unescape(reason_text(p.reasons)) for p in result.pairs]
    texts += [unescape(say(u.reason.key, **u.reason.values)) for u in result.unmatched]
    return texts


@FAST
@given(data=instances(with_pins=True), seed=st.integers(0, 1000))
def test_everyone_is_explained_with_the_right_reason(data: MatchInput, seed: int) -> None:
    feasible = feasible_matrix(data)
    for mode in MODES:
        result = run_matching(data, mode, seed, labels=topic_labels())  # type: ignore[arg-type]
        for pair in result.pairs:
            assert pair.reasons, pair
            for reason in pair.reasons:
                assert reason.key.startswith("matching.") and reason.key[len("matching."):] in MATCHING_KEYS
                assert say(reason.key, **reason.values)
        matched_e = {p.mentee for p in result.pairs}
        matched_o = {p.mentor for p in result.pairs}
        unmatched = {(u.role, u.participant_id): u for u in result.unmatched}
        assert len(unmatched) == len(result.unmatched), "someone is listed unmatched twice"
        for i, c in enumerate(data.mentees):
            assert (c.participant_id in matched_e) != (("mentee", c.participant_id) in unmatched), c.participant_id
            if c.participant_id in matched_e:
                continue
            reason = unmatched[("mentee", c.participant_id)].reason
            assert reason.key[len("matching."):] in MATCHING_KEYS and say(reason.key, **reason.values)
            assert reason.key == expected_unmatched_key(data, "mentee", i, bool(feasible[i].any())), (mode, i)
        for j, c in enumerate(data.mentors):
            assert (c.participant_id in matched_o) != (("mentor", c.participant_id) in unmatched), c.participant_id
            if c.participant_id in matched_o:
                continue
            reason = unmatched[("mentor", c.participant_id)].reason
            assert reason.key[len("matching."):] in MATCHING_KEYS and say(reason.key, **reason.values)
            assert reason.key == expected_unmatched_key(data, "mentor", j, bool(feasible[:, j].any())), (mode, j)


@FAST
@given(data=instances(), seed=st.integers(0, 1000))
def test_explanations_never_mention_gender_or_generation(data: MatchInput, seed: int) -> None:
    for c in (*data.mentees, *data.mentors):  # every value known, so a leak would show
        c.gender = c.gender or "non_binary"
        c.generation = c.generation or "boomer"
    data.weights.diversity_prefs["gender"] = "different" if seed % 2 else "same"
    data.weights.diversity_prefs["generation"] = "same" if seed % 2 else "different"
    for mode in MODES:
        result = run_matching(data, mode, seed, labels=topic_labels())  # type: ignore[arg-type]
        for text in rendered(result):
            words = set(re.findall(r"[a-z_\-]+", text.lower()))
            assert not words & PRIVATE_WORDS, text
        for pair in result.pairs:
            for reason in pair.reasons:
                assert "gender" not in str(reason.values) and "generation" not in str(reason.values)


# ----------------------------------------------------------------------------------------------------
# Targeted reasons
# ----------------------------------------------------------------------------------------------------

@FAST
@given(org=orgs(min_people=4, max_people=14), data=st.data())
def test_a_mentee_whose_every_possible_mentor_is_in_their_reporting_line_is_told_so(org: Org, data: st.DataObject
                                                                                    ) -> None:
    heads = [p for p in org.people if descendants(org, p)]
    assume(heads)
    head = data.draw(st.sampled_from(heads))
    line = descendants(org, head)
    if data.draw(st.booleans()):
        line += chain_above(head, org.managers)  # their own managers are in the line too
    chosen = data.draw(st.lists(st.sampled_from(line), min_size=1, max_size=4, unique=True))
    mentee = Candidate(participant_id=1, person_id=head, name="Head", seniority=9, time_zone="Europe/London")
    mentors = [Candidate(participant_id=10 + k, person_id=p, name=f"M{k}", seniority=1, time_zone="Europe/London",
                         capacity=data.draw(st.integers(1, 3))) for k, p in enumerate(chosen)]
    rules = Rules(seniority_gap=data.draw(st.integers(0, 2)), no_shared_manager=data.draw(st.booleans()),
                  min_overlap_minutes=60, reference_date=data.draw(st.sampled_from(DATES)))
    match = MatchInput(mentees=[mentee], mentors=mentors, managers=org.managers, rules=rules)
    for mode in MODES:
        result = run_matching(match, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == []
        reasons = {u.participant_id: u.reason.key for u in result.unmatched}
        assert reasons[1] == "matching.unmatched_offline"
        assert "reporting line" in say(reasons[1])


def test_a_senior_manager_is_never_paired_below_one_of_their_direct_reports() -> None:
    # 1 -> 2 -> 3 -> ... -> 14: a chain; 1 is the mentee, everyone below is junior and otherwise perfect.
    managers: dict[int, int | None] = {1: None, **{k: k - 1 for k in range(2, 15)}, 99: None}
    mentee = Candidate(participant_id=1, person_id=1, name="CEO", seniority=9, topics=frozenset({"ai_tools"}))
    mentors = [Candidate(participant_id=100 + k, person_id=k, name=f"M{k}", seniority=1, topics=frozenset({"ai_tools"}))
               for k in range(3, 15)]
    outsider = Candidate(participant_id=999, person_id=99, name="Out", seniority=8)  # poor score, but off-line
    data = MatchInput(mentees=[mentee], mentors=[*mentors, outsider], managers=managers,
                      rules=Rules(reference_date=DATES[0]), weights=Weights(topic=100, diversity=0, style=0))
    for mode in MODES:
        result = run_matching(data, mode, 3)  # type: ignore[arg-type]
        assert [(p.mentee, p.mentor) for p in result.pairs] == [(1, 999)]


TIME_CASES = [
    # (reference date, mentee zone, mentee hours, mentor zone, mentor hours, min overlap)
    (date(2025, 1, 15), "Australia/Sydney", "09:00-11:00", "Europe/London", "09:00-17:00", 30),
    (date(2025, 7, 1), "Asia/Kolkata", "09:00-13:00", "America/Los_Angeles", "09:00-17:00", 30),
    # New York is on daylight time from 9 March, London only from 30 March: no overlap in January ...
    (date(2025, 1, 15), "Europe/London", "09:00-17:00", "America/New_York", "12:00-16:00", 60),
    # ... and only half an hour in late October, when London is back on GMT and New York not yet.
    (date(2025, 10, 29), "Europe/London", "09:00-16:30", "America/New_York", "12:00-16:00", 60),
    (date(2025, 12, 1), "Australia/Sydney", "08:00-12:00", "America/Los_Angeles", "16:00-17:30", 61),  # 60 min
]


@pytest.mark.parametrize("day, zone_e, hours_e, zone_o, hours_o, minimum", TIME_CASES)
def test_a_mentee_without_overlapping_hours_is_told_so(day: date, zone_e: str, hours_e: str, zone_o: str,
                                                        hours_o: str, minimum: int) -> None:
    mentee = Candidate(participant_id=1, person_id=1, name="E", seniority=8, time_zone=zone_e, working_hours=hours_e)
    mentors = [Candidate(participant_id=10 + k, person_id=10 + k, name="O", seniority=2, time_zone=zone_o,
                         working_hours=hours_o) for k in range(3)]
    assert all(overlap(mentee, o, day) < minimum for o in mentors)  # our own clock agrees
    data = MatchInput(mentees=[mentee], mentors=mentors, managers={1: None, 10: None, 11: None, 12: None},
                      rules=Rules(min_overlap_minutes=minimum, reference_date=day))
    for mode in MODES:
        result = run_matching(data, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == []
        assert {u.participant_id: u.reason.key for u in result.unmatched}[1] == "matching.unmatched_time"


def test_the_same_hours_overlap_when_daylight_saving_brings_the_zones_closer() -> None:
    # 2025-03-20: New York on EDT (UTC-4), London still on GMT: 12:00-16:00 New York is 16:00-20:00 UTC.
    mentee = Candidate(participant_id=1, person_id=1, name="E", seniority=8, time_zone="Europe/London",
                       working_hours="09:00-17:00")
    mentor = Candidate(participant_id=2, person_id=2, name="O", seniority=2, time_zone="America/New_York",
                       working_hours="12:00-16:00")
    assert overlap(mentee, mentor, date(2025, 3, 20)) == 60
    data = MatchInput(mentees=[mentee], mentors=[mentor], managers={1: None, 2: None},
                      rules=Rules(min_overlap_minutes=60, reference_date=date(2025, 3, 20)))
    assert [(p.mentee, p.mentor) for p in run_matching(data).pairs] == [(1, 2)]
    data.rules = replace(data.rules, reference_date=date(2025, 1, 15))
    assert run_matching(data).pairs == []


@FAST
@given(data=instances(), pick=st.data())
def test_an_unfinished_intake_is_the_reason_given(data: MatchInput, pick: st.DataObject) -> None:
    assume(data.mentees and data.mentors)
    lazy_e = pick.draw(st.sets(st.sampled_from(range(len(data.mentees))), min_size=1))
    lazy_o = pick.draw(st.sets(st.sampled_from(range(len(data.mentors)))))
    for i in lazy_e:
        data.mentees[i].ready = False
    for j in lazy_o:
        data.mentors[j].ready = False
    for mode in MODES:
        result = run_matching(data, mode, 5)  # type: ignore[arg-type]
        reasons = {(u.role, u.participant_id): u.reason.key for u in result.unmatched}
        for i in lazy_e:
            assert reasons[("mentee", data.mentees[i].participant_id)] == "matching.unmatched_intake"
        for j in lazy_o:
            assert reasons[("mentor", data.mentors[j].participant_id)] == "matching.unmatched_intake"
        assert say("matching.unmatched_intake") == "intake not finished"


# ----------------------------------------------------------------------------------------------------
# Through the store: load_input reads back what was written, and the result still keeps every rule
# ----------------------------------------------------------------------------------------------------

TENANTS = itertools.count(1)


def write_programme(store: SqlStore, data: MatchInput) -> tuple[Programme, dict[int, int], dict[int, int]]:
    """Write ``data`` as a tenant's directory, an earlier cohort, a programme, participants, pins and forbids.

    Returns the programme and maps from the store's person and participant ids back to ``data``'s."""
    email = lambda person: f"p{person}@example.com"  # noqa: E731
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", f"t{next(TENANTS)}").id
    people = {c.person_id: c for c in (*data.mentees, *data.mentors)}

    def row(person: int, boss: int | None) -> DirectoryRow:
        c = people.get(person) or Candidate(participant_id=0, person_id=person, name="", seniority=5)
        return DirectoryRow(email=email(person), name=f"P{person}", seniority=c.seniority or 1,
                            department=c.department, division=c.division, location=c.location,
                            time_zone=c.time_zone, working_hours=c.working_hours, gender=c.gender,
                            manager_email=email(boss) if boss is not None else None)

    import_directory(store, tenant, [row(p, boss) for p, boss in data.managers.items()])
    rules = data.rules
    settings_ = ProgrammeSettings(seniority_gap=rules.seniority_gap, allow_peer=rules.allow_peer,
                                  no_shared_manager=rules.no_shared_manager,
                                  min_overlap_minutes=rules.min_overlap_minutes, participant_choice=data.uses_choice,
                                  allow_repeat_pairs=rules.allow_repeat, match_weights=data.weights.as_dict())
    assert rules.reference_date is not None
    with store.unit_of_work() as uow:
        earlier = new_programme(uow, tenant, "Earlier cohort", settings=settings_)
        programme = new_programme(uow, tenant, "This cohort", settings=settings_, starts_on=rules.reference_date,
                                  ends_on=rules.reference_date + timedelta(days=90))
    directory = directory_emails(store, tenant)
    rows = [ImportRow(line=2 + k, email=email(c.person_id), role="mentee", topics=tuple(sorted(c.topics)),
                      rankings=tuple(email(people_of[r]) for r in c.rankings))
            for people_of in [{o.participant_id: o.person_id for o in data.mentors}]
            for k, c in enumerate(data.mentees)]
    rows += [ImportRow(line=100 + k, email=email(c.person_id), role="mentor", capacity=c.capacity,
                       topics=tuple(sorted(c.topics))) for k, c in enumerate(data.mentors)]
    import_participants(store, programme.id, rows, directory, now)  # type: ignore[arg-type]
    person_back = {directory[email(p)]: p for p in data.managers}
    with store.unit_of_work() as uow:
        assert programme.id is not None and earlier.id is not None
        participants = {person_back[p.person_id]: p for p in uow.participants.in_programme(programme.id)}
        for c in (*data.mentees, *data.mentors):
            participant = participants[c.person_id]
            participant.intake = {**participant.intake, **c.style,
                                  **({"generation": c.generation} if c.generation else {})}
            participant.intake_completed_at = now if c.ready else None
            uow.participants.save(participant)
        by_pid = {c.participant_id: participants[c.person_id].id for c in (*data.mentees, *data.mentors)}
        for kind, pairs in (("forbid", sorted(rules.forbidden)), ("pin", rules.pins)):
            for mentee, mentor in pairs:
                uow.matching.add_rule(MatchRule(programme_id=programme.id, kind=kind,
                                                mentee_id=by_pid[mentee], mentor_id=by_pid[mentor]))
        old: dict[int, int] = {}
        for pair in sorted(sorted(p) for p in rules.previous):
            for person in pair:
                if person not in old:
                    old[person] = uow.participants.add(Participant(
                        programme_id=earlier.id, person_id=directory[email(person)], role=Role.MENTEE,
                        status=ParticipantStatus.ACTIVE)).id  # type: ignore[assignment]
            uow.matching.add_pair(MatchPair(programme_id=earlier.id, mentee_id=old[pair[0]],
                                            mentor_id=old[pair[1]], status=PairStatus.ENDED))
    participant_back = {v: k for k, v in by_pid.items()}
    return programme, person_back, participant_back



@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=instances(with_pins=True))
def test_load_input_reads_back_the_programme_and_every_rule_still_holds(store: SqlStore, data: MatchInput) -> None:
    assume({c.person_id for c in data.mentees}.isdisjoint({c.person_id for c in data.mentors}))
    programme, person_back, participant_back = write_programme(store, data)
    with store.unit_of_work() as uow:
        # The programme starts on the reference date, after "today": its start date is the one compared.
        loaded = load_input(uow, programme, data.rules.reference_date - timedelta(days=10))  # type: ignore[operator]

    def original(c: Candidate) -> tuple:
        return (c.participant_id, c.person_id, c.seniority, c.time_zone, c.working_hours, c.department,
                c.division, c.location, c.gender, c.generation, c.topics, c.style, c.capacity, c.rankings, c.ready)

    def mapped(c: Candidate) -> tuple:
        return (participant_back[c.participant_id], person_back[c.person_id], c.seniority, c.time_zone,
                c.working_hours, c.department, c.division, c.location, c.gender, c.generation, c.topics, c.style,
                c.capacity, tuple(participant_back[r] for r in c.rankings), c.ready)

    assert sorted(map(mapped, loaded.mentees)) == sorted(map(original, data.mentees))
    assert sorted(map(mapped, loaded.mentors)) == sorted(map(original, data.mentors))
    assert {person_back[p]: person_back.get(b) for p, b in loaded.managers.items()} == data.managers
    assert loaded.rules.reference_date == data.rules.reference_date
    assert {(participant_back[e], participant_back[o]) for e, o in loaded.rules.forbidden} == data.rules.forbidden
    assert [(participant_back[e], participant_back[o]) for e, o in loaded.rules.pins] == list(
        dict.fromkeys(data.rules.pins))
    assert {frozenset(person_back[p] for p in pair) for pair in loaded.rules.previous} == data.rules.previous
    assert loaded.weights.as_dict() == data.weights.as_dict() and loaded.uses_choice == data.uses_choice
    matrix = score(data).total
    for mode in MODES:
        result = run_matching(loaded, mode, 3)  # type: ignore[arg-type]
        assert_hard_rules(loaded, result)
    optimum = achieved(data, run_matching(data, "optimal"), matrix)
    from_store = achieved(loaded, run_matching(loaded, "optimal"), score(loaded).total)
    assert from_store[0] == optimum[0]
    assert from_store[1] == pytest.approx(optimum[1], abs=1e-3)  # scores are float32; they are shown to 0.1


# ----------------------------------------------------------------------------------------------------
# Regressions: bugs found by these properties, kept as tests
# ----------------------------------------------------------------------------------------------------

def test_two_reports_of_person_zero_share_a_manager() -> None:
    managers: dict[int, int | None] = {0: None, 1: 0, 2: 0}
    data = MatchInput(mentees=[Candidate(participant_id=10, person_id=1, name="E", seniority=5)],
                      mentors=[Candidate(participant_id=20, person_id=2, name="O", seniority=2)],
                      managers=managers, rules=Rules(no_shared_manager=True, reference_date=DATES[0]))
    assert broken_rules(data, data.mentees[0], data.mentors[0]) == ["shared_manager"]
    assert run_matching(data).pairs == []


def test_a_programme_with_nobody_in_it_matches_nobody() -> None:
    data = MatchInput(mentees=[], mentors=[], managers={1: None}, rules=Rules(reference_date=DATES[0]))
    for mode in MODES:
        result = run_matching(data, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == [] and result.unmatched == []


def test_working_hours_across_a_daylight_saving_change_are_measured_in_real_time() -> None:
    day = date(2025, 3, 30)
    mentee = Candidate(participant_id=10, person_id=1, name="E", seniority=5, time_zone="Europe/London",
                       working_hours="00:00-04:00")
    mentor = Candidate(participant_id=20, person_id=2, name="O", seniority=2, time_zone="UTC",
                       working_hours="03:00-05:00")
    assert overlap(mentee, mentor, day) == 0
    data = MatchInput(mentees=[mentee], mentors=[mentor], managers={1: None, 2: None},
                      rules=Rules(min_overlap_minutes=60, reference_date=day))
    assert run_matching(data).pairs == []


def test_a_mentor_ranked_twice_counts_as_the_first_choice() -> None:
    mentee = Candidate(participant_id=10, person_id=1, name="E", seniority=5, rankings=(20, 21, 20))
    mentors = [Candidate(participant_id=20, person_id=2, name="A", seniority=2),
               Candidate(participant_id=21, person_id=3, name="B", seniority=2)]
    data = MatchInput(mentees=[mentee], mentors=mentors, managers={1: None, 2: None, 3: None},
                      rules=Rules(reference_date=DATES[0]), uses_choice=True)
    for mode in ("optimal", "stable"):
        pairs = run_matching(data, mode).pairs  # type: ignore[arg-type]
        assert [(p.mentee, p.mentor) for p in pairs] == [(10, 20)], mode
        assert "the mentee's choice #1" in reason_text(pairs[0].reasons), mode

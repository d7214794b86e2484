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
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.matching.load import reason_text, topic_labels
from bot.matching.model import Candidate, MatchInput, MatchResult, Rules, Weights
from bot.matching.run import run_matching
from bot.matching.scoring import score
from bot.matching.solve import stable
from bot.wording import say, unescape
from matching_support import (
    CORE,
    DATES,
    FAST,
    MATCHING_KEYS,
    MODES,
    PRIVATE_WORDS,
    SLOW,
    TAGS,
    achieved,
    assert_hard_rules,
    broken_rules,
    exhaustive,
    expected_unmatched_key,
    feasible_matrix,
    index_pairs,
    instances,
    milp_optimum,
    reference_stable,
)

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
    mentees = [
        Candidate(
            participant_id=100 + i,
            person_id=1 + i,
            name="E",
            seniority=9,
            topics=frozenset(draw(st.lists(st.sampled_from(TAGS[:2]), min_size=1, max_size=2))),
        )
        for i in range(n)
    ]
    mentors = [
        Candidate(
            participant_id=200 + j,
            person_id=50 + j,
            name="O",
            seniority=1,
            topics=frozenset(draw(st.lists(st.sampled_from(TAGS[:2]), max_size=2))),
            capacity=draw(st.integers(1, 2)),
        )
        for j in range(m)
    ]
    forbidden = {(e.participant_id, o.participant_id) for e in mentees for o in mentors if draw(st.booleans())}
    return MatchInput(
        mentees=mentees,
        mentors=mentors,
        managers={c.person_id: None for c in (*mentees, *mentors)},
        rules=Rules(reference_date=DATES[0], forbidden=forbidden),
        weights=Weights(topic=100, diversity=0, style=0, choice=0),
    )


@CORE
@given(data=contention(), seed=st.integers(0, 1000))
def test_optimal_and_random_under_contention_equal_exhaustive_search(data: MatchInput, seed: int) -> None:
    matrix = score(data).total
    expected = exhaustive(feasible_matrix(data), matrix, [c.capacity for c in data.mentors])
    optimal = run_matching(data, "optimal")
    assert achieved(data, optimal, matrix)[0] == expected[0]
    assert achieved(data, optimal, matrix)[1] == pytest.approx(
        expected[1], abs=1e-3
    )  # scores are float32; they are shown to 0.1
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
    data = MatchInput(
        mentees=[a, b],
        mentors=[x, y],
        managers=managers,
        weights=Weights(topic=100, diversity=0, style=0),
        rules=Rules(reference_date=DATES[0], forbidden={(12, 22)}),
    )
    for mode in ("optimal", "random"):
        result = run_matching(data, mode, 4)
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


@CORE
@given(data=instances(max_people=18, max_mentees=8, max_mentors=6))
def test_stable_mode_gives_the_pairs_of_the_reference_deferred_acceptance(data: MatchInput) -> None:
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    rankings = [list(dict.fromkeys(index_o[r] for r in c.rankings if r in index_o)) for c in data.mentees]
    capacity = np.array([max(0, c.capacity) for c in data.mentors], dtype=np.int64)
    expected = reference_stable(feasible_matrix(data), score(data).total, capacity, rankings)
    assert sorted(index_pairs(data, run_matching(data, "stable"))) == expected


@st.composite
def stable_problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """Bare solver inputs with many equal scores (ties), mentors without room, and rankings of any mentor."""
    n, m = draw(st.integers(0, 12)), draw(st.integers(0, 80))  # past 64 mentors: the candidate lists refill
    allowed = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)), dtype=bool).reshape(n, m)
    levels = draw(st.sampled_from([[0.0, 1.0], [0.0, 2.5, 5.0, 97.5], [-0.0, 0.0, 50.0]]))
    values = draw(st.lists(st.sampled_from(levels), min_size=n * m, max_size=n * m))
    scores = np.array(values, dtype=np.float32).reshape(n, m)
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    ranked = st.lists(st.integers(0, m - 1), max_size=4, unique=True) if m else st.just([])
    return allowed, scores, capacity, [draw(ranked) for _ in range(n)]


@CORE
@given(problem=stable_problems())
def test_vectorised_deferred_acceptance_equals_the_reference_on_ties(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]],
) -> None:
    assert stable(*problem) == reference_stable(*problem)


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
    assert sum(matrix[i, j] for i, j in rest) == pytest.approx(
        expected[1], abs=1e-3
    )  # scores are float32; they are shown to 0.1


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
                assert reason.key.startswith("matching.") and reason.key[len("matching.") :] in MATCHING_KEYS
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
            assert reason.key[len("matching.") :] in MATCHING_KEYS and say(reason.key, **reason.values)
            assert reason.key == expected_unmatched_key(data, "mentee", i, bool(feasible[i].any())), (mode, i)
        for j, c in enumerate(data.mentors):
            assert (c.participant_id in matched_o) != (("mentor", c.participant_id) in unmatched), c.participant_id
            if c.participant_id in matched_o:
                continue
            reason = unmatched[("mentor", c.participant_id)].reason
            assert reason.key[len("matching.") :] in MATCHING_KEYS and say(reason.key, **reason.values)
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


@FAST
@given(data=instances(), reach=st.integers(1, 3))
def test_a_shorter_reach_only_ever_allows_more_pairs_and_names_itself(data: MatchInput, reach: int) -> None:
    import copy

    whole = copy.deepcopy(data)
    for c in (*whole.mentees, *whole.mentors):
        c.offline_depth = 0
    limited = copy.deepcopy(whole)
    for c in (*limited.mentees, *limited.mentors):
        c.offline_depth = reach
    assert not (feasible_matrix(whole) & ~feasible_matrix(limited)).any()
    result = run_matching(limited, "optimal")
    assert_hard_rules(limited, result)
    for pair in result.pairs:
        in_line = "offline" in broken_rules(
            whole,
            next(c for c in whole.mentees if c.participant_id == pair.mentee),
            next(c for c in whole.mentors if c.participant_id == pair.mentor),
        )
        assert in_line == any(r.key == "matching.reason_reach" for r in pair.reasons), pair


def test_the_matcher_imports_scipy_only_when_it_solves() -> None:
    check = "import sys, bot.matching.run, bot.services.matching; sys.exit('scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], check=False).returncode == 0

"""The block-wise matcher (issue #20) gives exactly what the whole-matrix matcher gave.

The hard rules, the scores and the optimal solve's cost matrix are now worked out block by block from
per-person arrays, and the optimal solve never builds the score matrix. Over random programmes (with
blocks cut as small as one row, so every block boundary is crossed), these tests compare them with the
previous implementation kept verbatim in ``matching_reference.py``: the same allowed cells, the same rule
named for each person left without a partner, the same float32 scores bit for bit, the same cost matrix,
so the same pairs. The narrow read of a programme from the store gives the same candidates as reading
its participants and people as domain records.
"""

from __future__ import annotations

import gc
from contextlib import ExitStack
from datetime import timedelta
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.matching import cost, rules, score_parts, scoring
from bot.matching.cost import optimal_cost_of
from bot.matching.load import candidate_of, load_input
from bot.matching.model import MatchInput, Mode
from bot.matching.rule_checks import ReportingLines
from bot.matching.rules import feasibility
from bot.matching.run import apply_pins, run_matching
from bot.matching.score_parts import score_parts as parts_of
from bot.matching.scoring import score
from bot.matching.solve import optimal_cost
from matching_reference import ReportingLines as ReferenceLines
from matching_reference import reference_feasibility, reference_optimal_cost, reference_score
from matching_store_support import write_programme
from matching_support import CORE, FAST, instances
from storage.store import SqlStore

cuts = st.fixed_dictionaries(
    {
        "rule_cells": st.integers(1, 40),
        "score_cells": st.integers(1, 40),
        "cost_cells": st.integers(1, 40),
        "table_rows": st.sampled_from([0, 1, 2, 256]),
    }
)


def small_blocks(cut: dict[str, int]) -> ExitStack:
    """Blocks of a few cells (down to one row), and tables for few or no dimensions, while it lasts."""
    stack = ExitStack()
    stack.enter_context(mock.patch.object(rules, "_CELLS", cut["rule_cells"]))
    stack.enter_context(mock.patch.object(scoring, "_CELLS", cut["score_cells"]))
    stack.enter_context(mock.patch.object(cost, "_CELLS", cut["cost_cells"]))
    stack.enter_context(mock.patch.object(score_parts, "_TABLE_ROWS", cut["table_rows"]))
    return stack


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@CORE
@given(data=instances(max_people=16, max_mentees=8, max_mentors=6, max_capacity=3, with_pins=True), cut=cuts)
def test_rules_scores_and_cost_matrix_are_exactly_the_whole_matrix_ones(data: MatchInput, cut: dict[str, int]) -> None:
    with small_blocks(cut):
        found = feasibility(data)
        parts = parts_of(data)
        scores = score(data, parts).total
        expected = reference_feasibility(data)
        assert np.array_equal(found.allowed, expected.allowed)
        assert found.mentee_blocked_by == expected.mentee_blocked_by
        assert found.mentor_blocked_by == expected.mentor_blocked_by
        assert same_bits(scores, reference_score(data))

        allowed = found.allowed.copy()
        capacity, _ = apply_pins(data, allowed)
        built, whole = optimal_cost_of(allowed, parts, capacity), optimal_cost(allowed, scores, capacity)
        reference = reference_optimal_cost(allowed, scores, capacity)
    if reference is None:
        assert built is None and whole is None
        return
    assert built is not None and whole is not None
    for matrix in (built, whole):
        assert same_bits(matrix.cost, reference[0])
        assert np.array_equal(matrix.rows, reference[1]) and np.array_equal(matrix.slots, reference[2])
        assert matrix.transposed == reference[3]
    cells = np.argwhere(np.ones(scores.shape, dtype=bool))
    assert same_bits(parts.at(cells[:, 0], cells[:, 1]), scores.reshape(-1))  # one pair at a time: the same


@FAST
@given(data=instances(max_people=16, max_mentees=8, max_mentors=6, max_capacity=3, with_pins=True), cut=cuts)
def test_every_mode_pairs_and_scores_as_with_the_whole_score_matrix(data: MatchInput, cut: dict[str, int]) -> None:
    with small_blocks(cut):
        modes: tuple[Mode, ...] = ("optimal", "stable", "random")
        found = {mode: run_matching(data, mode, 7) for mode in modes}
    scores = reference_score(data)
    for result in found.values():
        index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
        index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
        for pair in result.pairs:
            assert pair.score == round(float(scores[index_e[pair.mentee], index_o[pair.mentor]]), 1)
    allowed = reference_feasibility(data).allowed
    capacity, pinned = apply_pins(data, allowed)
    reference = reference_optimal_cost(allowed, scores, capacity)
    expected = set(pinned)
    if reference is not None:
        from scipy.optimize import linear_sum_assignment

        first, second = linear_sum_assignment(reference[0])
        rows, slots = (second, first) if reference[3] else (first, second)
        mentees, mentors = reference[1][rows], reference[2][slots]
        keep = allowed[mentees, mentors]
        expected |= {(int(i), int(j)) for i, j in zip(mentees[keep], mentors[keep], strict=True)}
    pairs = {(data.mentees[i].participant_id, data.mentors[j].participant_id) for i, j in expected}
    assert {(p.mentee, p.mentor) for p in found["optimal"].pairs} == pairs


@st.composite
def organisations(draw: st.DrawFn) -> dict[int, int | None]:
    """Managers of up to 30 people, with loops, people managing themselves and managers nobody knows."""
    people = draw(st.lists(st.integers(1, 60), unique=True, max_size=30))
    bosses = st.none() | st.sampled_from(people) | st.integers(61, 70) if people else st.none()
    return {person: draw(bosses) for person in people}


@CORE
@given(managers=organisations(), extra=st.lists(st.integers(1, 75), max_size=5))
def test_the_tour_of_the_organisation_finds_the_same_reporting_lines(
    managers: dict[int, int | None], extra: list[int]
) -> None:
    people = [*managers, *extra]
    enter, leave, level = ReportingLines.of(managers).arrays(people)
    old = ReferenceLines(managers)
    old_enter, old_leave = (a.astype(np.int32) for a in old.arrays(people))
    assert np.array_equal(level, old.levels(people))
    assert np.array_equal(enter < 0, old_enter < 0) and np.array_equal(leave < 0, old_leave < 0)
    below = (enter[:, None] < enter[None, :]) & (leave[None, :] <= leave[:, None])
    old_below = (old_enter[:, None] < old_enter[None, :]) & (old_leave[None, :] <= old_leave[:, None])
    assert np.array_equal(below, old_below)


def test_a_run_pauses_the_garbage_collector_only_while_it_runs() -> None:
    data = MatchInput(mentees=[], mentors=[], managers={})
    assert gc.isenabled()
    run_matching(data, "optimal")
    assert gc.isenabled()
    gc.disable()
    try:
        run_matching(data, "optimal")
        assert not gc.isenabled()  # whoever paused it decides when it resumes
    finally:
        gc.enable()


@settings(
    deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=instances(with_pins=True))
def test_the_narrow_read_gives_the_candidates_the_domain_records_give(store: SqlStore, data: MatchInput) -> None:
    assume({c.person_id for c in data.mentees}.isdisjoint({c.person_id for c in data.mentors}))
    programme, _, _ = write_programme(store, data)
    with store.unit_of_work() as uow:
        assert data.rules.reference_date is not None
        loaded = load_input(uow, programme, data.rules.reference_date - timedelta(days=10))
        for candidate in [*loaded.mentees, *loaded.mentors]:
            participant = uow.participants.get(candidate.participant_id)
            assert participant is not None
            assert candidate == candidate_of(uow.people, programme, participant, candidate.capacity)
    assert len(loaded.mentees) == len(data.mentees) and len(loaded.mentors) == len(data.mentors)

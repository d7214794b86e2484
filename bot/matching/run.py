"""One matching run: rules, scores, pins, the solve, and an explanation for everyone.

The stable solve needs every score at once; the optimal solve works out each block of scores as it
builds its cost matrix (``cost.optimal_cost_of``), so its "scores" stage only prepares the per-person
arrays and its "solve" stage includes the scoring. A chosen pair's score is worked out again on its own,
with the same float32 operations, so it is the value the solve saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bot.matching import solve
from bot.matching.collector import collector_paused
from bot.matching.cost import optimal_cost_of
from bot.matching.model import MatchInput, MatchResult, Mode, Pair, Reason, Unmatched
from bot.matching.rules import feasibility
from bot.matching.score_parts import score_parts
from bot.matching.scoring import explain, score

Progress = Callable[[str], None]

_MENTEE_REASONS = {
    "intake": "matching.unmatched_intake",
    "reverse": "matching.unmatched_mentee_reverse",
    "offline": "matching.unmatched_offline",
    "shared_manager": "matching.unmatched_shared_manager",
    "time": "matching.unmatched_time",
    "excluded": "matching.unmatched_excluded",
    "no_mentors": "matching.unmatched_no_mentors",
}
_MENTOR_REASONS = {
    "intake": "matching.unmatched_intake",
    "reverse": "matching.unmatched_mentor_reverse",
    "offline": "matching.unmatched_offline",
    "shared_manager": "matching.unmatched_shared_manager",
    "time": "matching.unmatched_time",
    "excluded": "matching.unmatched_excluded",
    "no_mentees": "matching.unmatched_no_mentees",
}


def run_matching(
    data: MatchInput,
    mode: Mode = "optimal",
    seed: int | None = None,
    labels: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> MatchResult:
    """Match ``data`` under every hard rule and explain every pair and every unmatched person."""
    with collector_paused():
        return _run(data, mode, seed, labels, progress)


def _run(
    data: MatchInput, mode: Mode, seed: int | None, labels: dict[str, str] | None, progress: Progress | None
) -> MatchResult:
    report = progress or (lambda _stage: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    report("rules")
    feasible = feasibility(data)
    timings["rules"] = time.perf_counter() - started

    mark = time.perf_counter()
    report("scores")
    parts = score_parts(data)
    full = score(data, parts).total if mode == "stable" else None  # the optimal solve scores block by block
    timings["scores"] = time.perf_counter() - mark

    mark = time.perf_counter()
    report("solve")
    allowed = feasible.allowed  # pins clear their mentee's row here: the feasibility is not used again
    capacity, pinned = apply_pins(data, allowed)
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    if full is not None:
        rankings = [list(dict.fromkeys(index_o[r] for r in c.rankings if r in index_o)) for c in data.mentees]
        chosen = solve.stable(allowed, full, capacity, rankings)
    elif mode == "random":
        chosen = solve.optimal(allowed, solve.random_scores(allowed.shape, seed or 0), capacity)
    else:
        chosen = solve.assign(allowed, optimal_cost_of(allowed, parts, capacity))
    timings["solve"] = time.perf_counter() - mark

    mark = time.perf_counter()
    report("explanations")
    labels = labels or {}
    pinned_pairs = set(pinned)
    every = sorted([*pinned, *chosen])
    rows, cols = np.array([i for i, _ in every], dtype=np.int64), np.array([j for _, j in every], dtype=np.int64)
    taken = [float(v) for v in (full[rows, cols] if full is not None else parts.at(rows, cols))]
    pairs = [
        Pair(
            mentee=data.mentees[i].participant_id,
            mentor=data.mentors[j].participant_id,
            score=round(value, 1),
            reasons=explain(data, data.mentees[i], data.mentors[j], labels),
            pinned=(i, j) in pinned_pairs,
        )
        for (i, j), value in zip(every, taken, strict=True)
    ]
    matched_e = {p.mentee for p in pairs}
    load: dict[int, int] = {}
    for p in pairs:
        load[p.mentor] = load.get(p.mentor, 0) + 1
    unmatched = [
        Unmatched(c.participant_id, "mentee", mentee_reason(data, feasible.mentee_blocked_by[i], i))
        for i, c in enumerate(data.mentees)
        if c.participant_id not in matched_e
    ]
    unmatched += [
        Unmatched(c.participant_id, "mentor", mentor_reason(data, feasible.mentor_blocked_by[j], j))
        for j, c in enumerate(data.mentors)
        if c.participant_id not in load and c.capacity > 0
    ]
    timings["explanations"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return MatchResult(mode=mode, seed=seed, pairs=pairs, unmatched=unmatched, timings=timings)


def apply_pins(data: MatchInput, allowed: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Keep every feasible pin (a mentee's first, while the mentor has room): each takes one unit of its
    mentor's capacity and clears its mentee's row of ``allowed`` (in place). Returns (capacity left, pins)."""
    capacity = np.array([max(0, c.capacity) for c in data.mentors], dtype=np.int64)
    index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    pinned: list[tuple[int, int]] = []
    for mentee, mentor in data.rules.pins:
        i, j = index_e.get(mentee), index_o.get(mentor)
        if i is None or j is None or not allowed[i, j] or capacity[j] <= 0 or i in {p for p, _ in pinned}:
            continue
        pinned.append((i, j))
        capacity[j] -= 1
        allowed[i, :] = False
    return capacity, pinned


def mentee_reason(data: MatchInput, blocked_by: str | None, i: int) -> Reason:
    candidate = data.mentees[i]
    if blocked_by is None:
        return Reason("matching.unmatched_capacity")
    if blocked_by == "intake" and candidate.ready:
        return Reason("matching.unmatched_others_not_ready")
    if blocked_by == "intake" and candidate.waiting_for == "onboarding":
        return Reason("matching.unmatched_onboarding")
    if blocked_by == "reverse" and candidate.seniority is None:
        return Reason("matching.unmatched_seniority_unknown")
    return Reason(_MENTEE_REASONS[blocked_by])


def mentor_reason(data: MatchInput, blocked_by: str | None, j: int) -> Reason:
    candidate = data.mentors[j]
    if blocked_by is None:
        return Reason("matching.unmatched_mentor_not_needed")
    if blocked_by == "intake" and candidate.ready:
        return Reason("matching.unmatched_others_not_ready")
    if blocked_by == "intake" and candidate.waiting_for == "onboarding":
        return Reason("matching.unmatched_onboarding")
    if blocked_by == "reverse" and candidate.seniority is None:
        return Reason("matching.unmatched_seniority_unknown")
    return Reason(_MENTOR_REASONS[blocked_by])

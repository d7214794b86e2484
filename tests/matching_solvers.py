"""Independent solvers for the matching property tests: the optimum by exhaustive search and by a MILP
formulation, the (pairs, total score) a result achieved, and the deferred acceptance
bot/matching/solve.py used before it was vectorised."""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from bot.matching.model import MatchInput, MatchResult
from matching_hard_rules import index_pairs


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

"""The three ways to choose pairs, each under every hard rule.

* ``optimal``: as many mentees matched as possible, then the highest total score, exactly. Mentors are
  expanded into one column per unit of capacity and the rectangular assignment problem is solved with
  SciPy's ``linear_sum_assignment``; disallowed cells cost more than any allowed one, so a solution
  that uses one is never better than leaving that mentee unmatched, and such cells are dropped.
* ``stable``: mentee-proposing deferred acceptance with capacities. Mentees rank mentors by their own
  ranking first, then by score; mentors rank mentees by score. No mentee and mentor would both rather
  have each other than what they got.
* ``random``: the optimal solve on random scores from a seeded generator: reproducible, maximal in size,
  and still under every hard rule.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def optimal(allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """(mentee, mentor) index pairs maximising first the number of pairs, then the total score."""
    n, m = allowed.shape
    if n == 0 or m == 0 or capacity.sum() == 0:
        return []
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0) & (capacity > 0))
    if rows.size == 0 or cols.size == 0:
        return []
    slots = np.repeat(cols, capacity[cols])
    big = 100.0 * (rows.size + 1) + 1.0  # one more pair is worth more than any score difference
    whole = rows.size == n and slots.size == m and bool((slots == np.arange(m)).all())
    cost = np.array(scores if whole else scores[np.ix_(rows, slots)], dtype=np.float64)  # one float64 matrix
    np.clip(cost, 0.0, 100.0, out=cost)
    np.subtract(big, cost, out=cost)
    cost[~(allowed if whole else allowed[np.ix_(rows, slots)])] = 2.0 * big
    chosen_rows, chosen_slots = linear_sum_assignment(cost)
    del cost
    keep = allowed[rows[chosen_rows], slots[chosen_slots]]
    return [(int(rows[r]), int(slots[c])) for r, c in zip(chosen_rows[keep], chosen_slots[keep], strict=True)]


def stable(
    allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray, rankings: list[list[int]]
) -> list[tuple[int, int]]:
    """Mentee-proposing deferred acceptance; ``rankings[i]`` lists mentor indexes mentee i ranked, best first."""
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


def random_scores(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Reproducible random scores for the random mode."""
    return np.random.default_rng(seed).random(shape) * 100.0

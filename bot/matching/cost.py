"""The cost matrix of the optimal solve, built once, in blocks of mentees.

Mentors are expanded into one column ("slot") per unit of capacity; only mentees and mentors with some
allowed partner are kept. Disallowed cells cost more than any allowed one (``2 * big``, ``big`` being worth
more than any difference of scores), so a solution using one is never better than leaving its mentee
unmatched. The matrix is built either from a full score matrix (:func:`optimal_cost`) or straight from the
per-person score arrays (:func:`optimal_cost_of`), block by block, with the very same values: the optimal
solve then never holds a float32 score matrix beside the float64 cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.matching.score_parts import ScoreParts

_CELLS = 1 << 17
"""About how many cells of the cost matrix are built together (their temporaries stay in cache)."""


@dataclass
class CostMatrix:
    """The assignment problem of the optimal solve, ready for ``linear_sum_assignment``."""

    cost: np.ndarray
    """float64, C-contiguous; never more rows than columns (SciPy would make a transposed copy)."""
    rows: np.ndarray
    """The mentee index of each mentee line."""
    slots: np.ndarray
    """The mentor index of each unit of capacity."""
    transposed: bool
    """True when ``cost`` is slots x mentees rather than mentees x slots."""


def _fill(target: np.ndarray, part: np.ndarray, fits: np.ndarray, big: float) -> None:
    """``target`` (float64) = ``big`` less the score where allowed, ``2 * big`` elsewhere; ``part`` (float32,
    scores clipped to 0-100 here) is overwritten."""
    np.clip(part, 0.0, 100.0, out=part)
    big32 = np.float32(big)
    if float(big32) == big:  # without branches (a random mask is slow): score where allowed, -big elsewhere
        np.multiply(part, fits, out=part)
        part -= np.multiply(~fits, big32, dtype=np.float32)
        np.subtract(big, part, out=target, dtype=np.float64)
    else:
        np.subtract(big, part, out=target, dtype=np.float64)
        np.putmask(target, ~fits, 2.0 * big)


Blocks = Callable[[np.ndarray, np.ndarray, bool], np.ndarray]
"""(mentees, slots, every slot) -> float32 scores of those mentees against the slots."""
SwappedBlocks = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(mentors, mentees) -> float32 scores of those mentors (rows) against the mentees (columns)."""


def _build(allowed: np.ndarray, capacity: np.ndarray, block_of: Blocks, swapped_of: SwappedBlocks) -> CostMatrix | None:
    """The cost matrix, a block of its rows at a time: mentees x slots, or slots x mentees when there are
    more mentees (a block of mentors then, each row repeated for each of their slots)."""
    n, m = allowed.shape
    if n == 0 or m == 0 or capacity.sum() == 0:
        return None
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0) & (capacity > 0))
    if rows.size == 0 or cols.size == 0:
        return None
    slots = np.repeat(cols, capacity[cols])
    big = 100.0 * (rows.size + 1) + 1.0  # one more pair is worth more than any score difference
    transposed = rows.size > slots.size
    cost = np.empty((slots.size, rows.size) if transposed else (rows.size, slots.size), dtype=np.float64)
    if not transposed:
        every_slot = slots.size == m and bool((slots == np.arange(m)).all())
        step = max(1, _CELLS // slots.size)
        for start in range(0, rows.size, step):
            block = rows[start : start + step]
            fits = allowed[block] if every_slot else allowed[block][:, slots]
            _fill(cost[start : start + block.size], block_of(block, slots, every_slot), fits, big)
        return CostMatrix(cost=cost, rows=rows, slots=slots, transposed=False)
    fits_t = np.ascontiguousarray(allowed[rows][:, cols].T)
    counts = capacity[cols]
    ends = np.cumsum(counts)
    step = max(1, _CELLS // rows.size)
    for start in range(0, cols.size, step):
        stop = min(start + step, cols.size)
        part, fits = swapped_of(cols[start:stop], rows), fits_t[start:stop]
        if (counts[start:stop] != 1).any():
            part, fits = np.repeat(part, counts[start:stop], axis=0), np.repeat(fits, counts[start:stop], axis=0)
        _fill(cost[ends[start] - counts[start] : ends[stop - 1]], part, fits, big)
    return CostMatrix(cost=cost, rows=rows, slots=slots, transposed=True)


def optimal_cost(allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray) -> CostMatrix | None:
    """The cost matrix of the optimal solve from a full score matrix (None when no pair is possible)."""

    def block_of(block: np.ndarray, slots: np.ndarray, every_slot: bool) -> np.ndarray:
        part: np.ndarray = scores[block]
        return part if every_slot else part[:, slots]

    def swapped_of(mentors: np.ndarray, mentees: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(scores[np.ix_(mentees, mentors)].T)

    return _build(allowed, np.asarray(capacity), block_of, swapped_of)


def optimal_cost_of(allowed: np.ndarray, parts: ScoreParts, capacity: np.ndarray) -> CostMatrix | None:
    """The same cost matrix as :func:`optimal_cost` on ``parts``' scores, without the score matrix: each block's
    scores are worked out for its mentees against the slots (or against the mentors, then spread to their
    slots, when mentors have several), or for its mentors against the mentees when transposed."""
    prepared: dict[str, ScoreParts] = {}

    def block_of(block: np.ndarray, slots: np.ndarray, every_slot: bool) -> np.ndarray:
        if every_slot:
            return parts.block(block)
        if slots.size <= parts.width:  # about one slot per mentor: score the slots themselves
            if "slots" not in prepared:
                prepared["slots"] = parts.on_columns(slots)
            return prepared["slots"].block(block)
        return np.take(parts.block(block), slots, axis=1)

    def swapped_of(mentors: np.ndarray, mentees: np.ndarray) -> np.ndarray:
        if "swapped" not in prepared:
            prepared["swapped"] = parts.swapped(mentees)
        return prepared["swapped"].block(mentors)

    return _build(allowed, np.asarray(capacity), block_of, swapped_of)

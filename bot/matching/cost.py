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
_TRANSPOSED_ROWS = 64
"""At least this many mentees per block when the matrix is transposed (each writes a run of a row)."""


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


def _build(
    allowed: np.ndarray, capacity: np.ndarray, block_of: Callable[[np.ndarray, np.ndarray, bool], np.ndarray]
) -> CostMatrix | None:
    """The cost matrix, with ``block_of(mentees, slots, every_slot)`` giving the float32 scores of a block."""
    n, m = allowed.shape
    if n == 0 or m == 0 or capacity.sum() == 0:
        return None
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0) & (capacity > 0))
    if rows.size == 0 or cols.size == 0:
        return None
    slots = np.repeat(cols, capacity[cols])
    big = 100.0 * (rows.size + 1) + 1.0  # one more pair is worth more than any score difference
    every_slot = slots.size == m and bool((slots == np.arange(m)).all())
    transposed = rows.size > slots.size
    cost = np.empty((slots.size, rows.size) if transposed else (rows.size, slots.size), dtype=np.float64)
    step = max(_TRANSPOSED_ROWS if transposed else 1, _CELLS // slots.size)
    for start in range(0, rows.size, step):
        block = rows[start : start + step]
        fits = allowed[block] if every_slot else allowed[block][:, slots]
        target = cost[:, start : start + block.size].T if transposed else cost[start : start + block.size]
        _fill(target, block_of(block, slots, every_slot), fits, big)
    return CostMatrix(cost=cost, rows=rows, slots=slots, transposed=transposed)


def optimal_cost(allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray) -> CostMatrix | None:
    """The cost matrix of the optimal solve from a full score matrix (None when no pair is possible)."""

    def block_of(block: np.ndarray, slots: np.ndarray, every_slot: bool) -> np.ndarray:
        part: np.ndarray = scores[block]
        return part if every_slot else part[:, slots]

    return _build(allowed, np.asarray(capacity), block_of)


def optimal_cost_of(allowed: np.ndarray, parts: ScoreParts, capacity: np.ndarray) -> CostMatrix | None:
    """The same cost matrix as :func:`optimal_cost` on ``parts``' scores, without the score matrix: each block's
    scores are worked out for its mentees against the slots (or against the mentors, then spread to their
    slots, when mentors have several)."""
    by_slot: dict[int, ScoreParts] = {}

    def block_of(block: np.ndarray, slots: np.ndarray, every_slot: bool) -> np.ndarray:
        if every_slot:
            return parts.block(block)
        if slots.size <= parts.width:  # about one slot per mentor: score the slots themselves
            if not by_slot:
                by_slot[0] = parts.on_columns(slots)
            return by_slot[0].block(block)
        return np.take(parts.block(block), slots, axis=1)

    return _build(allowed, np.asarray(capacity), block_of)

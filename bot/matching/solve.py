"""The three ways to choose pairs, each under every hard rule.

* ``optimal``: as many mentees matched as possible, then the highest total score, exactly. Mentors are
  expanded into one column per unit of capacity and the rectangular assignment problem is solved with
  SciPy's ``linear_sum_assignment``; disallowed cells cost more than any allowed one, so a solution
  that uses one is never better than leaving that mentee unmatched, and such cells are dropped.
* ``stable``: mentee-proposing deferred acceptance with capacities, vectorised with NumPy (all free
  mentees propose at once; each mentee's next candidates are worked out only when needed, skipping
  mentors who would reject them). Mentees rank mentors by their own ranking first, then by score;
  mentors rank mentees by score; equal scores go to the lower index. No mentee and mentor would both
  rather have each other than what they got.
* ``random``: the optimal solve on random scores from a seeded generator: reproducible, maximal in size,
  and still under every hard rule.
"""

from __future__ import annotations

import numpy as np

from bot.matching.cost import CostMatrix, optimal_cost

__all__ = ["CostMatrix", "assign", "optimal", "optimal_cost", "random_scores", "stable"]


def optimal(allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """(mentee, mentor) index pairs maximising first the number of pairs, then the total score."""
    return assign(allowed, optimal_cost(allowed, scores, capacity))


def assign(allowed: np.ndarray, built: CostMatrix | None) -> list[tuple[int, int]]:
    """The (mentee, mentor) index pairs of the cheapest assignment of ``built`` (its allowed cells only)."""
    from scipy.optimize import linear_sum_assignment  # heavy (about 80 MiB): imported only when a run needs it

    if built is None:
        return []
    first, second = linear_sum_assignment(built.cost)
    chosen_rows, chosen_slots = (second, first) if built.transposed else (first, second)
    mentees, mentors = built.rows[chosen_rows], built.slots[chosen_slots]
    keep = allowed[mentees, mentors]
    return [(int(i), int(j)) for i, j in zip(mentees[keep], mentors[keep], strict=True)]


_WIDTH = 64
"""How many next candidates a mentee's preference list holds at a time (refilled from the scores when used up)."""
_BLOCK = 512
"""Mentees whose next candidates are worked out together (bounds the temporaries to a few tens of MiB)."""
_LOWEST = np.iinfo(np.int64).min
_HIGHEST = np.iinfo(np.int64).max


def _order_keys(values: np.ndarray) -> np.ndarray:
    """float32 scores as int64 keys in the same order (-0.0 counts as 0.0), shifted to leave 32 low bits free."""
    bits: np.ndarray = np.add(values, np.float32(0.0), dtype=np.float32).view(np.int32)
    bits ^= (bits >> 31) & np.int32(0x7FFFFFFF)  # negative floats: flip all but the sign bit
    keys: np.ndarray = bits.astype(np.int64)
    keys <<= 32
    return keys


def stable(
    allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray, rankings: list[list[int]]
) -> list[tuple[int, int]]:
    """Mentee-proposing deferred acceptance; ``rankings[i]`` lists mentor indexes mentee i ranked, best first.

    Mentees prefer the mentors they ranked (in order), then higher scores, then the lower index; mentors
    prefer higher scores, then the lower index. Both orders are strict, so the mentee-optimal stable
    matching is unique and every proposal order finds it: here all free mentees propose at once, round
    after round. A mentor who would reject a mentee now rejects them for good (a full mentor only ever
    trades up), so a mentee skips such mentors without proposing, and only their next few candidates
    are kept (``_WIDTH``), computed from the score row when used up."""
    n, m = allowed.shape
    if n == 0 or m == 0:
        return []
    scores = np.asarray(scores, dtype=np.float32)
    capacity = np.asarray(capacity, dtype=np.int64)
    open_cols = capacity > 0
    width = max(_WIDTH, max((len(r) for r in rankings), default=0))
    queue = np.full((n, width), -1, dtype=np.int64)
    for i, ranked in enumerate(rankings):
        queue[i, : len(ranked)] = ranked
    position = np.zeros(n, dtype=np.int64)
    last = np.full(n, _HIGHEST, dtype=np.int64)  # preference key of the last candidate taken from scores
    exhausted = np.zeros(n, dtype=bool)
    threshold = np.full(m, _LOWEST, dtype=np.int64)  # a full mentor's key of their worst held mentee
    held = np.full(n, -1, dtype=np.int64)
    low_j = np.int64(0xFFFFFFFF) - np.arange(m, dtype=np.int64)  # lower index first on equal scores

    def mentor_key(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return _order_keys(scores[i, j]) | (np.int64(0xFFFFFFFF) - i)

    def refill(rows: np.ndarray) -> None:
        for start in range(0, rows.size, _BLOCK):
            block = rows[start : start + _BLOCK]
            keys = _order_keys(scores[block])
            ok = allowed[block]
            ok &= open_cols[None, :]
            if threshold.max() > _LOWEST:  # some mentor is full: leave out those who would reject
                ok &= (keys | (np.int64(0xFFFFFFFF) - block)[:, None]) > threshold[None, :]
            keys |= low_j[None, :]
            if (last[block] < _HIGHEST).any():  # past the first fill: only what comes after the last taken
                ok &= keys < last[block][:, None]
            np.copyto(keys, _LOWEST, where=~ok)
            count = ok.sum(axis=1)
            del ok
            if m > _WIDTH:
                top = np.argpartition(keys, m - _WIDTH, axis=1)[:, m - _WIDTH :]
            else:
                top = np.broadcast_to(np.arange(m), (block.size, m))
            best = np.take_along_axis(keys, top, axis=1)
            order = np.argsort(best, axis=1)[:, ::-1]  # best first; keys in a row differ (low bits: the index)
            top = np.take_along_axis(top, order, axis=1)
            best = np.take_along_axis(best, order, axis=1)
            top[best == _LOWEST] = -1
            queue[block] = -1
            queue[block, : top.shape[1]] = top
            position[block] = 0
            exhausted[block] = count <= _WIDTH
            taken = np.minimum(count, _WIDTH) - 1
            has = taken >= 0
            last[block[has]] = best[has, taken[has]]

    free = np.arange(n, dtype=np.int64)
    while free.size:
        lists = queue[free]
        column = np.where(lists >= 0, lists, 0)
        ok = (lists >= 0) & (np.arange(width)[None, :] >= position[free][:, None])
        ok &= allowed[free[:, None], column] & open_cols[column]
        ok &= mentor_key(np.broadcast_to(free[:, None], column.shape), column) > threshold[column]
        first = ok.argmax(axis=1)
        found = ok[np.arange(free.size), first]
        proposers, targets = free[found], lists[found, first[found]]
        position[proposers] = first[found] + 1
        stuck = free[~found]
        again = stuck[~exhausted[stuck]]
        refill(again)
        touched = np.zeros(m, dtype=bool)
        touched[targets] = True
        holders = np.flatnonzero((held >= 0) & touched[np.maximum(held, 0)])
        who = np.concatenate([holders, proposers])
        where = np.concatenate([held[holders], targets])
        keys = mentor_key(who, where)
        order = np.lexsort((-keys, where))
        who, where, keys = who[order], where[order], keys[order]
        starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
        rank = np.arange(where.size) - np.repeat(starts, np.diff(np.r_[starts, where.size]))
        keep = rank < capacity[where]
        held[who[~keep]] = -1
        held[who[keep]] = where[keep]
        worst = rank == capacity[where] - 1
        threshold[where[worst]] = keys[worst]
        free = np.concatenate([who[~keep], again])
    return sorted((int(i), int(held[i])) for i in np.flatnonzero(held >= 0))


def random_scores(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Reproducible random scores for the random mode."""
    return np.random.default_rng(seed).random(shape) * 100.0

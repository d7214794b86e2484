"""The hard rules as a boolean mentee x mentor matrix, never broken whatever the weights.

Rules are applied in a fixed order so that an unmatched person's reason names the first rule that left
them without any possible partner. All rules are worked out together, block by block of mentees
(``rule_checks``), so no temporary is larger than a block; only the people left without any partner at
the end are checked again rule by rule, to find the rule that left them so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bot.matching.model import MatchInput
from bot.matching.rule_checks import RULE_ORDER, ReportingLines, RuleArrays, checks, overlap_minutes, rule_arrays

__all__ = ["RULE_ORDER", "Feasibility", "ReportingLines", "feasibility", "overlap_minutes"]

_CELLS = 1 << 19
"""About how many cells one block of the rules covers (a few hundred KiB of booleans per temporary)."""


@dataclass
class Feasibility:
    allowed: np.ndarray
    """n_mentees x n_mentors: True where every hard rule holds."""
    mentee_blocked_by: list[str | None]
    """Per mentee: the first rule after which no mentor was left (None if some mentor is allowed)."""
    mentor_blocked_by: list[str | None]


def _blocks(count: int, width: int) -> Iterator[np.ndarray]:
    step = max(1, _CELLS // max(width, 1))
    for start in range(0, count, step):
        yield np.arange(start, min(start + step, count))


def _steps(
    a: RuleArrays, rows: np.ndarray, cols: np.ndarray | None, shape: tuple[int, int]
) -> Iterator[tuple[str, np.ndarray]]:
    """For a block: each rule in turn, and where it and every rule before it hold (one matrix, changed in
    place from one rule to the next: read it before asking for the next)."""
    held: np.ndarray | None = None
    for rule, holds, (r, c) in checks(a, rows, cols, shape):
        if holds is None:
            if held is None:
                held = np.ones((rows.size, shape[1] if cols is None else cols.size), dtype=bool)
        elif held is None:
            held = holds
        else:
            np.logical_and(held, holds, out=held)
        held[r, c] = False
        yield rule, held


def _first_rules(
    a: RuleArrays, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray
) -> tuple[list[str | None], list[str | None]]:
    """For the mentees ``rows`` and the mentors ``cols`` left without any partner: the first rule in
    ``RULE_ORDER`` after which they had none (checked again, rule by rule, over their whole row or column)."""
    n, m = shape
    first_e: list[str | None] = [None] * rows.size
    for block in _blocks(rows.size, m):
        for rule, held in _steps(a, rows[block], None, shape):
            for k in np.flatnonzero(~held.any(axis=1)):
                if first_e[block[k]] is None:
                    first_e[block[k]] = rule
    alive: dict[str, np.ndarray] = {}
    if cols.size:
        for block in _blocks(n, cols.size):
            for rule, held in _steps(a, block, cols, shape):
                found = np.asarray(held.any(axis=0))
                alive[rule] = found if rule not in alive else alive[rule] | found
    first_o: list[str | None] = [None] * cols.size
    for rule, found in reversed(alive.items()):  # the earliest rule that left them without anyone wins
        for k in np.flatnonzero(~found):
            first_o[k] = rule
    return first_e, first_o


def feasibility(data: MatchInput) -> Feasibility:
    """Apply every hard rule, recording which rule left each person without a partner.

    Memory stays at one byte per mentee x mentor cell plus one block's temporaries."""
    n, m = len(data.mentees), len(data.mentors)
    shape = (n, m)
    allowed = np.empty(shape, dtype=bool)
    mentee_blocked: list[str | None] = [None] * n
    mentor_blocked: list[str | None] = [None] * m
    if n == 0 or m == 0:
        allowed = np.zeros(shape, dtype=bool)
        return Feasibility(allowed, ["no_mentors"] * n if m == 0 else [], ["no_mentees"] * m if n == 0 else [])
    a = rule_arrays(data)
    for block in _blocks(n, m):
        *_, (_last, held) = _steps(a, block, None, shape)  # where every rule holds
        allowed[block[0] : block[-1] + 1] = held
    dead_e = np.flatnonzero(~allowed.any(axis=1))
    dead_o = np.flatnonzero(~allowed.any(axis=0))
    if dead_e.size or dead_o.size:
        first_e, first_o = _first_rules(a, shape, dead_e, dead_o)
        for i, rule in zip(dead_e, first_e, strict=True):
            mentee_blocked[i] = rule
        for j, rule in zip(dead_o, first_o, strict=True):
            mentor_blocked[j] = rule
    return Feasibility(allowed=allowed, mentee_blocked_by=mentee_blocked, mentor_blocked_by=mentor_blocked)

"""The soft preferences as per-person arrays, built once, evaluated for any block of mentees x mentors.

Every cell's score is the same sequence of float32 operations wherever it is worked out (a block of the
whole matrix, a block of the optimal solve's cost matrix, or one chosen pair): the topic fit first, then
each diversity dimension, each style question, and the ranked choice, in that order. So a score never
depends on how the matrix was cut, and the full matrix need not exist for the optimal solve.

A diversity dimension or style question where mentees give few distinct answers is a small table (one
row of mentor values per answer) whose rows are copied into the block; otherwise the answers are compared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from operator import attrgetter

import numpy as np

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput

FLEXIBLE_STYLES = {"mix", "either"}
_TABLE_ROWS = 256
"""At most this many distinct mentee answers make a dimension a table (else it is compared cell by cell)."""


def codes_of(values: list[str | None]) -> np.ndarray:
    """Each value as a small integer (equal after trimming and lower-casing), -1 for no value; each distinct
    value is normalised once, in order of first appearance."""
    lookup: dict[str, int] = {}
    code = {v: -1 if not v else lookup.setdefault(v.strip().lower(), len(lookup)) for v in dict.fromkeys(values)}
    return np.fromiter(map(code.__getitem__, values), dtype=np.int32, count=len(values))


def rankings_of(candidate: Candidate) -> list[int]:
    """A mentee's ranking without repeats: a mentor listed twice counts at their first place."""
    seen: list[int] = []
    for mentor in candidate.rankings:
        if mentor not in seen:
            seen.append(mentor)
    return seen[:3]


def weight_shares(data: MatchInput) -> list[tuple[str, float]]:
    """Each soft preference's share of 100 points under the programme's weights."""
    weights = data.weights
    parts = [("topic", weights.topic), ("diversity", weights.diversity), ("style", weights.style)]
    if data.uses_choice:
        parts.append(("choice", weights.choice))
    total = sum(w for _, w in parts) or 1.0
    return [(name, 100.0 * w / total) for name, w in parts]


@dataclass
class Part:
    """One diversity dimension or style question: ``share`` where the two agree, half of it where either
    answer is unknown, nothing otherwise."""

    code_e: np.ndarray
    code_o: np.ndarray
    same: bool
    """Agreeing means equal answers (else different ones)."""
    flexible_e: np.ndarray | None
    """Style questions: who answered that either way suits them (they agree with anyone)."""
    flexible_o: np.ndarray | None
    share: np.float32
    table: np.ndarray | None = None
    """Distinct mentee answers x mentors: the part's value (float32), when there are few answers."""
    key_e: np.ndarray | None = None
    """Each mentee's row of ``table``."""

    def agree(self, e: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Whether mentee codes ``e`` and mentor codes ``o`` (broadcast together) agree."""
        agree: np.ndarray = np.equal(e, o) if self.same else np.not_equal(e, o)
        return agree

    def tabulate(self) -> Part:
        """This part with its table, if mentees give few distinct answers."""
        flexible_e = self.flexible_e if self.flexible_e is not None else np.zeros(self.code_e.size, dtype=bool)
        keys = self.code_e.astype(np.int64) * 2 + flexible_e
        distinct, key_e = np.unique(keys, return_inverse=True)
        if distinct.size > _TABLE_ROWS:
            return self
        codes, flexible = distinct // 2, (distinct % 2).astype(bool)
        agree = self.agree(codes[:, None], self.code_o[None, :])
        agree |= flexible[:, None]
        if self.flexible_o is not None:
            agree |= self.flexible_o[None, :]
        table = np.multiply(agree, self.share, dtype=np.float32)
        half = np.float32(0.5) * self.share
        table[codes < 0, :] = half
        table[:, self.code_o < 0] = half
        return replace(self, table=table, key_e=key_e.reshape(-1))

    def swapped(self, cols_e: np.ndarray) -> Part:
        """This part with mentors as rows and the mentees ``cols_e`` as columns (agreeing is symmetric)."""
        flexible_e = None if self.flexible_e is None else self.flexible_e[cols_e]
        swapped = Part(self.code_o, self.code_e[cols_e], self.same, self.flexible_o, flexible_e, self.share)
        return swapped.tabulate()

    def on_columns(self, cols: np.ndarray) -> Part:
        """This part for the mentors ``cols`` (repeats allowed) instead of every mentor."""
        flexible_o = None if self.flexible_o is None else self.flexible_o[cols]
        table = None if self.table is None else np.ascontiguousarray(self.table[:, cols])
        return replace(self, code_o=self.code_o[cols], flexible_o=flexible_o, table=table)

    def add_block(self, total: np.ndarray, rows: np.ndarray) -> None:
        """``total`` (the block of mentees ``rows`` x every mentor) plus this part."""
        if self.table is not None and self.key_e is not None:
            total += self.table[self.key_e[rows]]
            return
        e = self.code_e[rows]
        agree = self.agree(e[:, None], self.code_o[None, :])
        if self.flexible_e is not None and self.flexible_o is not None:
            agree[self.flexible_e[rows], :] = True
            agree[:, self.flexible_o] = True
        part = np.multiply(agree, self.share, dtype=np.float32)
        half = np.float32(0.5) * self.share
        part[e < 0, :] = half
        part[:, self.code_o < 0] = half
        total += part

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """This part's value for the cells (``rows[k]``, ``cols[k]``)."""
        e, o = self.code_e[rows], self.code_o[cols]
        agree = self.agree(e, o)
        if self.flexible_e is not None and self.flexible_o is not None:
            agree |= self.flexible_e[rows] | self.flexible_o[cols]
        value: np.ndarray = np.multiply(agree, self.share, dtype=np.float32)
        value[(e < 0) | (o < 0)] = np.float32(0.5) * self.share
        return value


@dataclass
class ScoreParts:
    """Everything the scores are made of, per person; ``width`` mentor columns (mentors, or their places)."""

    width: int
    learn: np.ndarray | None
    """Mentees' topics as bit masks (None when topics weigh nothing)."""
    teach: np.ndarray | None
    per_tag: np.ndarray | None
    """Points per shared topic, per mentee (float32)."""
    parts: list[Part]
    choice: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(row, column, points) of each ranked choice, at most one per cell, by row."""
    per_tag_by_column: bool = False
    """True when the rows are mentors and the columns mentees (``per_tag`` is then per column)."""

    def swapped(self, cols_e: np.ndarray) -> ScoreParts:
        """The same scores with the mentors as rows and the mentees ``cols_e`` (ascending) as columns."""
        chosen_e, chosen_o, points = self.choice
        at = np.searchsorted(cols_e, chosen_e)
        kept = at < cols_e.size
        kept[kept] = cols_e[at[kept]] == chosen_e[kept]
        order = np.argsort(chosen_o[kept], kind="stable")
        return ScoreParts(
            width=cols_e.size,
            learn=self.teach,
            teach=None if self.learn is None else self.learn[cols_e],
            per_tag=None if self.per_tag is None else self.per_tag[cols_e],
            parts=[part.swapped(cols_e) for part in self.parts],
            choice=(chosen_o[kept][order], at[kept][order], points[kept][order]),
            per_tag_by_column=True,
        )

    def on_columns(self, cols: np.ndarray) -> ScoreParts:
        """The same scores with ``cols`` (mentor indexes, repeats allowed) as the columns."""
        chosen_e, chosen_o, points = self.choice
        where: dict[int, list[int]] = {}
        for k, j in enumerate(cols.tolist()):
            where.setdefault(j, []).append(k)
        picks = [(k, p) for k, j in enumerate(chosen_o.tolist()) for p in where.get(j, ())]
        take = np.array([k for k, _ in picks], dtype=np.int64)
        return ScoreParts(
            width=cols.size,
            learn=self.learn,
            teach=None if self.teach is None else self.teach[cols],
            per_tag=self.per_tag,
            parts=[part.on_columns(cols) for part in self.parts],
            choice=(chosen_e[take], np.array([p for _, p in picks], dtype=np.int64), points[take]),
        )

    def block(self, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The scores of the mentees ``rows`` (ascending) against every column, float32."""
        if self.learn is not None and self.teach is not None and self.per_tag is not None:
            shared = np.bitwise_count(self.learn[rows][:, None] & self.teach[None, :])
            per_tag = self.per_tag[None, :] if self.per_tag_by_column else self.per_tag[rows][:, None]
            total: np.ndarray = np.multiply(shared, per_tag, dtype=np.float32, out=out)
        else:
            total = np.zeros((rows.size, self.width), dtype=np.float32) if out is None else out
            total[...] = 0
        for part in self.parts:
            part.add_block(total, rows)
        chosen_e, chosen_o, points = self.choice
        if chosen_e.size and rows.size:
            lo, hi = np.searchsorted(chosen_e, [rows[0], rows[-1] + 1])
            if hi > lo:
                local = np.searchsorted(rows, chosen_e[lo:hi])
                found = rows[np.minimum(local, rows.size - 1)] == chosen_e[lo:hi]
                total[local[found], chosen_o[lo:hi][found]] += points[lo:hi][found]
        return total

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The scores of the cells (``rows[k]``, ``cols[k]``), float32: the same values as in a block."""
        if self.learn is not None and self.teach is not None and self.per_tag is not None:
            shared = np.bitwise_count(self.learn[rows] & self.teach[cols])
            total: np.ndarray = np.multiply(shared, self.per_tag[rows], dtype=np.float32)
        else:
            total = np.zeros(rows.size, dtype=np.float32)
        for part in self.parts:
            total += part.at(rows, cols)
        chosen_e, chosen_o, points = self.choice
        if chosen_e.size and rows.size:
            lookup = {(int(i), int(j)): float(p) for i, j, p in zip(chosen_e, chosen_o, points, strict=True)}
            for k, cell in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
                if cell in lookup:
                    total[k] += np.float32(lookup[cell])
        return total


def _mask_type(tags: int) -> type[np.unsignedinteger]:
    for kind in (np.uint8, np.uint16, np.uint32):
        if tags <= np.iinfo(kind).bits:
            return kind
    return np.uint64


def score_parts(data: MatchInput) -> ScoreParts:
    """Every soft preference of ``data``, weighted, ready to be evaluated block by block."""
    mentees, mentors, weights = data.mentees, data.mentors, data.weights
    n, m = len(mentees), len(mentors)
    factor = dict(weight_shares(data))
    nothing = np.zeros(0, dtype=np.int64)
    if n == 0 or m == 0:
        return ScoreParts(m, None, None, None, [], (nothing, nothing, np.zeros(0, dtype=np.float32)))
    everyone = [*mentees, *mentors]
    tags = sorted({t for c in everyone for t in c.topics})
    if len(tags) > 63:
        raise ValueError("at most 63 distinct topic tags can be matched")
    learn = teach = per_tag = None
    if factor["topic"]:
        bit = {tag: 1 << i for i, tag in enumerate(tags)}
        mask = {topics: sum(bit[t] for t in topics) for topics in {c.topics for c in everyone}}
        masks = np.fromiter((mask[c.topics] for c in everyone), dtype=np.uint64, count=n + m)
        learn, teach = masks[:n].astype(_mask_type(len(tags))), masks[n:].astype(_mask_type(len(tags)))
        wanted = np.maximum(np.bitwise_count(masks[:n]), 1).astype(np.float32)
        per_tag = factor["topic"] / wanted

    parts: list[Part] = []
    counted = [d for d in DIVERSITY_DIMENSIONS if weights.diversity_prefs.get(d, "ignore") != "ignore"]
    if factor["diversity"] and counted:
        share = np.float32(factor["diversity"] / len(counted))
        for dimension in counted:
            codes = codes_of(list(map(attrgetter(dimension), everyone)))
            same = weights.diversity_prefs[dimension] == "same"
            parts.append(Part(codes[:n], codes[n:], same, None, None, share))
    if factor["style"]:
        share = np.float32(factor["style"] / len(STYLE_KEYS))
        for key in STYLE_KEYS:
            values = [c.style.get(key) for c in everyone]
            codes = codes_of(values)
            flexible = np.array([(v or "") in FLEXIBLE_STYLES for v in values], dtype=bool)
            parts.append(Part(codes[:n], codes[n:], True, flexible[:n], flexible[n:], share))

    cells: list[tuple[int, int, np.float32]] = []
    if data.uses_choice and factor.get("choice"):
        index_o = {c.participant_id: j for j, c in enumerate(mentors)}
        for i, mentee in enumerate(mentees):
            for rank, mentor in enumerate(rankings_of(mentee)):
                if mentor in index_o:
                    cells.append((i, index_o[mentor], np.float32(factor["choice"] * (1.0 - rank / 3))))
    choice = (
        np.array([i for i, _, _ in cells], dtype=np.int64),
        np.array([j for _, j, _ in cells], dtype=np.int64),
        np.array([p for _, _, p in cells], dtype=np.float32),
    )
    return ScoreParts(m, learn, teach, per_tag, [part.tabulate() for part in parts], choice)

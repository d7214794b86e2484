"""The matcher's rules, scores and optimal cost matrix as they were before they were worked out in blocks
(issue #20), kept verbatim so that property tests can check that the block-wise versions give exactly the
same matrices, reasons and pairs. Not used by the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput


@dataclass
class Feasibility:
    allowed: np.ndarray
    mentee_blocked_by: list[str | None]
    mentor_blocked_by: list[str | None]


class ReportingLines:
    """Ancestor tests in O(1) through an Euler tour of the whole organisation (iterative: deep trees are fine)."""

    def __init__(self, managers: dict[int, int | None]) -> None:
        children: dict[int | None, list[int]] = {}
        for person, manager in managers.items():
            children.setdefault(manager if manager in managers else None, []).append(person)
        self.enter: dict[int, int] = {}
        self.leave: dict[int, int] = {}
        self.level: dict[int, int] = {}
        clock = 0
        stack: list[tuple[int, bool, int]] = [(root, False, 0) for root in reversed(children.get(None, []))]
        while stack:
            node, done, level = stack.pop()
            if done:
                self.leave[node] = clock
                continue
            self.enter[node] = clock
            self.level[node] = level
            clock += 1
            stack.append((node, True, level))
            stack.extend((child, False, level + 1) for child in reversed(children.get(node, [])))
        self.manager = managers

    def arrays(self, people: list[int]) -> tuple[np.ndarray, np.ndarray]:
        enter = np.array([self.enter.get(p, -1) for p in people], dtype=np.int64)
        leave = np.array([self.leave.get(p, -1) for p in people], dtype=np.int64)
        return enter, leave

    def levels(self, people: list[int]) -> np.ndarray:
        """Each person's level in the organisation (0 at the top)."""
        return np.array([self.level.get(p, 0) for p in people], dtype=np.int32)


@lru_cache(maxsize=4096)
def utc_window(time_zone: str, working_hours: str, day: date) -> tuple[int, int]:
    """Working hours as (start minute of the UTC day, length in minutes) on ``day``."""
    start_text, _, end_text = working_hours.partition("-")
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, datetime.strptime(start_text, "%H:%M").time(), zone)
    end = datetime.combine(day, datetime.strptime(end_text, "%H:%M").time(), zone)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    # Subtract in UTC: two times in one zone subtract on the wall clock, wrong on daylight-saving days.
    return start_utc.hour * 60 + start_utc.minute, int((end_utc - start_utc).total_seconds() // 60)


def overlap_minutes(mentees: list[Candidate], mentors: list[Candidate], day: date) -> np.ndarray:
    """Minutes of working-hours overlap for every mentee x mentor, on a 24-hour circle.

    Worked out once per distinct pair of UTC windows (an organisation has few), then spread to every cell."""
    a = np.array([utc_window(c.time_zone, c.working_hours, day) for c in mentees], dtype=np.int16).reshape(-1, 2)
    b = np.array([utc_window(c.time_zone, c.working_hours, day) for c in mentors], dtype=np.int16).reshape(-1, 2)
    windows_a, which_a = np.unique(a, axis=0, return_inverse=True)
    windows_b, which_b = np.unique(b, axis=0, return_inverse=True)
    start_a, end_a = windows_a[:, 0:1], windows_a[:, 0:1] + windows_a[:, 1:2]
    best = np.zeros((len(windows_a), len(windows_b)), dtype=np.int16)
    for shift in (-1440, 0, 1440):
        start_b = (windows_b[:, 0] + np.int16(shift))[None, :]
        end_b = start_b + windows_b[:, 1][None, :]
        overlap = np.minimum(end_a, end_b)
        overlap -= np.maximum(start_a, start_b)
        np.maximum(best, overlap, out=best)
    return best[which_a.reshape(-1)][:, which_b.reshape(-1)]


def _boss(managers: dict[int, int | None], person: int, missing: int) -> int:
    manager = managers.get(person)
    return missing if manager is None else manager


def reference_feasibility(data: MatchInput) -> Feasibility:
    """Apply every hard rule, recording which rule left each person without a partner.

    Each rule is applied to one boolean matrix in place and then dropped, so memory stays at about one
    byte per mentee x mentor cell plus one rule's temporaries."""
    mentees, mentors, rules = data.mentees, data.mentors, data.rules
    n, m = len(mentees), len(mentors)
    allowed = np.ones((n, m), dtype=bool)
    mentee_blocked: list[str | None] = [None] * n
    mentor_blocked: list[str | None] = [None] * m
    alive: list[npt.NDArray[np.bool_]] = [np.ones(n, dtype=bool), np.ones(m, dtype=bool)]

    def apply(name: str, check: np.ndarray) -> None:
        np.logical_and(allowed, check, out=allowed)
        now_e, now_o = np.asarray(allowed.any(axis=1)), np.asarray(allowed.any(axis=0))
        for i in np.flatnonzero(alive[0] & ~now_e):
            mentee_blocked[i] = name
        for j in np.flatnonzero(alive[1] & ~now_o):
            mentor_blocked[j] = name
        alive[0], alive[1] = now_e, now_o

    ready_e = np.array([c.ready for c in mentees], dtype=bool)
    ready_o = np.array([c.ready for c in mentors], dtype=bool)
    apply("intake", ready_e[:, None] & ready_o[None, :])

    gap = 0 if rules.allow_peer else rules.seniority_gap
    sen_e = np.array([c.seniority if c.seniority is not None else -(10**6) for c in mentees], dtype=np.int32)
    sen_o = np.array([c.seniority if c.seniority is not None else 10**6 for c in mentors], dtype=np.int32)
    apply("reverse", sen_o[None, :] <= sen_e[:, None] - gap)

    lines = ReportingLines(data.managers)
    enter_e, leave_e = (a.astype(np.int32) for a in lines.arrays([c.person_id for c in mentees]))
    enter_o, leave_o = (a.astype(np.int32) for a in lines.arrays([c.person_id for c in mentors]))
    # Someone below a person is excluded down to that person's reach (0: the whole subtree).
    level_e, level_o = lines.levels([c.person_id for c in mentees]), lines.levels([c.person_id for c in mentors])
    reach_e = np.array([c.offline_depth if c.offline_depth > 0 else 10**6 for c in mentees], dtype=np.int32)
    reach_o = np.array([c.offline_depth if c.offline_depth > 0 else 10**6 for c in mentors], dtype=np.int32)
    inside = (enter_e[:, None] < enter_o[None, :]) & (leave_o[None, :] <= leave_e[:, None])
    inside &= level_o[None, :] <= (level_e + reach_e)[:, None]  # at most reach_e levels below the mentee
    below = (enter_o[None, :] < enter_e[:, None]) & (leave_e[:, None] <= leave_o[None, :])
    below &= level_e[:, None] <= (level_o + reach_o)[None, :]
    inside |= below
    del below
    inside |= np.array([c.person_id for c in mentees])[:, None] == np.array([c.person_id for c in mentors])[None, :]
    np.logical_not(inside, out=inside)
    apply("offline", inside)
    del inside

    if rules.no_shared_manager:
        boss_e = np.array([_boss(data.managers, c.person_id, -1) for c in mentees], dtype=np.int64)
        boss_o = np.array([_boss(data.managers, c.person_id, -2) for c in mentors], dtype=np.int64)
        apply("shared_manager", boss_e[:, None] != boss_o[None, :])

    day = rules.reference_date or datetime.now(UTC).date()
    apply("time", overlap_minutes(mentees, mentors, day) >= rules.min_overlap_minutes)

    excluded = np.ones((n, m), dtype=bool)
    index_e = {c.participant_id: i for i, c in enumerate(mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(mentors)}
    for mentee, mentor in rules.forbidden:
        if mentee in index_e and mentor in index_o:
            excluded[index_e[mentee], index_o[mentor]] = False
    if not rules.allow_repeat and rules.previous:
        person_e = {c.person_id: i for i, c in enumerate(mentees)}
        person_o = {c.person_id: j for j, c in enumerate(mentors)}
        for pair in rules.previous:
            a, b = tuple(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
            for x, y in ((a, b), (b, a)):
                if x in person_e and y in person_o:
                    excluded[person_e[x], person_o[y]] = False
    apply("excluded", excluded)
    del excluded
    if m == 0:
        mentee_blocked = ["no_mentors"] * n
    if n == 0:
        mentor_blocked = ["no_mentees"] * m
    return Feasibility(allowed=allowed, mentee_blocked_by=mentee_blocked, mentor_blocked_by=mentor_blocked)


FLEXIBLE_STYLES = {"mix", "either"}
_ROWS = 1024
"""Mentee rows scored together where a step needs a temporary wider than the float32 total."""


def _codes(values: list[str | None]) -> np.ndarray:
    lookup: dict[str, int] = {}
    return np.array(
        [-1 if not v else lookup.setdefault(v.strip().lower(), len(lookup)) for v in values], dtype=np.int32
    )


def _rankings(candidate: Candidate) -> list[int]:
    """A mentee's ranking without repeats: a mentor listed twice counts at their first place."""
    seen: list[int] = []
    for mentor in candidate.rankings:
        if mentor not in seen:
            seen.append(mentor)
    return seen[:3]


def _weights(data: MatchInput) -> list[tuple[str, float]]:
    weights = data.weights
    parts = [("topic", weights.topic), ("diversity", weights.diversity), ("style", weights.style)]
    if data.uses_choice:
        parts.append(("choice", weights.choice))
    total = sum(w for _, w in parts) or 1.0
    return [(name, 100.0 * w / total) for name, w in parts]


def _add_part(
    total: np.ndarray, agree: np.ndarray, unknown_e: np.ndarray, unknown_o: np.ndarray, share: np.float32
) -> None:
    """``total`` plus ``share`` where mentee and mentor agree, or half of it where either side is unknown
    (whatever ``agree`` says there). One row block at a time: the float part never exists whole."""
    half = np.float32(0.5) * share
    for start in range(0, total.shape[0], _ROWS):
        rows = slice(start, start + _ROWS)
        part = np.multiply(agree[rows], share, dtype=np.float32)
        part[unknown_e[rows], :] = half
        part[:, unknown_o] = half
        total[rows] += part
        del part


def reference_score(data: MatchInput) -> np.ndarray:
    """Every soft preference for every mentee x mentor, combined by the programme's weights."""
    mentees, mentors, weights = data.mentees, data.mentors, data.weights
    n, m = len(mentees), len(mentors)
    total = np.zeros((n, m), dtype=np.float32)
    if n == 0 or m == 0:
        return total
    factor = dict(_weights(data))
    everyone = [*mentees, *mentors]

    tags = sorted({t for c in everyone for t in c.topics})
    if len(tags) > 63:
        raise ValueError("at most 63 distinct topic tags can be matched")
    bit = {tag: np.uint64(1) << np.uint64(i) for i, tag in enumerate(tags)}
    masks = np.zeros(n + m, dtype=np.uint64)
    for i, c in enumerate(everyone):
        for t in c.topics:
            masks[i] |= bit[t]
    learn, teach = masks[:n], masks[n:]
    wanted = np.maximum(np.bitwise_count(learn), 1).astype(np.float32)
    if factor["topic"]:
        per_tag = (factor["topic"] / wanted)[:, None]
        for start in range(0, n, _ROWS):  # in row blocks: the shared-tag counts never exist whole
            rows = slice(start, start + _ROWS)
            shared = np.bitwise_count(learn[rows, None] & teach[None, :]).astype(np.float32)
            shared *= per_tag[rows]
            total[rows] += shared
            del shared

    counted = [d for d in DIVERSITY_DIMENSIONS if weights.diversity_prefs.get(d, "ignore") != "ignore"]
    if factor["diversity"] and counted:
        share = np.float32(factor["diversity"] / len(counted))
        for dimension in counted:
            codes = _codes([getattr(c, dimension) for c in everyone])
            a, b = codes[:n][:, None], codes[n:][None, :]
            agree = (a == b) if weights.diversity_prefs[dimension] == "same" else (a != b)
            _add_part(total, agree, codes[:n] < 0, codes[n:] < 0, share)
            del agree

    if factor["style"]:
        share = np.float32(factor["style"] / len(STYLE_KEYS))
        for key in STYLE_KEYS:
            values = [c.style.get(key) for c in everyone]
            codes = _codes(values)
            flexible = np.array([(v or "") in FLEXIBLE_STYLES for v in values], dtype=bool)
            agree = codes[:n][:, None] == codes[n:][None, :]
            agree[flexible[:n], :] = True
            agree[:, flexible[n:]] = True
            _add_part(total, agree, codes[:n] < 0, codes[n:] < 0, share)
            del agree

    if data.uses_choice and factor.get("choice"):
        index_o = {c.participant_id: j for j, c in enumerate(mentors)}
        for i, mentee in enumerate(mentees):
            for rank, mentor in enumerate(_rankings(mentee)):
                if mentor in index_o:
                    total[i, index_o[mentor]] += np.float32(factor["choice"] * (1.0 - rank / 3))
    return total


_COST_ROWS = 512
"""Mentee rows of the cost matrix built together."""


def reference_optimal_cost(
    allowed: np.ndarray, scores: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None:
    """The cost matrix of the optimal solve (None when no pair is possible), built in one float64 pass."""
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
    big32 = np.float32(big)
    exact = float(big32) == big  # then disallowed cells come out at exactly 2 * big either way
    cost = np.empty((slots.size, rows.size) if transposed else (rows.size, slots.size), dtype=np.float64)
    for start in range(0, rows.size, _COST_ROWS):  # a block of mentees at a time: no float32 copy of it all
        block = rows[start : start + _COST_ROWS]
        part, fits = scores[block], allowed[block]
        if not every_slot:
            part, fits = part[:, slots], fits[:, slots]
        np.clip(part, 0.0, 100.0, out=part)
        target = cost[:, start : start + block.size].T if transposed else cost[start : start + block.size]
        if exact:  # without branches (a random mask is slow): score where allowed, -big elsewhere, then big - it
            np.multiply(part, fits, out=part)
            part -= np.multiply(~fits, big32, dtype=np.float32)
            np.subtract(big, part, out=target, dtype=np.float64)
        else:
            np.subtract(big, part, out=target, dtype=np.float64)
            np.putmask(target, ~fits, 2.0 * big)
    return cost, rows, slots, transposed

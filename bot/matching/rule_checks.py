"""The hard rules over blocks of mentee x mentor cells, from per-person arrays built once per run.

:func:`rule_arrays` turns both sides into NumPy arrays (readiness, seniority, places in the reporting tree,
managers, working-hours windows) and the rare pairs a rule names one by one (the same person on both sides,
forbidden and earlier pairs) into cell lists. :func:`checks` then yields each rule's verdict for any block of
mentees and mentors, in ``RULE_ORDER``, without a temporary larger than the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from bot.matching.model import Candidate, MatchInput

RULE_ORDER = ("intake", "reverse", "offline", "shared_manager", "time", "excluded")
_FAR = 10**6
"""A seniority or reach that no real one comes near."""

Cells = tuple[np.ndarray, np.ndarray]
"""(mentee indexes, mentor indexes) of single cells."""


@dataclass
class ReportingLines:
    """Everyone's place on a depth-first tour of the organisation, worked out with NumPy level by level: a
    person's reports are exactly those who entered the tour after them and left it no later (ancestor tests
    in O(1), however deep the tree). People whose chain of managers loops never reach the top: they are
    outside the organisation (-1), as are people the directory does not know."""

    ids: np.ndarray
    """Every person id of the organisation, ascending."""
    enter: np.ndarray
    leave: np.ndarray
    level: np.ndarray
    """0 at the top."""

    @classmethod
    def of(cls, managers: dict[int, int | None]) -> ReportingLines:
        """The tour of the organisation ``managers`` describes (person id -> manager's id)."""
        count = len(managers)
        ids = np.fromiter(managers.keys(), dtype=np.int64, count=count)
        has_boss = np.fromiter((b is not None for b in managers.values()), dtype=bool, count=count)
        boss = np.fromiter((b if b is not None else 0 for b in managers.values()), dtype=np.int64, count=count)
        order = np.argsort(ids, kind="stable")
        ids, has_boss, boss = ids[order], has_boss[order], boss[order]
        parent = np.minimum(np.searchsorted(ids, boss), max(count - 1, 0))
        parent = np.where(has_boss & (ids[parent] == boss), parent, -1) if count else parent
        # Pointer jumping: after k rounds each person knows the ancestor 2**k above (or that the top is nearer).
        jump, depth = parent.copy(), (parent >= 0).astype(np.int64)
        for _ in range(max(1, count).bit_length() + 1):
            up = jump >= 0
            if not up.any():
                break
            above = jump[up]
            depth[up] += depth[above]
            jump[up] = jump[above]
        inside = jump < 0  # the rest sit in or below a loop of managers
        depth = np.where(inside, depth, -1)
        order = np.argsort(depth, kind="stable")  # outside first, then the top, then each level below
        bounds = np.searchsorted(depth[order], np.arange(depth.max(initial=-1) + 2))
        levels = [order[bounds[d] : bounds[d + 1]] for d in range(bounds.size - 1)]
        size = inside.astype(np.int64)
        for nodes in reversed(levels[1:]):  # subtree sizes, from the bottom up
            np.add.at(size, parent[nodes], size[nodes])
        enter = np.full(count, -1, dtype=np.int64)
        for d, nodes in enumerate(levels):  # places on the tour, from the top down: after earlier siblings
            nodes = nodes[np.argsort(parent[nodes], kind="stable")]
            before = np.cumsum(size[nodes]) - size[nodes]
            first = np.r_[True, parent[nodes][1:] != parent[nodes][:-1]]
            before -= np.maximum.accumulate(np.where(first, before, 0))
            enter[nodes] = before if d == 0 else enter[parent[nodes]] + 1 + before
        leave = np.where(inside, enter + size, -1)
        return cls(ids=ids, enter=enter, leave=leave, level=np.maximum(depth, 0).astype(np.int32))

    def arrays(self, people: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each person's entry on the tour, exit and level (-1, -1 and 0 for someone outside it)."""
        wanted = np.fromiter(people, dtype=np.int64, count=len(people))
        if self.ids.size == 0:
            outside = np.full(wanted.size, -1, dtype=np.int32)
            return outside, outside.copy(), np.zeros(wanted.size, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.ids, wanted), self.ids.size - 1)
        known = self.ids[at] == wanted
        enter = np.where(known, self.enter[at], -1).astype(np.int32)
        leave = np.where(known, self.leave[at], -1).astype(np.int32)
        return enter, leave, np.where(known, self.level[at], 0).astype(np.int32)


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


def window_overlaps(mentees: list[Candidate], mentors: list[Candidate], day: date) -> tuple[np.ndarray, np.ndarray]:
    """Minutes of working-hours overlap on a 24-hour circle, once per distinct pair of UTC windows (an
    organisation has few): (table of distinct mentee windows x every mentor, each mentee's row in it)."""
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
    return best[:, which_b.reshape(-1)], which_a.reshape(-1)


def overlap_minutes(mentees: list[Candidate], mentors: list[Candidate], day: date) -> np.ndarray:
    """Minutes of working-hours overlap for every mentee x mentor."""
    table, rows = window_overlaps(mentees, mentors, day)
    minutes: np.ndarray = table[rows]
    return minutes


@dataclass
class RuleArrays:
    """Both sides' facts as arrays (``_e``: per mentee, ``_o``: per mentor), ready for :func:`checks`."""

    ready_e: np.ndarray
    ready_o: np.ndarray
    limit_e: np.ndarray
    """The highest mentor seniority each mentee may have (their own less the gap)."""
    seniority_o: np.ndarray
    enter_e: np.ndarray
    leave_e: np.ndarray
    deep_e: np.ndarray
    """The deepest level each mentee's reporting-line exclusion reaches."""
    level_e: np.ndarray
    enter_o: np.ndarray
    leave_o: np.ndarray
    deep_o: np.ndarray
    level_o: np.ndarray
    boss_e: np.ndarray | None
    """Each mentee's manager (None when sharing one is allowed)."""
    boss_o: np.ndarray | None
    time_table: np.ndarray
    """Whether hours overlap enough: distinct mentee windows x mentors."""
    window_e: np.ndarray
    same_person: Cells
    excluded: Cells


def _cells(pairs: list[tuple[int, int]]) -> Cells:
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = zip(*pairs, strict=True)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def _excluded(data: MatchInput) -> Cells:
    """Forbidden pairs, and earlier cohorts' pairs unless repeats are allowed."""
    mentees, mentors, rules = data.mentees, data.mentors, data.rules
    index_e = {c.participant_id: i for i, c in enumerate(mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(mentors)}
    pairs = [(index_e[e], index_o[o]) for e, o in rules.forbidden if e in index_e and o in index_o]
    if not rules.allow_repeat and rules.previous:
        person_e = {c.person_id: i for i, c in enumerate(mentees)}
        person_o = {c.person_id: j for j, c in enumerate(mentors)}
        for pair in rules.previous:
            a, b = tuple(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
            pairs.extend((person_e[x], person_o[y]) for x, y in ((a, b), (b, a)) if x in person_e and y in person_o)
    return _cells(pairs)


def rule_arrays(data: MatchInput) -> RuleArrays:
    """Every per-person fact the hard rules compare, as arrays, and the single cells they name."""
    mentees, mentors, rules, managers = data.mentees, data.mentors, data.rules, data.managers
    gap = 0 if rules.allow_peer else rules.seniority_gap
    sen_e = np.array([c.seniority if c.seniority is not None else -_FAR for c in mentees], dtype=np.int32)
    sen_o = np.array([c.seniority if c.seniority is not None else _FAR for c in mentors], dtype=np.int32)
    lines = ReportingLines.of(managers)
    people_e, people_o = [c.person_id for c in mentees], [c.person_id for c in mentors]
    enter_e, leave_e, level_e = lines.arrays(people_e)
    enter_o, leave_o, level_o = lines.arrays(people_o)
    reach_e = np.array([c.offline_depth if c.offline_depth > 0 else _FAR for c in mentees], dtype=np.int32)
    reach_o = np.array([c.offline_depth if c.offline_depth > 0 else _FAR for c in mentors], dtype=np.int32)
    boss_e = boss_o = None
    if rules.no_shared_manager:
        boss_e = np.array([-1 if managers.get(c.person_id) is None else managers[c.person_id] for c in mentees])
        boss_o = np.array([-2 if managers.get(c.person_id) is None else managers[c.person_id] for c in mentors])
    day = rules.reference_date or datetime.now(UTC).date()
    if mentees and mentors:
        minutes, window_e = window_overlaps(mentees, mentors, day)
        time_table = minutes >= rules.min_overlap_minutes
    else:
        time_table, window_e = np.zeros((0, len(mentors)), dtype=bool), np.zeros(len(mentees), dtype=np.int64)
    index_o: dict[int, list[int]] = {}
    for j, person in enumerate(people_o):
        index_o.setdefault(person, []).append(j)
    same = [(i, j) for i, person in enumerate(people_e) for j in index_o.get(person, ())]
    return RuleArrays(
        ready_e=np.array([c.ready for c in mentees], dtype=bool),
        ready_o=np.array([c.ready for c in mentors], dtype=bool),
        limit_e=sen_e - np.int32(gap),
        seniority_o=sen_o,
        enter_e=enter_e,
        leave_e=leave_e,
        deep_e=level_e + reach_e,
        level_e=level_e,
        enter_o=enter_o,
        leave_o=leave_o,
        deep_o=level_o + reach_o,
        level_o=level_o,
        boss_e=boss_e,
        boss_o=boss_o,
        time_table=time_table,
        window_e=window_e,
        same_person=_cells(same),
        excluded=_excluded(data),
    )


def _local(cells: Cells, rows: np.ndarray, cols: np.ndarray | None, shape: tuple[int, int]) -> Cells:
    """The cells that fall in the block of ``rows`` x ``cols`` (None: every mentor), as block positions."""
    cell_rows, cell_cols = cells
    if cell_rows.size == 0:
        return cell_rows, cell_cols
    at_row = np.full(shape[0], -1, dtype=np.int64)
    at_row[rows] = np.arange(rows.size)
    r = at_row[cell_rows]
    if cols is None:
        c = cell_cols
    else:
        at_col = np.full(shape[1], -1, dtype=np.int64)
        at_col[cols] = np.arange(cols.size)
        c = at_col[cell_cols]
    keep = (r >= 0) & (c >= 0)
    return r[keep], c[keep]


def checks(
    a: RuleArrays, rows: np.ndarray, cols: np.ndarray | None, shape: tuple[int, int]
) -> Iterator[tuple[str, np.ndarray | None, Cells]]:
    """Each hard rule in ``RULE_ORDER`` for the mentees ``rows`` x the mentors ``cols`` (None: every mentor)
    of a ``shape`` programme: (rule, where it holds or None for everywhere, block cells where it does not)."""

    def o(values: np.ndarray) -> np.ndarray:
        return values if cols is None else values[cols]

    none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    yield "intake", a.ready_e[rows][:, None] & o(a.ready_o)[None, :], none
    yield "reverse", o(a.seniority_o)[None, :] <= a.limit_e[rows][:, None], none

    enter_e, leave_e, enter_o, leave_o = a.enter_e[rows][:, None], a.leave_e[rows][:, None], o(a.enter_o), o(a.leave_o)
    level_e, level_o, deep_e, deep_o = a.level_e[rows], o(a.level_o), a.deep_e[rows], o(a.deep_o)
    inside = enter_e < enter_o[None, :]
    inside &= leave_o[None, :] <= leave_e
    if level_o.size and deep_e.size and deep_e.min() < level_o.max():  # some reach stops short of the mentors
        inside &= level_o[None, :] <= deep_e[:, None]
    below = enter_o[None, :] < enter_e
    below &= leave_e <= leave_o[None, :]
    if level_e.size and deep_o.size and deep_o.min() < level_e.max():
        below &= level_e[:, None] <= deep_o[None, :]
    inside |= below
    del below
    np.logical_not(inside, out=inside)
    yield "offline", inside, _local(a.same_person, rows, cols, shape)
    del inside

    if a.boss_e is not None and a.boss_o is not None:
        yield "shared_manager", a.boss_e[rows][:, None] != o(a.boss_o)[None, :], none
    time = a.time_table[a.window_e[rows]]
    yield "time", time if cols is None else time[:, cols], none
    del time
    yield "excluded", None, _local(a.excluded, rows, cols, shape)

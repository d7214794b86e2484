"""The hard rules as boolean mentee x mentor matrices, never broken whatever the weights.

Rules are applied in a fixed order so that an unmatched person's reason names the first rule that left
them without any possible partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bot.matching.model import Candidate, MatchInput

RULE_ORDER = ("intake", "reverse", "offline", "shared_manager", "time", "excluded")


@dataclass
class Feasibility:
    allowed: np.ndarray
    """n_mentees x n_mentors: True where every hard rule holds."""
    mentee_blocked_by: list[str | None]
    """Per mentee: the first rule after which no mentor was left (None if some mentor is allowed)."""
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


def feasibility(data: MatchInput) -> Feasibility:
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

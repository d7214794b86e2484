"""An independent statement of the matcher's hard rules for the property tests: which rules a pair would
break, the checks every result must pass, and the wording promised to those left unmatched.

Written independently of bot/matching, so that the tests check it rather than repeat it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import yaml

from bot.matching.model import Candidate, MatchInput, MatchResult

ROOT = Path(__file__).resolve().parent.parent
MATCHING_KEYS = set(yaml.safe_load((ROOT / "prompts" / "messages" / "matching.yml").read_text(encoding="utf-8")))

RULE_ORDER = ("intake", "reverse", "offline", "shared_manager", "time", "excluded")


def chain_above(person: int, managers: dict[int, int | None]) -> list[int]:
    """Everyone above ``person``: their manager, their manager's manager, ... (stops on a cycle)."""
    above: list[int] = []
    seen = {person}
    boss = managers.get(person)
    while boss is not None and boss not in seen:
        above.append(boss)
        seen.add(boss)
        boss = managers.get(boss)
    return above


def in_reporting_line(a: int, b: int, managers: dict[int, int | None]) -> bool:
    """True when a and b are the same person or one is anywhere above the other."""
    return a == b or a in chain_above(b, managers) or b in chain_above(a, managers)


def line_excludes(upper: Candidate, lower: Candidate, managers: dict[int, int | None]) -> bool:
    """True when ``lower`` sits below ``upper`` within ``upper``'s reach (offline_depth levels; 0: any depth)."""
    above = chain_above(lower.person_id, managers)
    if upper.person_id not in above:
        return False
    levels = above.index(upper.person_id) + 1
    return upper.offline_depth <= 0 or levels <= upper.offline_depth


def utc_interval(zone: str, hours: str, day: date) -> tuple[datetime, datetime]:
    """``hours`` (``HH:MM-HH:MM``) on ``day`` in ``zone``, as a UTC interval."""
    start_text, end_text = hours.split("-")
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.fromisoformat(start_text), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day, time.fromisoformat(end_text), tzinfo=tz).astimezone(UTC)
    return start, end


def overlap(a: Candidate, b: Candidate, day: date) -> float:
    """Minutes both work, people working every day: a's hours on ``day`` against b's on the day before,
    the day itself and the day after (each converted with its own date)."""
    start_a, end_a = utc_interval(a.time_zone, a.working_hours, day)
    best = 0.0
    for delta in (-1, 0, 1):
        start_b, end_b = utc_interval(b.time_zone, b.working_hours, day + timedelta(days=delta))
        best = max(best, (min(end_a, end_b) - max(start_a, start_b)).total_seconds() / 60)
    return best


def broken_rules(data: MatchInput, mentee: Candidate, mentor: Candidate) -> list[str]:
    """Every hard rule pairing ``mentee`` with ``mentor`` would break, in RULE_ORDER."""
    rules, managers = data.rules, data.managers
    broken = []
    if not (mentee.ready and mentor.ready):
        broken.append("intake")
    if mentee.seniority is None or mentor.seniority is None:
        broken.append("reverse")
    elif rules.allow_peer:
        if mentor.seniority > mentee.seniority:
            broken.append("reverse")
    elif mentor.seniority > mentee.seniority - rules.seniority_gap:
        broken.append("reverse")
    if (
        mentee.person_id == mentor.person_id
        or line_excludes(mentee, mentor, managers)
        or line_excludes(mentor, mentee, managers)
    ):
        broken.append("offline")
    boss = managers.get(mentee.person_id)
    if rules.no_shared_manager and boss is not None and boss == managers.get(mentor.person_id):
        broken.append("shared_manager")
    assert rules.reference_date is not None
    if overlap(mentee, mentor, rules.reference_date) < rules.min_overlap_minutes:
        broken.append("time")
    if (mentee.participant_id, mentor.participant_id) in rules.forbidden or (
        not rules.allow_repeat and frozenset((mentee.person_id, mentor.person_id)) in rules.previous
    ):
        broken.append("excluded")
    return broken


def feasible_matrix(data: MatchInput) -> np.ndarray:
    """Mentees x mentors: True where the pair breaks no hard rule."""
    return np.array([[not broken_rules(data, e, o) for o in data.mentors] for e in data.mentees], dtype=bool).reshape(
        len(data.mentees), len(data.mentors)
    )


def index_pairs(data: MatchInput, result: MatchResult) -> list[tuple[int, int]]:
    """The result's pairs as (mentee index, mentor index) into ``data``."""
    index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    return [(index_e[p.mentee], index_o[p.mentor]) for p in result.pairs]


def assert_hard_rules(data: MatchInput, result: MatchResult) -> None:
    """No pair breaks a hard rule; one mentor per mentee; each mentor within capacity."""
    mentees = {c.participant_id: c for c in data.mentees}
    mentors = {c.participant_id: c for c in data.mentors}
    seen: set[int] = set()
    load: dict[int, int] = {}
    for pair in result.pairs:
        assert pair.mentee in mentees and pair.mentor in mentors, pair
        assert pair.mentee not in seen, f"mentee {pair.mentee} paired twice"
        seen.add(pair.mentee)
        load[pair.mentor] = load.get(pair.mentor, 0) + 1
        broken = broken_rules(data, mentees[pair.mentee], mentors[pair.mentor])
        assert not broken, f"{result.mode}: pair {pair.mentee}-{pair.mentor} breaks {broken}"
    for mentor, count in load.items():
        assert count <= mentors[mentor].capacity, f"mentor {mentor} has {count} > capacity {mentors[mentor].capacity}"


def expected_unmatched_key(data: MatchInput, role: str, k: int, has_partner_option: bool) -> str:
    """The wording PRODUCT.md promises: the first rule (in order) that left them without any partner."""
    me = data.mentees[k] if role == "mentee" else data.mentors[k]
    others = data.mentors if role == "mentee" else data.mentees
    if not others:
        return "matching.unmatched_no_mentors" if role == "mentee" else "matching.unmatched_no_mentees"
    if has_partner_option:
        return "matching.unmatched_capacity" if role == "mentee" else "matching.unmatched_mentor_not_needed"
    broken = [broken_rules(data, me, o) if role == "mentee" else broken_rules(data, o, me) for o in others]
    for depth, rule in enumerate(RULE_ORDER):
        if all(set(b) & set(RULE_ORDER[: depth + 1]) for b in broken):
            if rule == "intake":
                if me.ready:
                    return "matching.unmatched_others_not_ready"
                return f"matching.unmatched_{me.waiting_for}"
            if rule == "reverse":
                if me.seniority is None:
                    return "matching.unmatched_seniority_unknown"
                return f"matching.unmatched_{role}_reverse"
            return f"matching.unmatched_{rule}"
    raise AssertionError("unreachable: no partner option yet no rule blocks")

"""Soft preferences as one mentee x mentor score matrix (0-100), and the words that explain a pair.

The scores are worked out block by block from per-person arrays (``score_parts``); only the combined
score is kept as a matrix (float32), and the optimal solve does without even that (``cost``). An
explanation is worked out again for each chosen pair from the two candidates, with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.matching.model import STYLE_KEYS, Candidate, MatchInput, Reason, Weights
from bot.matching.reporting_lines import levels_below
from bot.matching.score_parts import FLEXIBLE_STYLES, ScoreParts, rankings_of, score_parts

ORG_DIMENSIONS = ("division", "department", "location")
"""Dimensions an explanation may name. Gender and generation are self-identified: never shown."""
_CELLS = 1 << 17
"""About how many cells are scored together (their temporaries stay in the processor's cache)."""


@dataclass
class Scores:
    total: np.ndarray
    """n_mentees x n_mentors, 0-100 (float32)."""


def score(data: MatchInput, parts: ScoreParts | None = None) -> Scores:
    """Every soft preference for every mentee x mentor, combined by the programme's weights."""
    n, m = len(data.mentees), len(data.mentors)
    total = np.zeros((n, m), dtype=np.float32)
    if n == 0 or m == 0:
        return Scores(total=total)
    parts = parts or score_parts(data)
    step = max(1, _CELLS // m)
    for start in range(0, n, step):
        rows = np.arange(start, min(start + step, n))
        parts.block(rows, out=total[start : start + rows.size])
    return Scores(total=total)


def _style_match(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.5
    return 1.0 if a == b or a in FLEXIBLE_STYLES or b in FLEXIBLE_STYLES else 0.0


def explain(data: MatchInput, mentee: Candidate, mentor: Candidate, labels: dict[str, str]) -> list[Reason]:
    """Plain-language parts of why a mentee and a mentor make a good pair."""
    reasons: list[Reason] = []
    shared = sorted(mentee.topics & mentor.topics)
    if shared:
        strong = len(shared) >= 2 or len(shared) / max(len(mentee.topics), 1) >= 0.5
        reasons.append(
            Reason("matching.reason_topics", {"topics": [labels.get(t, t) for t in shared], "strong": strong})
        )
    else:
        reasons.append(Reason("matching.reason_no_topics"))
    prefs: Weights = data.weights

    ours = {d: (getattr(mentee, d) or "").strip().lower() for d in ORG_DIMENSIONS}
    theirs = {d: (getattr(mentor, d) or "").strip().lower() for d in ORG_DIMENSIONS}
    known = [d for d in ORG_DIMENSIONS if ours[d] and theirs[d]]
    different = [d for d in known if prefs.diversity_prefs.get(d) == "different" and ours[d] != theirs[d]]
    same = [d for d in known if prefs.diversity_prefs.get(d) == "same" and ours[d] == theirs[d]]
    if different:
        reasons.append(Reason("matching.reason_different", {"dimensions": different}))
    if same:
        reasons.append(Reason("matching.reason_same", {"dimensions": same}))
    style = sum(_style_match(mentee.style.get(k), mentor.style.get(k)) for k in STYLE_KEYS) / len(STYLE_KEYS)
    if style >= 2 / 3:
        reasons.append(Reason("matching.reason_style"))
    ranking = rankings_of(mentee)
    if data.uses_choice and mentor.participant_id in ranking:
        reasons.append(Reason("matching.reason_choice", {"rank": ranking.index(mentor.participant_id) + 1}))
    reasons.extend(_reach_reason(data, mentee, mentor))
    return reasons


def _reach_reason(data: MatchInput, mentee: Candidate, mentor: Candidate) -> list[Reason]:
    """A pair in one reporting line, allowed only because the coordinator limited how far the rule reaches."""
    for upper, lower in ((mentee, mentor), (mentor, mentee)):
        if upper.offline_depth <= 0:
            continue
        levels = levels_below(data.managers, upper.person_id, lower.person_id)
        if levels is not None:
            return [Reason("matching.reason_reach", {"levels": levels, "reach": upper.offline_depth})]
    return []

"""Soft preferences as one mentee x mentor score matrix (0-100), and the words that explain a pair.

Only the combined score is kept as a matrix (float32, accumulated in place), so a 10,000 x 10,000
programme needs a few hundred megabytes; an explanation is worked out again for each chosen pair from
the two candidates, with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput, Reason, Weights
from bot.matching.reporting_lines import levels_below

FLEXIBLE_STYLES = {"mix", "either"}
_ROWS = 1024
"""Mentee rows scored together where a step needs a temporary wider than the float32 total."""
ORG_DIMENSIONS = ("division", "department", "location")
"""Dimensions an explanation may name. Gender and generation are self-identified: never shown."""


@dataclass
class Scores:
    total: np.ndarray
    """n_mentees x n_mentors, 0-100 (float32)."""


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


def score(data: MatchInput) -> Scores:
    """Every soft preference for every mentee x mentor, combined by the programme's weights."""
    mentees, mentors, weights = data.mentees, data.mentors, data.weights
    n, m = len(mentees), len(mentors)
    total = np.zeros((n, m), dtype=np.float32)
    if n == 0 or m == 0:
        return Scores(total=total)
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
    ranking = _rankings(mentee)
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

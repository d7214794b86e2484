"""Soft preferences as mentee x mentor score matrices (0-100), and the words that explain a pair."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.matching.model import DIVERSITY_DIMENSIONS, STYLE_KEYS, Candidate, MatchInput, Reason

FLEXIBLE_STYLES = {"mix", "either"}
ORG_DIMENSIONS = ("division", "department", "location")
"""Dimensions an explanation may name. Gender and generation are self-identified: never shown."""


@dataclass
class Scores:
    total: np.ndarray
    topic: np.ndarray
    style: np.ndarray
    choice: np.ndarray
    differs: dict[str, np.ndarray]
    """Per diversity dimension: 1 where the two differ, 0 where equal, 0.5 where unknown."""
    shared_topics: np.ndarray
    """Bit masks of the topics both share (mentor can teach, mentee wants to learn)."""
    tags: list[str]


def _codes(values: list[str | None]) -> np.ndarray:
    lookup: dict[str, int] = {}
    return np.array([-1 if not v else lookup.setdefault(v.strip().lower(), len(lookup)) for v in values],
                    dtype=np.int64)


def _attribute(candidate: Candidate, dimension: str) -> str | None:
    return getattr(candidate, dimension)


def score(data: MatchInput) -> Scores:
    """Every soft preference for every mentee x mentor, combined by the programme's weights."""
    mentees, mentors, weights = data.mentees, data.mentors, data.weights
    n, m = len(mentees), len(mentors)
    tags = sorted({t for c in (*mentees, *mentors) for t in c.topics})
    if len(tags) > 63:
        raise ValueError("at most 63 distinct topic tags can be matched")
    bit = {tag: np.uint64(1) << np.uint64(i) for i, tag in enumerate(tags)}

    def masks(people: list[Candidate]) -> np.ndarray:
        out = np.zeros(len(people), dtype=np.uint64)
        for i, c in enumerate(people):
            for t in c.topics:
                out[i] |= bit[t]
        return out

    learn, teach = masks(mentees), masks(mentors)
    shared = learn[:, None] & teach[None, :]
    wanted = np.maximum(np.bitwise_count(learn), 1).astype(np.float64)
    topic = np.bitwise_count(shared).astype(np.float64) / wanted[:, None]

    differs: dict[str, np.ndarray] = {}
    diversity = np.zeros((n, m))
    counted = 0
    for dimension in DIVERSITY_DIMENSIONS:
        preference = weights.diversity_prefs.get(dimension, "ignore")
        codes = _codes([_attribute(c, dimension) for c in (*mentees, *mentors)])
        a, b = codes[:n][:, None], codes[n:][None, :]
        unknown = (a < 0) | (b < 0)
        differ = np.where(unknown, 0.5, (a != b).astype(np.float64))
        differs[dimension] = differ
        if preference == "ignore":
            continue
        diversity += differ if preference == "different" else np.where(unknown, 0.5, 1.0 - differ)
        counted += 1
    diversity = diversity / counted if counted else diversity

    style = np.zeros((n, m))
    for key in STYLE_KEYS:
        codes = _codes([c.style.get(key) for c in (*mentees, *mentors)])
        flexible = np.array([(c.style.get(key) or "") in FLEXIBLE_STYLES for c in (*mentees, *mentors)])
        a, b = codes[:n][:, None], codes[n:][None, :]
        match = (a == b) & (a >= 0) | flexible[:n][:, None] | flexible[n:][None, :]
        style += np.where((a < 0) | (b < 0), 0.5, match.astype(np.float64))
    style /= len(STYLE_KEYS)

    choice = np.zeros((n, m))
    index_o = {c.participant_id: j for j, c in enumerate(mentors)}
    for i, mentee in enumerate(mentees):
        for rank, mentor in enumerate(mentee.rankings[:3]):
            if mentor in index_o:
                choice[i, index_o[mentor]] = 1.0 - rank / 3

    parts = [(weights.topic, topic), (weights.diversity, diversity), (weights.style, style)]
    if data.uses_choice:
        parts.append((weights.choice, choice))
    total_weight = sum(w for w, _ in parts) or 1.0
    total = sum(w * part for w, part in parts) / total_weight * 100.0
    return Scores(total=np.asarray(total, dtype=np.float64), topic=topic, style=style, choice=choice,
                  differs=differs, shared_topics=shared, tags=tags)


def explain(scores: Scores, data: MatchInput, i: int, j: int, labels: dict[str, str]) -> list[Reason]:
    """Plain-language parts of why mentee ``i`` and mentor ``j`` make a good pair."""
    reasons: list[Reason] = []
    shared = int(scores.shared_topics[i, j])
    topics = [labels.get(tag, tag) for k, tag in enumerate(scores.tags) if shared >> k & 1]
    if topics:
        strong = scores.topic[i, j] >= 0.5 or len(topics) >= 2
        reasons.append(Reason("matching.reason_topics", {"topics": topics, "strong": bool(strong)}))
    else:
        reasons.append(Reason("matching.reason_no_topics"))
    different = [d for d in ORG_DIMENSIONS
                 if data.weights.diversity_prefs.get(d) == "different" and scores.differs[d][i, j] == 1.0]
    same = [d for d in ORG_DIMENSIONS
            if data.weights.diversity_prefs.get(d) == "same" and scores.differs[d][i, j] == 0.0]
    if different:
        reasons.append(Reason("matching.reason_different", {"dimensions": different}))
    if same:
        reasons.append(Reason("matching.reason_same", {"dimensions": same}))
    if scores.style[i, j] >= 2 / 3:
        reasons.append(Reason("matching.reason_style"))
    if data.uses_choice and scores.choice[i, j] > 0:
        reasons.append(Reason("matching.reason_choice", {"rank": int(round((1 - scores.choice[i, j]) * 3)) + 1}))
    return reasons

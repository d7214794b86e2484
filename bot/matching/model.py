"""What the matcher reads and returns. Plain data: no store, no platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Mode = Literal["optimal", "stable", "random"]
Preference = Literal["different", "same", "ignore"]
DIVERSITY_DIMENSIONS = ("department", "division", "location", "gender", "generation")
STYLE_KEYS = ("style_structure", "style_feedback", "style_pace")


@dataclass
class Candidate:
    """A participant as the matcher sees them. ``topics`` are what a mentor can teach or a mentee wants to learn."""

    participant_id: int
    person_id: int
    name: str
    seniority: int | None
    time_zone: str = "UTC"
    working_hours: str = "09:00-17:00"
    department: str = ""
    division: str = ""
    location: str = ""
    gender: str | None = None
    generation: str | None = None
    topics: frozenset[str] = frozenset()
    style: dict[str, str] = field(default_factory=dict)
    capacity: int = 1
    rankings: tuple[int, ...] = ()
    """For mentees: mentor participant ids they ranked, best first."""
    ready: bool = True
    """False until they consented, finished the intake and the onboarding."""
    waiting_for: str = "intake"
    """While not ready: what is missing ("intake" or "onboarding")."""
    offline_depth: int = 0
    """How many levels below this person the reporting-line rule reaches (0: the whole subtree)."""


@dataclass
class Rules:
    """The hard rules of a programme."""

    seniority_gap: int = 1
    allow_peer: bool = False
    no_shared_manager: bool = True
    min_overlap_minutes: int = 60
    reference_date: date | None = None
    """The day on which working hours are compared (daylight saving differs through the year)."""
    forbidden: set[tuple[int, int]] = field(default_factory=set)
    """(mentee participant id, mentor participant id) pairs a coordinator forbade."""
    previous: set[frozenset[int]] = field(default_factory=set)
    """Person-id pairs from earlier cohorts (not repeated unless ``allow_repeat``)."""
    allow_repeat: bool = False
    pins: list[tuple[int, int]] = field(default_factory=list)
    """(mentee participant id, mentor participant id) pairs kept in every run."""


@dataclass
class Weights:
    """How much each soft preference counts, and what diversity means per dimension."""

    topic: float = 40.0
    diversity: float = 25.0
    style: float = 15.0
    choice: float = 20.0
    diversity_prefs: dict[str, Preference] = field(
        default_factory=lambda: {
            "department": "different",
            "division": "different",
            "location": "ignore",
            "gender": "different",
            "generation": "different",
        }
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Weights:
        weights = cls()
        for key, value in (data or {}).items():
            if key in ("topic", "diversity", "style", "choice"):
                setattr(weights, key, float(value))
            elif key in DIVERSITY_DIMENSIONS:
                weights.diversity_prefs[key] = value
        return weights

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "diversity": self.diversity,
            "style": self.style,
            "choice": self.choice,
            **self.diversity_prefs,
        }


@dataclass
class MatchInput:
    mentees: list[Candidate]
    mentors: list[Candidate]
    managers: dict[int, int | None]
    """Every person of the tenant (person id -> manager's person id): reporting lines run through non-participants."""
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)
    uses_choice: bool = False


@dataclass
class Reason:
    """A wording key and its values: one part of an explanation."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pair:
    mentee: int
    mentor: int
    score: float
    reasons: list[Reason] = field(default_factory=list)
    pinned: bool = False


@dataclass
class Unmatched:
    participant_id: int
    role: Literal["mentor", "mentee"]
    reason: Reason


@dataclass
class MatchResult:
    mode: Mode
    seed: int | None
    pairs: list[Pair]
    unmatched: list[Unmatched]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def average_score(self) -> float:
        return sum(p.score for p in self.pairs) / len(self.pairs) if self.pairs else 0.0

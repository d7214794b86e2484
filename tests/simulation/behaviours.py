"""Behaviour profiles (``behaviours.yml``): how likely each simulated person is to do what."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Behaviour:
    """One profile; every probability is per opportunity (see the comments in behaviours.yml)."""

    name: str
    weight: float = 1.0
    consent: float = 1.0
    decline: float = 0.0
    answer: float = 1.0
    delay_hours: tuple[float, float] = (0.0, 0.0)
    followup: float = 1.0
    cancel: float = 0.0
    no_show: float = 0.0
    pause: float = 0.0
    pause_days: int = 14
    support: float = 0.0
    forget: float = 0.0
    leave: float = 0.0
    pulse_scores: tuple[int, ...] = field(default=(3, 4, 5))


def load(path: Path = HERE / "behaviours.yml") -> list[Behaviour]:
    """Every profile of the file, checked against the known fields."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["profiles"]
    known = {f.name for f in fields(Behaviour)}
    profiles = []
    for name, values in raw.items():
        unknown = set(values) - known
        assert not unknown, f"behaviour {name}: unknown fields {sorted(unknown)}"
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        profiles.append(Behaviour(name=name, **values))
    return profiles


def draw(profiles: list[Behaviour], rng: random.Random) -> Behaviour:
    """A profile, by weight."""
    return rng.choices(profiles, weights=[p.weight for p in profiles])[0]

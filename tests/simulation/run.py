"""Run whole terms: one organisation, ``terms`` consecutive cohorts (each after the first by `program clone`)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from simulation.log import Violation
from simulation.script import play_term
from simulation.term import Simulation
from storage.store import SqlStore


@dataclass
class Outcome:
    """What a run did and found."""

    seed: int
    people: int
    terms: int
    seconds: float
    events: int
    counts: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def by_invariant(self) -> Counter[str]:
        return Counter(v.invariant for v in self.violations)


def simulate(store: SqlStore, seed: int, people: int = 64, terms: int = 1, term_weeks: int = 12) -> Outcome:
    """Play ``terms`` terms of ``term_weeks`` weeks for an organisation of ``people``; every invariant checked."""
    began = time.perf_counter()
    sim = Simulation(store, seed, people, term_weeks)
    root = logging.getLogger()
    root.addHandler(sim.errors)
    try:
        starts = (sim.now + timedelta(days=12)).date()
        for number in range(1, terms + 1):
            ends = starts + timedelta(weeks=term_weeks) - timedelta(days=3)
            play_term(sim, number, starts, ends, clone_from="yes" if number > 1 else "")
            starts = ends + timedelta(days=17)
    finally:
        root.removeHandler(sim.errors)
    counts: Counter[str] = Counter()
    violations: list[Violation] = []
    for log in sim.terms:
        counts.update(log.events)
        violations.extend(log.violations)
    return Outcome(
        seed=seed,
        people=people,
        terms=terms,
        seconds=time.perf_counter() - began,
        events=sim.acts + sim.messages,
        counts=counts,
        violations=violations,
    )

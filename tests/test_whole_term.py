"""Whole terms played through the real engine, runtime, outbox and scheduler: every invariant holds, every figure is true.

The simulator lives in tests/simulation/ (docs/architecture.md, "The whole-term simulator").
"""

from __future__ import annotations

import pytest

from simulation.run import simulate
from storage.store import SqlStore


# Three seeds on SQLite, the third playing a second term cloned from the first (returning people, no repeat
# pairs); one seed on PostgreSQL, which plays the same engine more slowly (the suite's time budget).
@pytest.mark.parametrize(
    "store, seed, terms",
    [("sqlite", 1, 1), ("sqlite", 2, 1), ("sqlite", 3, 2), ("postgresql", 1, 1)],
    indirect=["store"],
)
def test_whole_terms_hold_together(store: SqlStore, seed: int, terms: int) -> None:
    outcome = simulate(store, seed, people=60, terms=terms, term_weeks=6)
    assert outcome.counts["report"] == terms, "a term did not reach its end-of-term report"
    assert outcome.counts["completed intake"] > 0 and outcome.counts["acts"] > 100
    assert not outcome.violations, f"seed {seed}:\n" + "\n".join(str(v) for v in outcome.violations)

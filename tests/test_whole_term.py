"""Whole terms played through the real engine, runtime, outbox and scheduler: every invariant holds, every figure is true.

The simulator lives in tests/simulation/ (docs/architecture.md, "The whole-term simulator").
"""

from __future__ import annotations

import pytest

from simulation.run import simulate
from storage.store import SqlStore


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_whole_term_holds_together(store: SqlStore, seed: int) -> None:
    outcome = simulate(store, seed, people=60, terms=1, term_weeks=6)
    assert outcome.counts["report"] == 1, "the term did not reach its end-of-term report"
    assert outcome.counts["completed intake"] > 0 and outcome.counts["acts"] > 100
    assert not outcome.violations, f"seed {seed}:\n" + "\n".join(str(v) for v in outcome.violations)

"""Whole terms at full size: `.venv/bin/python benchmarks/simulate_terms.py --people 500 --terms 3 --seed 1`.

Plays consecutive terms (each after the first by `program clone`) of a simulated organisation through the
real engine, runtime, outbox and scheduler, and prints events per second and the invariant counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from simulation.run import simulate  # noqa: E402
from storage.store import SqlStore  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--terms", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=12, help="length of each term")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(args.database or f"sqlite:///{folder}/simulation.db")
        try:
            outcome = simulate(store, args.seed, args.people, args.terms, args.weeks)
        finally:
            store.close()
    print(f"{outcome.people} people, {outcome.terms} term(s) of {args.weeks} weeks, seed {outcome.seed}")
    print(f"{outcome.events} events in {outcome.seconds:.1f} s: {outcome.rate:.0f} events/s")
    for name in ("acts", "messages", "completed intake", "completed pulse", "completed survey", "closed with a notice"):
        print(f"  {name}: {outcome.counts[name]}")
    failing = outcome.by_invariant()
    print("invariant violations:" if failing else "every invariant held")
    for name, count in sorted(failing.items()):
        print(f"  {name}: {count}")
    for violation in outcome.violations[:20]:
        print(f"    {violation}")
    return 1 if failing else 0


if __name__ == "__main__":
    raise SystemExit(main())

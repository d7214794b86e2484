"""Time the matcher end to end at the scale of a large company, beside the bare assignment solve.

Run: ``.venv/bin/python benchmarks/matching.py [--scenario a|b|all] [--modes optimal,stable] [--repeat N]
[--seed N] [--b-size N] [--quick]`` (``--quick``: small organisations and two repetitions, to check it runs).

* Scenario A: a generated organisation of 20,000 people (a deep management tree, departments, divisions,
  locations, time zones, working hours) in a fresh SQLite store; 5,000 senior mentees and 1,500 junior
  mentors (capacities 1-4) with topics, styles and rankings, forbidden pairs, pins and an earlier cohort's
  pairs; every hard rule on. Timed: ``load_input`` from the store, then ``run_matching`` (rules, scores,
  solve, explanations). Goals: optimal at most 5 s, stable at most 2 s end to end.
* Scenario B: 10,000 mentees and 10,000 mentors one-to-one, built in memory as a ``MatchInput`` (no
  store). Goals: optimal at most 60 s end to end, stable at most 10 s to solve, both within 2 GiB.

Per scenario and mode: end to end and solve-only (the ``solve`` stage of ``run_matching``), as the median
and the spread (lowest-highest) of ``--repeat`` warm runs in one process after a cold first one (shown
apart: it pays for imports such as SciPy's), and the peak memory. Beside them, in
the same run: ``bare`` is ``scipy.optimize.linear_sum_assignment`` alone on the very cost matrix the
optimal solve builds (``bot.matching.solve.optimal_cost``), and the ratio end to end / bare (goal: at
most 1.2 x). Every mode runs in its own child process, so peak RSS (``ru_maxrss``) is that mode's own;
the child's address space is capped (``--memory-cap``, default 12 GiB) so that a blow-up fails cleanly
with a MemoryError instead of waking the kernel's OOM killer on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.matching.model import MatchInput  # noqa: E402
from matching_data import Plan, load_store, match_input, plan_for, scenario_size  # noqa: E402

GIB = 1024**3
GOALS = {
    ("a", "optimal"): ("end to end", 5.0),
    ("a", "stable"): ("end to end", 2.0),
    ("b", "optimal"): ("end to end", 60.0),
    ("b", "stable"): ("solve", 10.0),
}
RATIO_GOAL = 1.2
MEMORY_GOAL = 2 * GIB


def load_average() -> str:
    """The machine's load averages over 1, 5 and 15 minutes."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def max_rss() -> int:
    """Peak resident set size of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss() -> int:
    """Resident set size of this process now, in bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def line(what: str, value: str, note: str = "") -> None:
    """One aligned line of the report."""
    print(f"  {what:<46} {value:>14}  {note}", flush=True)


def spread(values: list[float]) -> tuple[str, str]:
    """Median and range of some seconds."""
    return f"{statistics.median(values):.3f} s", f"({min(values):.3f}-{max(values):.3f} over {len(values)})"


def bare_solve(data: MatchInput) -> tuple[float, tuple[int, int]]:
    """``linear_sum_assignment`` alone on the cost matrix solve.optimal builds (pins applied as run_matching
    applies them). Returns (seconds, matrix shape)."""
    from scipy.optimize import linear_sum_assignment

    from bot.matching.rules import feasibility
    from bot.matching.run import apply_pins
    from bot.matching.scoring import score
    from bot.matching.solve import optimal_cost

    allowed = feasibility(data).allowed
    scores = score(data).total
    capacity, _ = apply_pins(data, allowed)
    built = optimal_cost(allowed, scores, capacity)
    del scores, allowed
    if built is None:
        return 0.0, (0, 0)
    start = time.perf_counter()
    linear_sum_assignment(built.cost)
    return time.perf_counter() - start, built.cost.shape


@contextmanager
def scenario_input(scenario: str, plan: Plan) -> Iterator[tuple[Callable[[], MatchInput], bool]]:
    """A way to get the scenario's MatchInput each time (through the store for A), and whether it is read
    from a store (timed as part of end to end)."""
    if scenario == "b":
        data = match_input(plan, date.today() + timedelta(days=30))
        yield (lambda: data), False
        return
    from bot.matching.load import load_input
    from storage.store import SqlStore

    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            today = date.today()
            start = time.perf_counter()
            current = load_store(store, plan, today)
            line("setup (not measured: directory, programme)", f"{time.perf_counter() - start:.1f} s")

            def load() -> MatchInput:
                with store.unit_of_work() as uow:
                    return load_input(uow, current, today)

            yield load, True
        finally:
            store.close()


def child(scenario: str, mode: str, seed: int, repeat: int, quick: bool, b_size: int) -> None:
    """One scenario in one mode (or ``bare``), repeated in this process; prints a RESULT line for the parent."""
    from bot.matching.load import topic_labels
    from bot.matching.run import run_matching

    plan = plan_for(scenario_size(scenario, quick, b_size), seed)
    labels = topic_labels()
    with scenario_input(scenario, plan) as (get_input, from_store):
        del plan
        ends: list[float] = []
        solves: list[float] = []
        stages: dict[str, list[float]] = {}
        result: Any = None
        data = get_input() if not from_store else None
        gc.collect()
        before = current_rss()
        for _ in range(repeat + 1):  # the first run is cold (imports, caches): shown apart, not in the median
            if mode == "bare":
                seconds, shape = bare_solve(data or get_input())
                ends.append(seconds)
                solves.append(seconds)
                continue
            result = None
            gc.collect()
            start = time.perf_counter()
            data = get_input() if from_store else data
            loaded = time.perf_counter() - start
            assert data is not None
            result = run_matching(data, mode, 1, labels)  # type: ignore[arg-type]
            ends.append(loaded + result.timings["total"])
            solves.append(result.timings["solve"])
            for stage, seconds in (
                [("load_input", loaded), *result.timings.items()] if from_store else result.timings.items()
            ):
                stages.setdefault(stage, []).append(seconds)
            if from_store:
                data = None
        peak = max_rss()
    line("first run (cold)", f"{ends.pop(0):.3f} s", f"(solve {solves.pop(0):.3f} s; not in the figures below)")
    for series in stages.values():
        series.pop(0)
    if mode == "bare":
        line("bare linear_sum_assignment", *spread(ends))
        line("", "", f"(cost matrix {shape[0]} x {shape[1]})")
    else:
        for stage in ("load_input", "rules", "scores", "solve", "explanations"):
            if stage in stages:
                line(f"{stage}", *spread(stages[stage]))
        line("END TO END", *spread(ends))
        unmatched = sum(1 for u in result.unmatched if u.role == "mentee")
        line("pairs", f"{len(result.pairs)}", f"({unmatched} mentees unmatched; average {result.average_score:.1f})")
    line("RSS before the runs (input built)", f"{before / GIB:.2f} GiB")
    line("peak RSS (ru_maxrss of this child)", f"{peak / GIB:.2f} GiB")
    runs = f"{','.join(map(str, ends))} {','.join(map(str, solves))}"
    print(f"RESULT {statistics.median(ends)} {statistics.median(solves)} {peak} {runs}", flush=True)


Found = tuple[float, float, int, list[float], list[float]]
"""One mode's medians (end to end, solve), its peak memory in bytes, and each warm run's end to end and solve."""


def run_child(args: argparse.Namespace, scenario: str, mode: str) -> Found | None:
    """Run one mode of one scenario in a child process, echo its output, return its figures (``Found``)."""
    command = [sys.executable, __file__, "--child", scenario, mode, "--seed", str(args.seed)]
    command += ["--repeat", str(args.repeat), "--b-size", str(args.b_size), "--memory-cap", str(args.memory_cap)]
    done = subprocess.run(command + (["--quick"] if args.quick else []), capture_output=True, text=True)
    found = None
    for text in done.stdout.splitlines():
        if text.startswith("RESULT "):
            end, solve, peak, ends, solves = text.split()[1:]
            found = (
                float(end),
                float(solve),
                int(peak),
                list(map(float, ends.split(","))),
                list(map(float, solves.split(","))),
            )
        else:
            print(text, flush=True)
    if done.returncode:
        print(f"  child exited with {done.returncode}: {done.stderr.strip().splitlines()[-1:]}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["a", "b", "all"], default="all")
    parser.add_argument("--modes", default="optimal,stable", help="comma-separated: optimal, stable, random")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=None, help="runs per mode in one process (default 5; quick 2)")
    parser.add_argument("--b-size", type=int, default=10_000, help="mentees (and mentors) in scenario B")
    parser.add_argument("--quick", action="store_true", help="small organisations: only checks that it runs")
    parser.add_argument("--memory-cap", type=float, default=12.0, help="address-space cap per child, GiB")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.repeat = args.repeat or (2 if args.quick else 5)
    if args.child:
        if args.memory_cap > 0:
            cap = int(args.memory_cap * GIB)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        child(args.child[0], args.child[1], args.seed, args.repeat, args.quick, args.b_size)
        return
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, scipy {__import__('scipy').__version__}; seed {args.seed}; "
        f"{'QUICK (small sizes) ' if args.quick else ''}load average {load_average()}",
        flush=True,
    )
    for scenario in ["a", "b"] if args.scenario == "all" else [args.scenario]:
        size = scenario_size(scenario, args.quick, args.b_size)
        print(
            f"\nScenario {scenario.upper()}: {size.people} people, {size.mentees} mentees, {size.mentors} mentors "
            f"(capacities 1-{size.max_capacity}), {size.forbidden} forbidden, {size.previous} earlier pairs, "
            f"{size.pins} pins; every hard rule on; {'SQLite store' if scenario == 'a' else 'in memory'}",
            flush=True,
        )
        print(" bare solver", flush=True)
        bare = run_child(args, scenario, "bare")
        for mode in args.modes.split(","):
            print(f" {mode}", flush=True)
            found = run_child(args, scenario, mode)
            if found is None:
                continue
            end, solve, peak = found[:3]
            if bare and bare[0] > 0:
                goal_note = f"(goal <= {RATIO_GOAL} x)" if mode == "optimal" else ""
                line("ratio end to end / bare solve", f"{end / bare[0]:.2f} x", goal_note)
            what, goal = GOALS.get((scenario, mode), ("", 0.0))
            if goal and not args.quick:
                seconds = end if what == "end to end" else solve
                line(f"goal: {what} <= {goal:g} s", "met" if seconds <= goal else "MISSED")
            if scenario == "b" and not args.quick:
                line("goal: peak memory <= 2 GiB", "met" if peak <= MEMORY_GOAL else "MISSED")


if __name__ == "__main__":
    main()

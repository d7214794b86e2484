"""The groups of measurements of ``benchmarks/under_load.py``, each run in a child process of its own: one
repetition (or every repetition) of the rows of its group, as series by row key."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from under_load_rows import Series


def throughput(options: argparse.Namespace, wanted: set[str]) -> Series:
    """One repetition: the worker's throughput per kind of event on a fresh SQLite store (or PostgreSQL schema)."""
    import inbox_throughput
    from storage.store import SqlStore

    events, people = (30, 10) if options.quick else (3000, 300)
    if options.group == "throughput-postgresql":
        found = inbox_throughput.on_postgresql(
            options.database_url, lambda store: inbox_throughput.measure("postgresql", store, events, people)
        )
        kinds, store_name = ["help"], "postgresql"
    else:
        with tempfile.TemporaryDirectory() as folder:
            store = SqlStore.open(f"sqlite:///{folder}/bench.db")
            found = inbox_throughput.measure("sqlite", store, events, people)
            store.close()
        kinds, store_name = ["help", "consent", "intake"], "sqlite"
    series: Series = {}
    for kind in kinds:
        series[f"{kind}-{store_name}"] = {"rmbot": [found[kind]["rate"]], "sql": [found[kind]["sql"]]}
    series[f"help-{store_name}"].update(baseline=[found["floor"]["rate"]], baseline_sql=[found["floor"]["sql"]])
    return series


def status(options: argparse.Namespace, wanted: set[str]) -> Series:
    """One repetition: ``status`` at 200 and 2,000 participants (median of its own runs), and its statements."""
    import status_command

    small, large = (
        status_command.measure(200, 2 if options.quick else 5),
        status_command.measure(2000, 2 if options.quick else 5),
    )
    return {
        "status-2000": {"rmbot": [large["median"] * 1000], "baseline": [small["median"] * 1000], "statements": [large["statements"]], "baseline_statements": [small["statements"]]},
        "status-statements": {"rmbot": [large["statements"]], "baseline": [small["statements"]]},
    }  # fmt: skip


def acks(options: argparse.Namespace, wanted: set[str]) -> Series:
    """Every repetition over the same servers: p99 of rmbot, bare slack-bolt and acks only, per rate."""
    import slack_ack_latency as ack

    store_name = options.group.removeprefix("ack-")
    url = options.database_url if store_name == "postgresql" else ""
    seconds, warm, quiet = (2.0, 200.0, 0.5) if options.quick else (20.0, 40.0, 3.0)
    runs, _, _ = ack.measure(url, [50.0, 200.0], seconds, repeat=options.repeat, warm_rate=warm, quiet=quiet)

    def p99(results: ack.Results, server: str, rate: float) -> float:
        return ack.percentile(results[(server, rate)][0], 0.99) * 1000

    def bad(results: ack.Results, rate: float) -> float:
        return sum(
            n
            for server in ("bare bolt", "rmbot serve", "acks only")
            for status, n in results[(server, rate)][1].items()
            if not 200 <= status < 300
        )

    series: Series = {}
    for rate in (50.0, 200.0):
        bare = [p99(results, "bare bolt", rate) for results in runs]
        series[f"ack-{rate:.0f}-{store_name}"] = {
            "rmbot": [p99(results, "rmbot serve", rate) for results in runs],
            "baseline": bare,
            "non_2xx": [bad(results, rate) for results in runs],
        }
        series[f"ack-only-{rate:.0f}-{store_name}"] = {
            "rmbot": [p99(results, "acks only", rate) for results in runs],
            "baseline": bare,
        }
    return series


def reply_lane(options: argparse.Namespace, wanted: set[str]) -> Series:
    """``--repeat`` runs per mode: p99 of the wait for a ``help`` answered during a fan-out, lane and FIFO."""
    import reply_lane as lane

    size = (500, 10, 0.3) if options.quick else (5000, 20, 1.0)
    args = argparse.Namespace(messages=size[0], helps=size[1], every=size[2], repeat=options.repeat, budget=100.0, slack_limit=120.0)  # fmt: skip
    runs = lane.measure(args)

    def p99s(mode: str) -> list[float]:
        return [lane.percentile(run["latencies"], 0.99) if run["latencies"] else float("inf") for run in runs[mode]]

    unanswered = [float(run["asked"] - len(run["latencies"])) for run in runs["lane"]]
    return {"reply-lane": {"rmbot": p99s("lane"), "baseline": p99s("fifo"), "unanswered": unanswered}}


def matching(options: argparse.Namespace, wanted: set[str]) -> Series:
    """Each needed mode of each scenario in its own process, ``--repeat`` warm runs each after a cold one."""
    import matching as bench

    args = argparse.Namespace(seed=7, repeat=options.repeat, b_size=10_000, memory_cap=12.0, quick=options.quick)
    needs = {
        "a": ({"stable"} if "matching-stable-5k" in wanted else set()) | ({"optimal", "bare"} if "matching-optimal-5k" in wanted else set()),
        "b": ({"stable"} if "matching-stable-10k" in wanted else set()) | ({"optimal", "bare"} if "matching-optimal-10k" in wanted else set()),
    }  # fmt: skip
    found: dict[tuple[str, str], bench.Found] = {}
    for scenario, modes in needs.items():
        for mode in ("bare", "optimal", "stable"):
            if mode in modes:
                print(f"\nscenario {scenario}, {mode}", flush=True)
                result = bench.run_child(args, scenario, mode)
                if result is None:
                    raise SystemExit(f"matching: scenario {scenario}, {mode}: no result")
                found[(scenario, mode)] = result
    gib = 1024**3
    series: Series = {}
    if ("a", "stable") in found:
        series["matching-stable-5k"] = {
            "rmbot": found[("a", "stable")][3],
            "peak_gib": [found[("a", "stable")][2] / gib],
        }
    if ("b", "stable") in found:
        series["matching-stable-10k"] = {
            "rmbot": found[("b", "stable")][4],
            "peak_gib": [found[("b", "stable")][2] / gib],
        }
    for scenario, key in (("a", "matching-optimal-5k"), ("b", "matching-optimal-10k")):
        if (scenario, "optimal") in found:
            series[key] = {
                "rmbot": found[(scenario, "optimal")][3],
                "baseline": found[(scenario, "bare")][3],
                "peak_gib": [found[(scenario, "optimal")][2] / gib],
            }
    return series  # fmt: skip


def start_up(options: argparse.Namespace, wanted: set[str]) -> Series:
    """``--repeat`` new processes of each: ``import typer, rich``, ``rmbot --help``, ``rmbot chat``."""
    import start_up as bench

    found = bench.measure(options.repeat)
    return {
        "start-help": {"rmbot": found["help"], "baseline": found["floor"]},
        "start-chat": {"rmbot": found["chat"], "rss_mib": found["chat_rss"]},
    }


@dataclass(frozen=True)
class Group:
    """How a group of rows is measured: its function, and whether each repetition needs a fresh child."""

    measure: Callable[[argparse.Namespace, set[str]], Series]
    fresh_each_time: bool  # one child per repetition (else one child runs every repetition)
    needs_postgresql: bool = False


GROUPS = {
    "throughput-sqlite": Group(throughput, True),
    "throughput-postgresql": Group(throughput, True, needs_postgresql=True),
    "status": Group(status, True),
    "ack-sqlite": Group(acks, False),
    "ack-postgresql": Group(acks, False, needs_postgresql=True),
    "reply-lane": Group(reply_lane, False),
    "matching": Group(matching, False),
    "start-up": Group(start_up, False),
}

"""Fast and calm under load: every row of the table in docs/performance.md, each beside its baseline measured in
the same run, repeated, with the median and the spread, against the goal.

    .venv/bin/python benchmarks/under_load.py [--repeat 3] [--rows NAME ...] [--quick]
                                              [--database-url postgresql://postgres@127.0.0.1:5432/test]

Rows and their measuring code (each script still runs on its own, as documented):

* worker throughput, per kind of event, beside the Core-SQL floor (``inbox_throughput.py``; PostgreSQL ``help``
  when a database URL is given, or ``TEST_DATABASE_URL``);
* the coordinator's ``status`` at 2,000 participants beside 200, and its statements (``status_command.py``);
* ack p99 of ``rmbot serve`` against a bare slack-bolt app at 50 and 200 requests/s, and the acks-only server
  (``slack_ack_latency.py``, SQLite, and PostgreSQL when a URL is given);
* ``help`` answered during a fan-out, beside first in, first out (``reply_lane.py``);
* stable and optimal matching, the optimal end to end beside the bare solver (``matching.py``);
* ``rmbot --help`` beside ``import typer, rich``, and ``rmbot chat``'s first answer (``start_up.py``).

Each group of rows runs in a child process of its own (so one group's memory and garbage do not weigh on the
next; the matching modes and the servers run in processes of their own below it). ``--repeat N`` repeats each
measurement N times: throughput and ``status`` in a fresh child and store each time, the acks N times over the
same servers, the fan-out N runs per mode, the matching N warm runs per mode in one process (after a cold one),
start-up N processes of each kind. The table shows the median and the spread (min-max) over the repetitions; the
ratio is of the medians; "met" is worked out from the medians. What each child printed goes to a log file
(named at the end). ``--quick`` runs the smallest sizes and durations that still exercise every row (to check
that it runs, in about 3 minutes; its figures are not the goals' conditions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(BENCHMARKS)]


@dataclass(frozen=True)
class Check:
    """One condition of a goal: ``measure`` is ``rmbot`` (the row's median), ``ratio`` (rmbot's median over the
    baseline's) or an extra series of the row (such as ``peak_gib``)."""

    measure: str
    op: str  # "<=", ">=" or "<"
    limit: float


@dataclass(frozen=True)
class Row:
    key: str  # selected by --rows (the key or a prefix of it)
    what: str
    group: str  # the child that measures it (with the other rows of its group)
    unit: str
    baseline: str  # what the baseline is, "" if the row has none
    goal: str  # the goal as the issue states it
    checks: tuple[Check, ...]  # empty: a row shown for context, no goal of its own


ROWS: tuple[Row, ...] = (
    Row("help-sqlite", "worker: `help` DM (SQLite)", "throughput-sqlite", "events/s", "Core-SQL floor", ">= 500/s", (Check("rmbot", ">=", 500),)),
    Row("consent-sqlite", "worker: consent button (SQLite)", "throughput-sqlite", "events/s", "", ">= 300/s", (Check("rmbot", ">=", 300),)),
    Row("intake-sqlite", "worker: intake answer (SQLite)", "throughput-sqlite", "events/s", "", ">= 400/s", (Check("rmbot", ">=", 400),)),
    Row("help-postgresql", "worker: `help` DM (PostgreSQL)", "throughput-postgresql", "events/s", "Core-SQL floor", ">= 350/s", (Check("rmbot", ">=", 350),)),
    Row("status-2000", "coordinator `status`, 2,000 participants", "status", "ms", "200 participants", "<= 50 ms", (Check("rmbot", "<=", 50),)),
    Row("status-statements", "`status` statements, 2,000 participants", "status", "statements", "200 participants", "bounded: within x1.1 of 200", (Check("ratio", "<=", 1.1),)),
    Row("ack-50-sqlite", "ack p99, 50 req/s (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "<= x3 bare", (Check("ratio", "<=", 3),)),
    Row("ack-only-50-sqlite", "ack p99, 50 req/s, acks only, no worker (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-200-sqlite", "ack p99, 200 req/s (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "<= x5 bare", (Check("ratio", "<=", 5),)),
    Row("ack-only-200-sqlite", "ack p99, 200 req/s, acks only, no worker (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-50-postgresql", "ack p99, 50 req/s (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "<= x3 bare", (Check("ratio", "<=", 3),)),
    Row("ack-only-50-postgresql", "ack p99, 50 req/s, acks only, no worker (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-200-postgresql", "ack p99, 200 req/s (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "<= x5 bare", (Check("ratio", "<=", 5),)),
    Row("ack-only-200-postgresql", "ack p99, 200 req/s, acks only, no worker (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "(context)", ()),
    Row("reply-lane", "`help` p99 during a 5,000-DM fan-out", "reply-lane", "s", "first in, first out", "< 2 s", (Check("rmbot", "<", 2),)),
    Row("matching-stable-5k", "stable matching 5,000 x 1,500, end to end", "matching", "s", "", "<= 2 s", (Check("rmbot", "<=", 2),)),
    Row("matching-stable-10k", "stable matching 10,000 x 10,000, solve", "matching", "s", "", "<= 10 s, <= 2 GiB", (Check("rmbot", "<=", 10), Check("peak_gib", "<=", 2))),
    Row("matching-optimal-5k", "optimal matching 5,000 x 1,500, end to end", "matching", "s", "bare solver", "<= x1.2 bare", (Check("ratio", "<=", 1.2),)),
    Row("matching-optimal-10k", "optimal matching 10,000 x 10,000, end to end", "matching", "s", "bare solver", "<= x1.2 bare", (Check("ratio", "<=", 1.2),)),
    Row("start-help", "`rmbot --help`", "start-up", "s", "`import typer, rich`", "<= 0.3 s", (Check("rmbot", "<=", 0.3),)),
    Row("start-chat", "`rmbot chat`, first answer", "start-up", "s", "", "<= 1 s", (Check("rmbot", "<=", 1),)),
)  # fmt: skip
"""The rows, in the table's order, with the issue's goals."""

EXTRAS = {
    "sql": "{:.1f} SQL/event",
    "statements": "{:.0f} statements",
    "peak_gib": "{:.2f} GiB peak",
    "rss_mib": "{:.0f} MiB",
    "non_2xx": "{:.0f} non-2xx",
    "unanswered": "{:.0f} unanswered",
}
"""Series shown beside a median (their median), by name; ``baseline_<name>`` beside the baseline's."""

Series = dict[str, dict[str, list[float]]]
"""Per row key: its series by name (``rmbot``, ``baseline``, extras), one value per repetition."""


# -- the groups, each run in a child process -------------------------------------------------------------------


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


# -- the parent: run the groups, then the table ------------------------------------------------------------------


def selected(names: list[str], postgresql: bool) -> list[Row]:
    """The rows whose key (or group) is one of ``names`` or starts with one; PostgreSQL rows only with a URL."""
    rows = [row for row in ROWS if postgresql or not GROUPS[row.group].needs_postgresql]
    if not names:
        return rows
    return [row for row in rows if any(row.key.startswith(name) or row.group.startswith(name) for name in names)]


def run_group(name: str, rows: list[Row], options: argparse.Namespace, log: Path) -> Series:
    """Run the group in child processes (their output appended to ``log``); its series, repetitions merged."""
    children = options.repeat if GROUPS[name].fresh_each_time else 1
    merged: Series = {}
    for child in range(children):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            result = Path(handle.name)
        command = [sys.executable, __file__, "--group", name, "--result", str(result)]
        command += ["--repeat", str(1 if GROUPS[name].fresh_each_time else options.repeat)]
        command += ["--rows", *(row.key for row in rows)] + (["--quick"] if options.quick else [])
        command += ["--database-url", options.database_url] if options.database_url else []
        with log.open("a") as output:
            output.write(f"\n===== {name}, child {child + 1} of {children}: {' '.join(command)}\n")
            output.flush()
            done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
        found = json.loads(result.read_text()) if done.returncode == 0 and result.stat().st_size else None
        result.unlink(missing_ok=True)
        if found is None:
            tail = log.read_text().splitlines()[-15:]
            print(f"  {name}: the child failed ({done.returncode}); the end of its output:", *tail, sep="\n    ")
            return merged
        for key, series in found.items():
            for label, values in series.items():
                merged.setdefault(key, {}).setdefault(label, []).extend(values)
    return merged


def shown(unit: str, value: float) -> str:
    if value == float("inf"):
        return "none"
    if unit == "events/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    return f"{value:.0f}"


def summary(unit: str, values: list[float], series: dict[str, list[float]], prefix: str = "") -> str:
    """``median (min-max)``, then the medians of the extra series."""
    if not values:
        return ""
    text = shown(unit, statistics.median(values))
    if len(values) > 1:
        low, high = shown(unit, min(values)), shown(unit, max(values))
        text += f" ({low.split()[0].removesuffix('/s')}-{high})"
    for name, form in EXTRAS.items():
        extra = series.get(prefix + name)
        if extra and (name not in ("non_2xx", "unanswered") or any(extra)):
            text += ", " + form.format(statistics.median(extra))
    return text


def verdict(row: Row, series: dict[str, list[float]]) -> tuple[str, str]:
    """The ratio of the medians (where the row has a baseline) and "met" / "not met" (or "" with no goal)."""
    rmbot, baseline = series.get("rmbot", []), series.get("baseline", [])
    ratio = (
        statistics.median(rmbot) / statistics.median(baseline)
        if rmbot and baseline and statistics.median(baseline)
        else None
    )
    as_ratio = any(check.measure == "ratio" for check in row.checks) or not row.checks
    ratio_text = f"x{ratio:.2f}" if ratio is not None and as_ratio else ""
    if not row.checks or not rmbot:
        return ratio_text, "" if rmbot else "not measured"
    compare = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    for check in row.checks:
        found = (
            ratio
            if check.measure == "ratio"
            else (statistics.median(series[check.measure]) if series.get(check.measure) else None)
        )
        if found is None or not compare[check.op](float(found), float(check.limit)):
            return ratio_text, "not met"
    return ratio_text, "met"  # fmt: skip


def table(rows: list[Row], found: Series, took: dict[str, float]) -> list[str]:
    lines = [
        "| row | rmbot, median (min-max) | baseline, same run | ratio | goal | verdict | group took |",
        "|---|---|---|---|---|---|---|",
    ]
    first_of_group: set[str] = set()
    for row in rows:
        series = found.get(row.key, {})
        base = summary(row.unit, series.get("baseline", []), series, "baseline_")
        base = f"{row.baseline}: {base}" if base else ""
        ratio, met = verdict(row, series)
        group_took = "" if row.group in first_of_group else f"{took.get(row.group, 0):.0f} s"
        first_of_group.add(row.group)
        cells = [
            row.what,
            summary(row.unit, series.get("rmbot", []), series) or "-",
            base,
            ratio,
            row.goal,
            met,
            group_took,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--repeat", type=int, default=None, help="repetitions of each measurement (default 3; --quick 1)"
    )
    parser.add_argument(
        "--rows", nargs="+", default=[], help="rows by key or prefix (or group), as in the table's keys"
    )
    parser.add_argument("--quick", action="store_true", help="the smallest sizes that exercise every row (about 3 min)")
    parser.add_argument(
        "--database-url", default=os.environ.get("TEST_DATABASE_URL", ""), help="PostgreSQL, for its rows"
    )
    parser.add_argument("--log", default="", help="where the children's output goes (default: a temporary file)")
    parser.add_argument("--list", action="store_true", help="list the rows' keys and exit")
    parser.add_argument("--group", default="", help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    options.repeat = max(1, options.repeat or (1 if options.quick else 3))
    if options.database_url and not options.database_url.startswith("postgres"):
        parser.error("--database-url: a PostgreSQL URL (SQLite is always measured)")
    if options.list:
        for row in ROWS:
            print(f"{row.key:<26} {row.group:<22} {row.what}")
        return
    if options.group:  # a child: measure, write the series
        series = GROUPS[options.group].measure(options, set(options.rows))
        Path(options.result).write_text(json.dumps(series))
        return

    rows = selected(options.rows, bool(options.database_url))
    if not rows:
        parser.error("--rows: no row matches (see --list)")
    log = Path(options.log) if options.log else Path(tempfile.mkstemp(prefix="rmbot-under-load-", suffix=".log")[1])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"rmbot under load, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs; uptime: {uptime}")
    print(f"command: {' '.join(['.venv/bin/python', 'benchmarks/under_load.py', *sys.argv[1:]])}")
    print(
        f"{options.repeat} repetition(s) each{'; QUICK: small sizes, short loads (checks that it runs)' if options.quick else ''}"
    )
    print(f"PostgreSQL: {'yes' if options.database_url else 'no (give --database-url or TEST_DATABASE_URL)'}\n", flush=True)  # fmt: skip
    found: Series = {}
    took: dict[str, float] = {}
    started_all = time.monotonic()
    for name in dict.fromkeys(row.group for row in rows):
        started = time.monotonic()
        print(f"{name}: running ({datetime.now(UTC):%H:%M:%S}, load average {load()})", flush=True)
        found.update(run_group(name, [row for row in rows if row.group == name], options, log))
        took[name] = time.monotonic() - started
        print(f"{name}: took {took[name]:.0f} s", flush=True)
    print(f"\nall rows took {(time.monotonic() - started_all) / 60:.1f} min; load average at the end {load()}\n")
    print("\n".join(table(rows, found, took)))
    if options.quick:
        print("\nQUICK: the sizes and loads are smaller than the rows say; the verdicts only check the arithmetic.")
    print(f"\nwhat each measurement printed: {log}")


if __name__ == "__main__":
    main()

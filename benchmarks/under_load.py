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
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(BENCHMARKS)]

from under_load_groups import GROUPS  # noqa: E402
from under_load_report import table  # noqa: E402
from under_load_rows import ROWS, Row, Series  # noqa: E402


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


def load() -> str:
    """The machine's load averages (1, 5 and 15 minutes)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    """Run the selected rows' groups in child processes and print the table (or, as a child, one group)."""
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

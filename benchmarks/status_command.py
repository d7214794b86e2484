"""How long the coordinator's ``status`` takes, and how many SQL statements it runs, by programme size.

    .venv/bin/python benchmarks/status_command.py [--sizes 200 2000] [--repeat 5] [--quick]

Each size is a fresh SQLite store with a programme of that many participants in every state (the builder of
``tests/test_statement_counts.py``); each measure is one ``status`` event handled by the worker (claim,
handle, mark done), after one warm-up. Prints the median and the range of the time, and the statements.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from adapters.console.session import console_event  # noqa: E402
from adapters.server import freeze_start_up_objects  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from test_statement_counts import COORD, programme_of  # noqa: E402


def measure(size: int, repeat: int) -> dict[str, float]:
    """Time ``status`` ``repeat`` times on a programme of ``size`` participants, print the line and return the
    seconds (median, min, max) and the statements."""
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'status.db'}")
        chat, counter = programme_of(store, size)
        freeze_start_up_objects()  # as the worker does once started: the set-up's objects are not the worker's
        times: list[float] = []
        statements = 0
        for run in range(repeat + 1):
            chat.runtime.accept(console_event(COORD, "status", None, chat.clock.now(), f"status-{run}"))
            counter.statements.clear()
            counter.counting = True
            started = time.perf_counter()
            chat.runtime.process_pending()
            elapsed = time.perf_counter() - started
            counter.counting = False
            chat.runtime.send_pending(chat.deliverer)
            if run:  # the first is the warm-up
                times.append(elapsed)
                statements = len(counter.statements)
        store.close()
    print(
        f"status, {size:>5} participants: median {statistics.median(times) * 1000:7.1f} ms "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {repeat} runs), {statements} SQL statements",
        flush=True,
    )
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20 and 200 participants, 2 runs")
    args = parser.parse_args()
    sizes, repeat = ([20, 200], 2) if args.quick else (args.sizes, args.repeat)
    for size in sizes:
        measure(size, repeat)


if __name__ == "__main__":
    main()

"""Time how long the ``rmbot`` command line takes to start: ``rmbot --help`` and ``rmbot chat``'s first answer.

Run: ``.venv/bin/python benchmarks/start_up.py`` (``--repeat N`` runs of each, default 7; ``--quick``: 2).

Each figure is the wall time of a new process, as an operator sees it, printed as the median with the
fastest and slowest run (the spread), beside its goal:

* floor: ``python -c "import typer, rich"``, what any Typer command line with Rich help pays;
* ``rmbot --help``: goal at most 0.3 s;
* ``rmbot chat``: from starting the process to the bot's answer to ``help`` piped on standard input, on a
  database that exists (the first run ever also migrates it and loads the sample organisation: timed once,
  shown apart); goal at most 1 s. Beside it, the process's peak resident memory at that moment (Linux).

The processes run in a temporary directory (no ``.env`` is read) with a SQLite database of their own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = Path(sys.executable).parent / "rmbot"
RMBOT = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "adapters.cli"]
ANSWER = "bot ▸"
TYPED = "▸ help"


def environment(work: Path) -> dict[str, str]:
    """The benchmark's processes' environment: a database and a files folder of their own."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{work / 'rmbot.db'}",
        "RMBOT_FILES_DIR": str(work / "files"),
    }


def timed_run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one process run to its end (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far, in MiB (``VmHWM``; 0 where ``/proc`` has none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def first_answer(env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds from starting ``rmbot chat`` to the bot's answer to ``help``, and the peak RSS then (MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [*RMBOT, "chat"],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("help\n")
    process.stdin.close()
    elapsed, memory, typed = 0.0, 0.0, False
    for line in process.stdout:
        if typed and line.startswith(ANSWER):
            elapsed, memory = time.perf_counter() - started, peak_rss_mib(process.pid)
            break
        typed = typed or TYPED in line
    process.stdout.read()
    if process.wait() != 0 or not elapsed:
        raise SystemExit(f"rmbot chat gave no answer to help (exit {process.returncode})")
    return elapsed, memory


def spread(label: str, runs: list[float], goal: float | None = None, unit: str = "s") -> None:
    """One line: median, fastest and slowest of the runs, and the goal if there is one."""
    shown = f"{label:<34} median {statistics.median(runs):6.3f} {unit}  (min {min(runs):.3f}, max {max(runs):.3f}"
    shown += f", {len(runs)} runs)"
    if goal is not None:
        verdict = "met" if statistics.median(runs) <= goal else "NOT met"
        shown += f"  goal <= {goal:g} {unit}: {verdict}"
    print(shown, flush=True)


def repeat(times: int, run: Callable[[], float]) -> list[float]:
    return [run() for _ in range(times)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each measurement (default 7)")
    parser.add_argument("--quick", action="store_true", help="2 runs of each, to check the script works")
    options = parser.parse_args()
    measure(2 if options.quick else max(1, options.repeat))


def measure(times: int) -> dict[str, list[float]]:
    """Print each measurement and return its runs: ``floor``, ``help``, ``chat`` (seconds), ``chat_rss`` (MiB)."""
    print(f"rmbot start-up, {times} runs each ({' '.join(RMBOT)}); {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="rmbot-start-up-") as folder:
        work = Path(folder)
        env = environment(work)
        floor = [sys.executable, "-c", "import typer, rich"]
        found = {"floor": repeat(times, lambda: timed_run(floor, env, work))}
        spread("floor: import typer, rich", found["floor"])
        found["help"] = repeat(times, lambda: timed_run([*RMBOT, "--help"], env, work))
        spread("rmbot --help", found["help"], goal=0.3)
        fresh, _ = first_answer(env, work)
        print(f"{'rmbot chat, first run ever':<34} {fresh:6.3f} s  (migrates, loads the sample organisation)")
        answers = [first_answer(env, work) for _ in range(times)]
        found["chat"], found["chat_rss"] = [seconds for seconds, _ in answers], [memory for _, memory in answers]
        spread("rmbot chat: first answer", found["chat"], goal=1.0)
        if any(found["chat_rss"]):
            spread("rmbot chat: peak RSS at answer", found["chat_rss"], unit="MiB")
    return found


if __name__ == "__main__":
    main()

"""The ``rmbot`` command line run in-process, as a user would run it, without the cost of a new interpreter.

``run_cli`` calls the real entry point (:func:`adapters.cli.main`, error handling included) with its
arguments, standard input, environment and working directory isolated, and returns what a process would
have: the exit code, standard output and standard error. Tests that must kill a real process use
``run_process``, which has the same shape.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli import main

ROOT = Path(__file__).resolve().parent.parent
RMBOT = [sys.executable, "-m", "adapters.cli"]
_INHERITED_ONLY_WHEN_ASKED = ("RMBOT_FAILPOINT",)


@dataclass(frozen=True)
class Ran:
    """What a finished ``rmbot`` command left: its exit code and its two output streams."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str | None] | None = None, stdin: str = "", cwd: Path | None = None) -> Ran:
    """Run ``rmbot ARGS`` in this process; ``env`` adds to (and wins over) the current environment, None unsets."""
    overrides: dict[str, str | None] = {name: None for name in _INHERITED_ONLY_WHEN_ASKED}
    overrides.update(env or {})
    runner = CliRunner()
    previous = Path.cwd()
    code = 0
    with runner.isolation(input=stdin, env=overrides) as (out, err, _):
        if cwd is not None:
            os.chdir(cwd)
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            os.chdir(previous)
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Ran(code, stdout, stderr)


def run_process(
    *args: str, env: Mapping[str, str] | None = None, stdin: str = "", cwd: Path, timeout: float = 120
) -> Ran:
    """Run ``rmbot ARGS`` as a new process (for tests that kill it or need a process of its own)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in _INHERITED_ONLY_WHEN_ASKED:
        if name not in (env or {}):
            full_env.pop(name, None)
    done = subprocess.run(
        [*RMBOT, *args], input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(env: Mapping[str, str], cwd: Path, timeout: float = 30) -> Iterator[str]:
    """A real ``rmbot serve`` process on a free port, yielded as its base URL once ``/healthz`` answers 200;
    interrupted (SIGINT, as Ctrl-C) afterwards."""
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(
        [*RMBOT, "serve", "--port", str(port)],
        env=full_env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)

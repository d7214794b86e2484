"""The fault harness's server: the real ``rmbot serve`` in its own process on a fixed port (start, SIGKILL,
restart), and the ``serve`` role that runs it with the wall clock shifted
(``python tests/fault_support.py serve --clock-shift SECONDS -- serve --port PORT``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SCRIPT = TESTS / "fault_support.py"
"""The harness's processes start as ``python tests/fault_support.py ROLE …``."""
SECRET = "fault-harness-signing-secret"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``rmbot serve`` with Slack configured (signed HTTP, the fake as its Web API) on a fixed port.

    ``lease`` sets RMBOT_SEND_LEASE_SECONDS: how long a message leased by a process that was killed
    mid-send waits before it is offered again (two minutes unless set)."""

    def __init__(
        self, database_url: str, api_url: str, workdir: Path, *, lease: float | None = None, clock_shift: float = 0.0
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = workdir / "server.log"
        self.command = (
            [sys.executable, "-m", "adapters.cli"]
            if not clock_shift
            else [sys.executable, str(SCRIPT), "serve", "--clock-shift", str(clock_shift), "--"]
        )
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "RMBOT_", "DATABASE_URL"))
        }
        self.env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=api_url,
            SLACK_WORKSPACE_BUDGET="1000",
            RMBOT_LOG_LEVEL="WARNING",
        )
        if lease:
            self.env["RMBOT_SEND_LEASE_SECONDS"] = str(lease)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the process, its output appended to ``server.log`` in the work directory."""
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*self.command, "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def ready(self, timeout: float = 120.0) -> None:
        """Wait until /healthz answers (raises with the log's tail if the process died or never answered)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"rmbot serve is not answering on port {self.port}:\n{tail}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ctrl-C, as an operator would stop it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def serve_shifted(argv: list[str]) -> None:
    """The ``serve`` entry point: shift the wall clock, then run the ``rmbot`` command line."""
    shift = float(argv[argv.index("--clock-shift") + 1])
    import bot.clock

    wall = bot.clock.SystemClock.now
    bot.clock.SystemClock.now = lambda self: wall(self) + timedelta(seconds=shift)  # type: ignore[method-assign]
    from adapters.cli import main

    sys.argv = ["rmbot", *argv[argv.index("--") + 1 :]]
    main()

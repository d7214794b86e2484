"""The handling work of ``rmbot serve`` in a process of its own, supervised by the web process.

Handling events, sending and the scheduler share no interpreter with the acknowledgements: a CPU-busy handler
in the web process would hold the GIL while Slack waits for its 3-second ack. So by default
(``RMBOT_WORKER=process``) the web process of role ``all`` starts a child, restarts it when it exits, and stops
it on shutdown; the user still runs one command.

* The child is the same command line the parent was started with (``sys.orig_argv``) with
  :data:`CHILD_ENV` set, so it reads the same settings (and anything the launcher set up, such as a shifted
  clock in the fault tests). It runs what a ``worker``-role process runs, without an HTTP listener.
* The parent pokes the child through its stdin (a byte per accepted event), so an idle worker starts at once
  on SQLite too; on PostgreSQL it also LISTENs for accepts of other replicas. The poll stays as a fallback.
* When the parent dies, even by SIGKILL, the child reads the end of its stdin and stops: it finishes the
  event it is handling (one transaction) and hands back the messages it had claimed.
* What the child's runtime observes (events handled, messages sent, send failures, scheduler leadership) goes
  back to the parent as one line per observation on its stdout (:class:`ObservationRelay`), and the parent
  applies it to its own metrics, so ``/metrics`` on the web process counts the work done in the child.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import IO, Protocol

log = logging.getLogger(__name__)

CHILD_ENV = "RMBOT_WORKER_CHILD"
"""Set in the environment of the worker child: ``rmbot serve`` then runs only the handling work."""
QUICK_EXIT_SECONDS = 5.0
"""A child that exits sooner than this after starting counts as failing to start: the restarts back off."""
MAX_RESTART_DELAY = 30.0
LEADER_EVERY_SECONDS = 1.0
"""How often the child reports whether it holds scheduler leadership."""


class Observer(Protocol):
    """The parent's metrics, as the relay feeds them (``adapters.observability.Metrics``)."""

    def event_processed(self, platform: str, outcome: str) -> None: ...
    def message_sent(self, platform: str) -> None: ...
    def send_failed(self, platform: str, will_retry: bool) -> None: ...
    def send_deferred(self, platform: str) -> None: ...


class ObservationRelay:
    """In the child: the runtime's observer, writing each observation as a line to the parent (its stdout)."""

    def __init__(self, out: IO[bytes] | None = None) -> None:
        self._out = out if out is not None else sys.stdout.buffer
        self._lock = threading.Lock()

    def _send(self, *words: str) -> None:
        line = (" ".join(words) + "\n").encode()
        with self._lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (OSError, ValueError):  # the parent is gone: the child stops at the end of its stdin
                pass

    def event_accepted(self, platform: str, duplicate: bool) -> None:
        """Accepts happen in the web process, which counts them itself."""

    def event_processed(self, platform: str, outcome: str) -> None:
        self._send("processed", platform, outcome)

    def message_sent(self, platform: str) -> None:
        self._send("sent", platform)

    def send_failed(self, platform: str, will_retry: bool) -> None:
        self._send("failed", platform, "retry" if will_retry else "final")

    def send_deferred(self, platform: str) -> None:
        self._send("deferred", platform)

    def leadership(self, leading: bool) -> None:
        """Whether the child holds scheduler leadership (reported every :data:`LEADER_EVERY_SECONDS`)."""
        self._send("leader", "1" if leading else "0")


def apply_observation(line: str, observer: Observer) -> bool | None:
    """Apply one relayed line to ``observer``; returns the leadership it reports, if it is a leadership line."""
    words = line.split()
    match words:
        case ["processed", platform, outcome]:
            observer.event_processed(platform, outcome)
        case ["sent", platform]:
            observer.message_sent(platform)
        case ["failed", platform, retry]:
            observer.send_failed(platform, retry == "retry")
        case ["deferred", platform]:
            observer.send_deferred(platform)
        case ["leader", flag]:
            return flag == "1"
        case _:
            log.warning("the worker process reported something unknown: %r", line[:200])
    return None


def is_worker_child() -> bool:
    """Whether this process is the worker child of an ``rmbot serve`` web process."""
    return os.environ.get(CHILD_ENV) == "1"


def child_command() -> list[str]:
    """The command line this process was started with (interpreter, flags and all), to start the child; the
    plain ``rmbot serve`` when this process was not started as one (``serve`` embedded in another program)."""
    started = list(sys.orig_argv)
    return started if "serve" in started[1:] else [sys.executable, "-m", "adapters.cli", "serve"]


class WorkerProcess:
    """Starts the worker child, restarts it whenever it exits (backing off while it keeps failing at once), pokes
    it when an event was accepted, and stops it on shutdown."""

    def __init__(
        self, command: list[str] | None = None, env: dict[str, str] | None = None, observer: Observer | None = None
    ) -> None:
        self.command = command or child_command()
        self.observer = observer
        self.leading = False
        """Whether the running child reported holding scheduler leadership (False while none runs)."""
        self.env = {**(env if env is not None else os.environ), CHILD_ENV: "1"}
        self.restarts = 0
        """How often the child was started again after it exited."""
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._quick_exits = 0
        self._thread = threading.Thread(target=self._supervise, name="rmbot-worker-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before it starts)."""
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the child and watch it."""
        self._spawn()
        self._thread.start()

    def poke(self) -> None:
        """Tell the child an event was accepted (never blocks; a full pipe already means "look")."""
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            os.write(process.stdin.fileno(), b".")
        except (BlockingIOError, OSError, ValueError):
            pass

    def alive(self) -> bool | str:
        """Readiness: True unless the child keeps exiting as soon as it starts."""
        if self._quick_exits >= 3:
            return f"the worker process keeps exiting ({self._quick_exits} times in a row)"
        return True

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the child to stop (SIGTERM: it finishes its event and hands back claimed messages); kill it if
        it has not stopped within ``timeout`` seconds."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("the worker process did not stop within %s s; killing it", timeout)
            process.kill()
            process.wait()
        self._thread.join(timeout=5)

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            process = subprocess.Popen(self.command, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            if process.stdin is not None:
                os.set_blocking(process.stdin.fileno(), False)
            self._process = process
        threading.Thread(target=self._relay, args=(process,), name="rmbot-worker-relay", daemon=True).start()

    def _relay(self, process: subprocess.Popen[bytes]) -> None:
        """Apply what the child reports to the parent's metrics, until its stdout ends."""
        if process.stdout is None:
            return
        for raw in process.stdout:
            if self.observer is None:
                continue
            leading = apply_observation(raw.decode(errors="replace"), self.observer)
            if leading is not None:
                self.leading = leading
        self.leading = False

    def _supervise(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started < QUICK_EXIT_SECONDS:
                self._quick_exits += 1
                delay = min(delay * 2, MAX_RESTART_DELAY)
            else:
                self._quick_exits, delay = 0, 0.5
            log.warning("the worker process %s exited (%s); starting it again in %.1f s", process.pid, code, delay)
            if process.stdin is not None:
                process.stdin.close()
            if self._stopping.wait(delay):
                return
            self._spawn()
            self.restarts += 1


def run_child(start: Callable[[], None], poke: Callable[[], None], stop: Callable[[], None]) -> None:
    """The worker child's main loop: ``start`` the work, ``poke`` it for every byte read from stdin, and ``stop``
    it on SIGTERM, SIGINT, or the end of stdin (the web process is gone)."""
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _yield_the_processor()
    threading.Thread(target=_read_pokes, args=(poke, stopping), name="rmbot-pokes", daemon=True).start()
    start()
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        stop()


WORKER_NICENESS = 5
"""How much lower the worker child's scheduling priority is than the web process's: when both want the processor
(a burst), the operating system runs the acknowledgements first and the handling work with what is left."""


def _yield_the_processor() -> None:
    """Lower this process's priority (``os.nice``); where that is not allowed, carry on as it is."""
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # no os.nice (Windows), or refused: the default priority is still correct
        pass


def _read_pokes(poke: Callable[[], None], stopping: threading.Event) -> None:
    """Poke for every read from stdin; at its end (the parent closed it or died) stop."""
    try:
        while os.read(sys.stdin.fileno(), 4096):
            poke()
    except (OSError, ValueError):
        pass
    stopping.set()

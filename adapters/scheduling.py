"""APScheduler 3 behind the engine's small waker interface, with scheduler leadership across replicas.

The store is the source of truth for what is due; APScheduler only wakes the process at the next due
time and on a periodic safety tick, so downtime is caught up on start and nothing runs twice.

With several replicas on one database, every replica ticks, and on every tick tries for leadership
(``storage.leader``); only the leader runs the due work. When the leader dies another replica takes
over on its next tick. Leadership is duck-typed here: anything with ``try_lead()`` and ``release()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


class _SoleLeader:
    """One process, always the leader (the default without a leadership object)."""

    def try_lead(self) -> bool:
        return True

    def release(self) -> None:
        pass


class DueWaker:
    """Calls ``work`` at every tick and at each next due time it is told about, while this process leads."""

    def __init__(self, work: Callable[[], datetime | None], tick_seconds: float = 5.0, leadership: Any = None) -> None:
        self._work = work
        self._leadership = leadership if leadership is not None else _SoleLeader()
        self._leading: bool | None = None  # not decided yet
        self._deciding = threading.Lock()
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:  # a line per run would drown the log at a tick of a few seconds
            quiet.setLevel(logging.WARNING)
        self._scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self._scheduler.add_job(self._run, IntervalTrigger(seconds=tick_seconds), id="tick")

    @property
    def is_leader(self) -> bool:
        """Whether this process ran the scheduler at its latest tick (for readiness and metrics)."""
        return bool(self._leading)

    def start(self) -> None:
        """Start ticking, and try for leadership (and the due work) at once."""
        self._scheduler.start()
        self.wake_at(datetime.now(UTC))

    def shutdown(self) -> None:
        """Stop ticking and give leadership up, so another replica takes over without waiting."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        with self._deciding:
            self._leadership.release()
            if self._leading:
                log.info("scheduler leadership released")
            self._leading = False

    def wake_at(self, when: datetime) -> None:
        """Run the work at ``when`` (replacing any earlier wake-up request)."""
        self._scheduler.add_job(self._run, DateTrigger(run_date=when), id="wake", replace_existing=True)

    def _lead(self) -> bool:
        with self._deciding:
            try:
                leading = bool(self._leadership.try_lead())
            except Exception:  # noqa: BLE001 - not knowing means not leading; the next tick asks again
                log.exception("cannot decide scheduler leadership")
                leading = False
            if leading != self._leading:
                log.info(
                    "scheduler leadership %s",
                    "taken: this process runs the scheduled work"
                    if leading
                    else "held by another process: this one takes over if it stops"
                    if self._leading is None
                    else "lost: this process no longer runs the scheduled work",
                )
            self._leading = leading
            return leading

    def _run(self) -> None:
        if not self._lead():
            return
        try:
            following = self._work()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("scheduled work failed")
            return
        if following is not None:
            self.wake_at(max(following, datetime.now(UTC)))

"""APScheduler 3 behind the engine's small waker interface.

The store is the source of truth for what is due; APScheduler only wakes the process at the next due
time and on a periodic safety tick, so downtime is caught up on start and nothing runs twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


class DueWaker:
    """Calls ``work`` at every tick and at each next due time it is told about."""

    def __init__(self, work: Callable[[], datetime | None], tick_seconds: float = 30.0) -> None:
        self._work = work
        self._scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={"coalesce": True,
                                                                                    "max_instances": 1,
                                                                                    "misfire_grace_time": None})
        self._scheduler.add_job(self._run, IntervalTrigger(seconds=tick_seconds), id="tick")

    def start(self) -> None:
        self._scheduler.start()
        self.wake_at(datetime.now(timezone.utc))

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    def wake_at(self, when: datetime) -> None:
        """Run the work at ``when`` (replacing any earlier wake-up request)."""
        self._scheduler.add_job(self._run, DateTrigger(run_date=when), id="wake", replace_existing=True)

    def _run(self) -> None:
        try:
            following = self._work()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("scheduled work failed")
            return
        if following is not None:
            self.wake_at(max(following, datetime.now(timezone.utc)))

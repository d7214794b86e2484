"""What an operator watches: Prometheus metrics, readiness checks and structured (JSON) logs.

* :class:`Metrics` is the runtime's observer (``bot.ports.RuntimeObserver``) with its own
  ``CollectorRegistry``: counters move as events and messages go through the runtime, and the queue
  depths and the scheduler lag are read from the database at scrape time.
* :class:`Readiness` holds named checks that ``GET /readyz`` runs after its own (store, schema).
* :func:`configure_logging` sets up text or JSON-lines logging (``RMBOT_LOG_FORMAT``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from bot.model import Platform
from bot.ports import Store

log = logging.getLogger(__name__)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
Check = Callable[[], "bool | str | None"]
OUTCOMES = ("ok", "failed", "gave_up")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Metrics:
    """Prometheus metrics of one process, in a registry of its own (so tests can build many apps)."""

    def __init__(self, store: Store, now: Callable[[], datetime] | None = None) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        self.events_received = Counter(
            "rmbot_events_received", "Inbound events offered to the inbox", ["platform", "duplicate"], registry=reg
        )
        self.events_processed = Counter(
            "rmbot_events_processed", "Inbox events handled, by outcome", ["platform", "outcome"], registry=reg
        )
        self.messages_sent = Counter("rmbot_messages_sent", "Outbox messages delivered", ["platform"], registry=reg)
        self.send_failures = Counter(
            "rmbot_send_failures", "Outbox sends that failed with an error", ["platform", "final"], registry=reg
        )
        self.send_retries = Counter(
            "rmbot_send_retries", "Outbox sends put off to be tried again", ["platform", "reason"], registry=reg
        )
        for platform in Platform:  # every series exists from the start, so rate() and alerts see zeros
            for flag in ("true", "false"):
                self.events_received.labels(platform.value, flag)
                self.send_failures.labels(platform.value, flag)
            for outcome in OUTCOMES:
                self.events_processed.labels(platform.value, outcome)
            for reason in ("error", "rate_limited"):
                self.send_retries.labels(platform.value, reason)
            self.messages_sent.labels(platform.value)
        reg.register(QueueCollector(store, now or _utcnow))
        reg.register(DirectorySyncCollector(store))
        ProcessCollector(registry=reg)
        PlatformCollector(registry=reg)
        GCCollector(registry=reg)

    def watch_leadership(self, is_leader: Callable[[], bool]) -> None:
        """Expose ``rmbot_scheduler_leader``: 1 on the replica that runs the scheduled work."""
        Gauge(
            "rmbot_scheduler_leader", "1 when this process holds scheduler leadership", registry=self.registry
        ).set_function(lambda: 1.0 if is_leader() else 0.0)

    # -- bot.ports.RuntimeObserver ---------------------------------------------------------------------

    def event_accepted(self, platform: str, duplicate: bool) -> None:
        self.events_received.labels(platform, str(duplicate).lower()).inc()

    def event_processed(self, platform: str, outcome: str) -> None:
        self.events_processed.labels(platform, outcome).inc()

    def message_sent(self, platform: str) -> None:
        self.messages_sent.labels(platform).inc()

    def send_failed(self, platform: str, will_retry: bool) -> None:
        self.send_failures.labels(platform, str(not will_retry).lower()).inc()
        if will_retry:
            self.send_retries.labels(platform, "error").inc()

    def send_deferred(self, platform: str) -> None:
        self.send_retries.labels(platform, "rate_limited").inc()

    # -- exposition ------------------------------------------------------------------------------------

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The metrics in the format the scraper asked for (``Accept``), and its content type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class QueueCollector:
    """Inbox depth, outbox depth by platform and scheduler lag, read from the database at each scrape."""

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store, self.now = store, now

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        inbox, outbox, lag, up = self._families()
        try:
            inbox.add_metric([], self.store.inbox.pending_count())
            for platform in Platform:
                outbox.add_metric([platform.value], self.store.outbox.pending_count(platform.value))
            now = self.now()
            oldest = self.store.schedule.oldest_overdue(now)
            lag.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        except Exception:  # noqa: BLE001 - a scrape must answer even when the store does not
            log.warning("reading queue depths for metrics failed", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (inbox, outbox, lag, up)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("rmbot_inbox_depth", "Inbox events waiting to be handled"),
            GaugeMetricFamily(
                "rmbot_outbox_depth", "Outbox messages waiting to be sent or being sent", labels=["platform"]
            ),
            GaugeMetricFamily(
                "rmbot_scheduler_lag_seconds", "How long the oldest overdue scheduled job has waited to be enqueued"
            ),
            GaugeMetricFamily("rmbot_store_up", "1 when the queue depths could be read from the database"),
        )


class DirectorySyncCollector:
    """Directory sync totals by source (people added, changed, left; the last run), read from the database at each
    scrape, so every replica shows what the scheduler leader's syncs did."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        people, last = self._families()
        try:
            with self.store.unit_of_work() as uow:
                totals = uow.directory_sync.totals()
        except Exception:  # noqa: BLE001 - a scrape must answer even when the store does not
            log.warning("reading directory sync totals for metrics failed", exc_info=True)
            return
        for each in totals:
            for change, count in (("added", each.added), ("changed", each.changed), ("left", each.left)):
                people.add_metric([each.source, change], count)
            if each.last_run_at is not None:
                last.add_metric([each.source], each.last_run_at.timestamp())
        yield from (people, last)

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily]:
        return (
            CounterMetricFamily(
                "rmbot_directory_sync_people",
                "People directory syncs added, changed and found gone, by source",
                labels=["source", "change"],
            ),
            GaugeMetricFamily(
                "rmbot_directory_sync_last_run_timestamp_seconds",
                "When a directory sync from the source last changed the directory (Unix time)",
                labels=["source"],
            ),
        )


class Readiness:
    """Named readiness checks. A check returns True (or None) when ready, False or a reason when not."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add_check(self, name: str, check: Check) -> None:
        """Register (or replace) the check called ``name``."""
        self._checks[name] = check

    def failures(self) -> dict[str, str]:
        """Run every check; the ones not ready, with their reasons."""
        failing: dict[str, str] = {}
        for name, check in list(self._checks.items()):
            try:
                result = check()
            except Exception as exc:  # noqa: BLE001 - a broken check means not ready, with its reason
                result = f"{type(exc).__name__}: {exc}"
            if result is False:
                failing[name] = "check failed"
            elif isinstance(result, str) and result:
                failing[name] = result
        return failing


def store_readiness(store: Store) -> dict[str, str]:
    """The store answers and its schema is at the newest migration; what is not, with reasons."""
    if not store.ping():
        return {"store": "database unreachable"}
    try:
        current, wanted = store.schema_revisions()
    except Exception as exc:  # noqa: BLE001 - reported as the reason
        return {"schema": f"cannot read the schema revision: {type(exc).__name__}: {exc}"}
    if current != wanted:
        return {
            "schema": f"database at revision {current or 'none'}, this version needs {wanted} (run `rmbot db upgrade`)"
        }
    return {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, and exception text if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:  # as logging.Formatter does: text made once, redacted
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str = "text", stream: TextIO | None = None) -> None:
    """Log to stderr (or ``stream``) at ``level``, as text lines or as JSON lines (``log_format="json"``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)

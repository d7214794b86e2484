"""What an operator watches: ``/metrics`` moving as Slack traffic goes through, ``/readyz``, JSON logs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.observability import JsonFormatter, Metrics
from adapters.server import READINESS, build_app
from adapters.settings import ConfigurationError, load_settings
from bot.model import InboundEvent, Platform
from bot.runtime import GIVE_UP_AFTER, Runtime
from fake_slack import FakeSlack
from storage import db
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, TEAM, SlackBot, fake_users, seed

ROOT = Path(__file__).resolve().parent.parent


class Scrape:
    """One scrape of ``/metrics``, parsed; ``value(name, **labels)`` sums the samples that match."""

    def __init__(self, text: str) -> None:
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        return sum(
            s.value for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.samples)


async def scrape(client: TestClient) -> Scrape:
    async with client.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Scrape(await response.text())


async def ready(client: TestClient) -> tuple[int, dict[str, Any]]:
    async with client.get("/readyz") as response:
        return response.status, await response.json()


def slack_deliverer(bot: SlackBot) -> Any:
    [deliverer] = [d for d in bot.worker.deliverers if d.platform == "slack"]
    return deliverer


async def handle(bot: SlackBot) -> None:
    """Handle the inbox without sending, so the outbox can be seen full."""
    await asyncio.to_thread(bot.runtime.process_pending)


async def send(bot: SlackBot) -> None:
    await asyncio.to_thread(bot.runtime.send_pending, slack_deliverer(bot))


async def test_events_received_processed_and_the_queue_depths(store: SqlStore) -> None:
    seed(store)
    n = 3
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            bodies = [bot.dm_body("help", COORDINATOR, event_id=f"EvObs{i}") for i in range(n)]
            for body in bodies:
                assert (await bot.event(body))[0] == 200
            assert (await bot.event(bodies[0], retry=1))[0] == 200  # Slack's retry of the first one

            before = await scrape(bot.client)
            assert before.value("rmbot_events_received_total", platform="slack") == n + 1
            assert before.value("rmbot_events_received_total", platform="slack", duplicate="true") == 1
            assert before.value("rmbot_inbox_depth") == n
            assert before.value("rmbot_events_processed_total") == 0
            assert before.value("rmbot_outbox_depth") == 0
            assert before.value("rmbot_store_up") == 1

            await handle(bot)
            handled = await scrape(bot.client)
            assert handled.value("rmbot_events_processed_total", platform="slack", outcome="ok") == n
            assert handled.value("rmbot_inbox_depth") == 0
            queued = store.outbox.pending_count("slack")
            assert queued >= n
            assert handled.value("rmbot_outbox_depth", platform="slack") == queued
            assert handled.value("rmbot_outbox_depth", platform="teams") == 0

            await send(bot)
            sent = await scrape(bot.client)
            assert sent.value("rmbot_outbox_depth") == 0
            assert sent.value("rmbot_messages_sent_total", platform="slack") == queued
            assert sent.value("rmbot_send_failures_total") == 0
            assert len(fake.posts()) >= queued


async def test_send_failures_retries_and_rate_limits_are_counted(store: SqlStore) -> None:
    seed(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            await bot.dm("help")
            await handle(bot)
            fake.fail("chat.postMessage", "internal_error")  # transient: tried again later
            await send(bot)
            seen = await scrape(bot.client)
            assert seen.value("rmbot_send_failures_total", platform="slack", final="false") == 1
            assert seen.value("rmbot_send_retries_total", platform="slack", reason="error") == 1
            assert seen.value("rmbot_send_failures_total", final="true") == 0
            assert seen.value("rmbot_outbox_depth", platform="slack") == 1  # still waiting for its retry
            assert seen.value("rmbot_messages_sent_total") == 0

            await bot.dm("status")
            await handle(bot)
            fake.fail("chat.postMessage", "is_archived")  # permanent: given up at once
            await send(bot)
            seen = await scrape(bot.client)
            assert seen.value("rmbot_send_failures_total", platform="slack", final="true") == 1
            assert seen.value("rmbot_send_retries_total", reason="error") == 1

            await bot.dm("help")
            await handle(bot)
            fake.rate_limit("chat.postMessage", retry_after=1)
            await send(bot)
            seen = await scrape(bot.client)
            assert seen.value("rmbot_send_retries_total", platform="slack", reason="rate_limited") == 1
            assert seen.value("rmbot_send_failures_total") == 2  # a rate limit is not a failure


class Boom:
    """An engine whose every turn crashes."""

    def handle(self, *_: object) -> None:
        raise RuntimeError("boom")


def test_a_handler_that_keeps_crashing_is_counted_failed_then_given_up(store: SqlStore) -> None:
    metrics = Metrics(store)
    runtime = Runtime(store, engine=Boom(), observer=metrics)  # type: ignore[arg-type]
    runtime.accept(
        InboundEvent(
            platform=Platform.CONSOLE,
            tenant="console",
            event_id="e1",
            user="nobody@example.com",
            text="help",
            occurred_at=datetime.now(UTC),
        )
    )
    runtime.process_pending()
    scraped = Scrape(metrics.exposition()[0].decode())
    assert scraped.value("rmbot_events_processed_total", platform="console", outcome="failed") == GIVE_UP_AFTER - 1
    assert scraped.value("rmbot_events_processed_total", platform="console", outcome="gave_up") == 1
    assert scraped.value("rmbot_events_processed_total", outcome="ok") == 0
    assert scraped.value("rmbot_inbox_depth") == 0


async def test_scheduler_lag_shows_an_overdue_job_until_it_is_enqueued(store: SqlStore) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        uow.schedule.add(tenant.id, "noop", now + timedelta(hours=1), {}, "later")
    async with TestClient(TestServer(build_app(store))) as client:
        assert (await scrape(client)).value("rmbot_scheduler_lag_seconds") == 0  # nothing overdue yet
        with store.unit_of_work() as uow:
            uow.schedule.add(tenant.id, "noop", now - timedelta(seconds=90), {}, "late")
        late = await scrape(client)
        assert 90 <= late.value("rmbot_scheduler_lag_seconds") < 600
        assert late.value("rmbot_inbox_depth") == 0
        assert store.schedule.enqueue_due(datetime.now(UTC)) == 1
        caught_up = await scrape(client)
        assert caught_up.value("rmbot_scheduler_lag_seconds") == 0
        assert caught_up.value("rmbot_inbox_depth") == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A store on an empty database that nobody migrated."""
    if request.param == "sqlite":
        opened = SqlStore.open(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        opened = SqlStore.open(url, schema=schema, migrate=False)
    try:
        yield opened
    finally:
        opened.close()


async def test_readyz_is_503_until_the_schema_is_at_head(unmigrated: SqlStore) -> None:
    async with TestClient(TestServer(build_app(unmigrated))) as client:
        async with client.get("/healthz") as response:
            assert response.status == 200  # alive, just not ready
        status, body = await ready(client)
        assert status == 503 and body["status"] == "not ready"
        assert "none" in body["not_ready"]["schema"] and "rmbot db upgrade" in body["not_ready"]["schema"]

        await asyncio.to_thread(db.upgrade, unmigrated.engine, "0001")
        status, body = await ready(client)
        assert status == 503 and "0001" in body["not_ready"]["schema"]

        await asyncio.to_thread(db.upgrade, unmigrated.engine)
        assert await ready(client) == (200, {"status": "ready"})
        assert (await scrape(client)).value("rmbot_store_up") == 1


async def test_readyz_runs_the_registered_checks(store: SqlStore) -> None:
    app = build_app(store)
    async with TestClient(TestServer(app)) as client:
        assert await ready(client) == (200, {"status": "ready"})
        app[READINESS].add_check("leader", lambda: False)
        app[READINESS].add_check("broken", lambda: 1 / 0)
        app[READINESS].add_check("fine", lambda: None)
        status, body = await ready(client)
        assert status == 503
        assert body["not_ready"] == {"leader": "check failed", "broken": "ZeroDivisionError: division by zero"}


async def test_readyz_waits_for_the_worker_threads(sqlite_store: SqlStore) -> None:
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            bot.web_app[READINESS].add_check("worker", bot.worker.alive)
            status, body = await ready(bot.client)
            assert status == 503 and "rmbot-worker" in body["not_ready"]["worker"]
            bot.worker.start()
            try:
                assert await ready(bot.client) == (200, {"status": "ready"})
            finally:
                await asyncio.to_thread(bot.worker.stop)
            status, body = await ready(bot.client)
            assert status == 503 and "rmbot-send-slack" in body["not_ready"]["worker"]


async def test_metrics_still_answer_when_the_database_does_not(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'gone' / 'missing.db'}", migrate=False)  # the folder does not exist
    async with TestClient(TestServer(build_app(store))) as client:
        scraped = await scrape(client)
        assert scraped.value("rmbot_store_up") == 0 and not scraped.has("rmbot_inbox_depth")
        status, body = await ready(client)
        assert status == 503 and body["not_ready"]["store"] == "database unreachable"
    store.close()


def test_json_logs_are_one_object_per_line_with_the_exception() -> None:
    program = textwrap.dedent("""
        import logging
        from adapters.observability import configure_logging
        configure_logging("INFO", "json")
        log = logging.getLogger("rmbot.test")
        log.debug("not shown")
        log.info("two\\nlines, caf\\u00e9 %s", 42)
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("handling inbox event %s failed", 7)
    """)
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2
    info, error = (json.loads(line) for line in lines)
    assert info["level"] == "INFO" and info["logger"] == "rmbot.test" and info["message"] == "two\nlines, café 42"
    assert "exception" not in info
    assert datetime.fromisoformat(info["timestamp"]).tzinfo is not None
    assert error["level"] == "ERROR" and error["message"] == "handling inbox event 7 failed"
    assert "Traceback" in error["exception"] and "ZeroDivisionError: division by zero" in error["exception"]


def test_the_json_formatter_keeps_an_already_formatted_exception() -> None:
    import logging

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    record.exc_text = "Traceback: earlier"
    assert json.loads(JsonFormatter().format(record))["exception"] == "Traceback: earlier"


def test_the_log_format_setting() -> None:
    assert load_settings(rmbot_log_format="JSON").rmbot_log_format == "json"
    assert load_settings().rmbot_log_format == "text"
    with pytest.raises(ConfigurationError) as refused:
        load_settings(rmbot_log_format="xml")
    assert str(refused.value) == "Configuration error: RMBOT_LOG_FORMAT: 'xml' is not a log format (text or json)"


def test_the_scheduler_leader_gauge_follows_leadership(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    """``rmbot_scheduler_leader`` is 1 only while this process holds scheduler leadership."""
    from prometheus_client.parser import text_string_to_metric_families

    from adapters.observability import Metrics

    leading = [False]
    metrics = Metrics(sqlite_store)
    metrics.watch_leadership(lambda: leading[0])

    def gauge() -> float:
        text = metrics.exposition()[0].decode()
        return next(
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "rmbot_scheduler_leader"
        )

    assert gauge() == 0.0
    leading[0] = True
    assert gauge() == 1.0

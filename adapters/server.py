"""``rmbot serve``: one process with the HTTP server, the worker, the scheduler and (locally) the console."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime

from aiohttp import web

from adapters.delivery import deliverers_for
from adapters.scheduling import DueWaker
from adapters.settings import Settings
from adapters.wiring import open_store
from bot.runtime import Runtime
from bot.wording import say
from storage.store import SqlStore

log = logging.getLogger(__name__)


def build_app(store: SqlStore) -> web.Application:
    """The aiohttp application: health check now; platform endpoints mount here."""
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        healthy = await asyncio.to_thread(store.ping)
        return web.json_response({"status": "ok" if healthy else "store unreachable"}, status=200 if healthy else 503)

    app.router.add_get("/healthz", healthz)
    return app


class Worker:
    """Handles the inbox and sends the outbox, whenever poked (and every second as a safety net)."""

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self.runtime = runtime
        self.deliverers = deliverers_for(settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rmbot-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def run_once(self) -> None:
        """One pass: pending events, then pending messages."""
        self.runtime.process_pending()
        for deliverer in self.deliverers:
            self.runtime.send_pending(deliverer)

    def enqueue_due(self) -> datetime | None:
        """Scheduler callback: turn due jobs into inbox events, poke the loop, return the next due time."""
        if self.runtime.store.schedule.enqueue_due(self.runtime.clock.now()):
            self.poke()
        return self.runtime.store.schedule.next_due()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - keep serving; the failure is logged and retried
                log.exception("worker pass failed")
            self._wake.wait(timeout=1.0)
            self._wake.clear()


def _run_http(app: web.Application, host: str, port: int) -> None:
    web.run_app(app, host=host, port=port, print=None, handle_signals=False)


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted. Without platform credentials the console runs in the foreground."""
    host = host or settings.rmbot_host
    port = port or settings.rmbot_port
    store = open_store(settings)
    app = build_app(store)
    if not settings.slack_configured and not settings.teams_configured:
        from adapters.console.app import run_console

        print(say("cli.console_mode"), flush=True)
        threading.Thread(target=_run_http, args=(app, host, port), name="rmbot-http", daemon=True).start()
        run_console(settings, as_email=settings.rmbot_console_coordinator, store=store)
        return
    for platform, configured in (("Slack", settings.slack_configured), ("Teams", settings.teams_configured)):
        if configured:
            log.warning(say("cli.no_platform_adapter", platform=platform))
    runtime = Runtime(store)
    worker = Worker(runtime, settings)
    waker = DueWaker(worker.enqueue_due)
    worker.start()
    waker.start()
    print(say("cli.serving", host=host, port=port), flush=True)
    try:
        web.run_app(app, host=host, port=port, print=None)
    finally:
        waker.shutdown()
        worker.stop()
        store.close()

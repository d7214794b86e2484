"""``rmbot serve``: the HTTP server, the worker, the scheduler and (locally) the console.

With Slack or Teams, role ``all`` runs the worker and the scheduler in a child process it supervises
(``RMBOT_WORKER=process``, ``adapters/worker.py``), or in threads of its own (``RMBOT_WORKER=thread``).
``RMBOT_ROLE`` (or ``--role``) splits the service across processes: ``web`` only verifies platform
requests and commits them to the inbox before acknowledging; ``worker`` only handles the inbox, sends
the outbox and runs the scheduler (its HTTP server answers health checks and metrics, nothing else).
The inbox and outbox in the database are the only link between them: a worker on PostgreSQL LISTENs for
accepted events (each accept NOTIFYs), and looks every ``WORKER_POLL_SECONDS`` anyway.

``RMBOT_METRICS_PORT`` moves ``/metrics`` to a listener of its own (:func:`metrics_listener`), so the
public listener never serves it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Protocol

from aiohttp import web

from adapters.calendars.worker import CalendarThread, CalendarWorker, providers_for
from adapters.delivery import deliverers_for
from adapters.directory_sync.schedule import scheduled_sync
from adapters.observability import Metrics, Readiness, store_readiness
from adapters.scheduling import DueWaker
from adapters.settings import ConfigurationError, Settings
from adapters.wiring import open_store
from adapters.worker import LEADER_EVERY_SECONDS, ObservationRelay, WorkerProcess, is_worker_child, run_child
from bot.engine import Engine
from bot.ports import Deliverer, Store
from bot.runtime import Runtime
from bot.wording import say

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0
"""How long the worker of a whole-service process waits for a poke before looking anyway."""
WORKER_POLL_SECONDS = 0.2
"""How often a ``worker``-role process looks for events accepted by ``web`` processes (nobody pokes it)."""


METRICS = web.AppKey("metrics", Metrics)
READINESS = web.AppKey("readiness", Readiness)
METRICS_PATH = "/metrics"


def build_app(
    store: Store,
    readiness: Readiness | None = None,
    metrics: Metrics | None = None,
    *,
    metrics_address: tuple[str, int] | None = None,
) -> web.Application:
    """The aiohttp application: ``/healthz`` (alive), ``/readyz`` (store, schema and ``readiness``'s checks)
    and ``/metrics`` (Prometheus); platform endpoints mount here.

    With ``metrics_address`` (host, port), ``/metrics`` is not on this application: while it runs, a
    listener of its own on that address serves it (``RMBOT_METRICS_PORT``)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[READINESS] = checks = readiness or Readiness()
    app[METRICS] = metrics or Metrics(store)

    async def healthz(_request: web.Request) -> web.Response:
        healthy = await asyncio.to_thread(store.ping)
        return web.json_response({"status": "ok" if healthy else "store unreachable"}, status=200 if healthy else 503)

    async def readyz(_request: web.Request) -> web.Response:
        failing = await asyncio.to_thread(lambda: {**store_readiness(store), **checks.failures()})
        if failing:
            return web.json_response({"status": "not ready", "not_ready": failing}, status=503)
        return web.json_response({"status": "ready"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics_address is None:
        app.router.add_get(METRICS_PATH, _metrics_page)
    else:
        app.cleanup_ctx.append(metrics_listener(*metrics_address))
    return app


async def _metrics_page(request: web.Request) -> web.Response:
    """``GET /metrics``: the Prometheus exposition of the application's :class:`Metrics`."""
    body, content_type = await asyncio.to_thread(request.app[METRICS].exposition, request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


def build_metrics_app(metrics: Metrics) -> web.Application:
    """The metrics listener's application: ``GET /metrics`` and nothing else."""
    app = web.Application()
    app[METRICS] = metrics
    app.router.add_get(METRICS_PATH, _metrics_page)
    return app


def metrics_listener(host: str, port: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context for the main application: while it runs, serve its metrics on ``host:port``.

    Starting fails (and with it the server) when the port cannot be bound."""

    async def listen(app: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(build_metrics_app(app[METRICS]))
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            log.info("serving metrics on http://%s:%s%s", host, port, METRICS_PATH)
            yield
        finally:
            await runner.cleanup()

    return listen


class Listener(Protocol):
    """Wakes when any process accepts an event (PostgreSQL's LISTEN: ``SqlInbox.listener``)."""

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when an event was accepted."""
        ...

    def close(self) -> None: ...


class Worker:
    """Handles the inbox and sends the outbox whenever poked or a ``listener`` hears of an accepted event, and
    every ``poll_seconds`` anyway (a safety net in one process; how a worker-role process on SQLite finds
    events that web processes accepted)."""

    def __init__(
        self,
        runtime: Runtime,
        settings: Settings,
        poll_seconds: float = IDLE_POLL_SECONDS,
        listener: Listener | None = None,
    ) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.listener = listener
        self.deliverers = deliverers_for(settings, runtime.store)
        self.directory_sync = scheduled_sync(settings, runtime.store)
        """The scheduled directory sync (RMBOT_DIRECTORY_SYNC), run on the leader's ticks; None without one."""
        self.yield_to: Callable[[], bool] = lambda: False
        """Set by an adapter that must answer fast (Slack's 3-second ack): while it says True, the worker waits."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rmbot-worker", daemon=True)
        # Each platform sends from its own thread, so a paced fan-out never holds up handling new events.
        self._send_wake = [threading.Event() for _ in self.deliverers]
        self._senders = [
            threading.Thread(target=self._send_loop, args=(d, w), name=f"rmbot-send-{d.platform}", daemon=True)
            for d, w in zip(self.deliverers, self._send_wake, strict=True)
        ]
        self._listening = (
            [threading.Thread(target=self._listen_loop, args=(listener,), name="rmbot-listen", daemon=True)]
            if listener is not None
            else []
        )
        providers = providers_for(settings)
        self.calendars = CalendarThread(CalendarWorker(runtime, providers, poke=self.poke)) if providers else None
        """Calendar requests (free/busy, events) performed next to the senders, when a provider is configured."""

    def start(self) -> None:
        self._thread.start()
        for thread in (*self._senders, *self._listening):
            thread.start()
        if self.calendars is not None:
            self.calendars.start()

    def poke(self) -> None:
        self._wake.set()

    def alive(self) -> bool | str:
        """Readiness: every worker thread is running (True), or which ones are not."""
        calendars = [self.calendars.thread] if self.calendars is not None else []
        dead = [t.name for t in (self._thread, *self._senders, *self._listening, *calendars) if not t.is_alive()]
        return f"not running: {', '.join(dead)}" if dead else True

    def stop(self) -> None:
        """Stop handling and sending; messages claimed but not yet sent go back to the outbox at once."""
        self.runtime.stopping = True
        self._stop.set()
        self._wake.set()
        for wake in self._send_wake:
            wake.set()
        self._thread.join(timeout=5)
        for thread in (*self._senders, *self._listening):
            thread.join(timeout=5)
        if self.calendars is not None:
            self.calendars.stop()

    def run_once(self) -> None:
        """One pass: pending events, then pending messages."""
        self.runtime.process_pending()
        for deliverer in self.deliverers:
            self.runtime.send_pending(deliverer)

    def enqueue_due(self) -> datetime | None:
        """Scheduler callback: turn due jobs into inbox events, poke the loop, start the directory sync when it is
        due, redact expired payloads (at most hourly), return the next due time."""
        if self.runtime.store.schedule.enqueue_due(self.runtime.clock.now()):
            self.poke()
        if self.directory_sync is not None:  # reads the source in a thread of its own when due
            self.directory_sync.run_if_due(self.runtime.clock.now())
        self.runtime.housekeeping()
        return self.runtime.store.schedule.next_due()

    def _process_one(self) -> bool:
        """Handle one pending event, letting acknowledgements in flight go first (GIL and database)."""
        while self.yield_to() and not self._stop.is_set():
            time.sleep(0.002)
        return bool(self.runtime.process_pending(limit=1))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.runtime.store.one_connection():  # one connection (and liveness check) for the drain
                    while self._process_one():
                        pass
            except Exception:  # noqa: BLE001 - keep serving; the failure is logged and retried
                log.exception("worker pass failed")
            for wake in self._send_wake:
                wake.set()
            self._wake.wait(timeout=self.poll_seconds)
            self._wake.clear()

    def _listen_loop(self, listener: Listener) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if listener.wait(min(self.poll_seconds, 1.0)):
                        self._wake.set()
                except Exception:  # noqa: BLE001 - the poll goes on; listening is tried again
                    log.exception("listening for accepted events failed")
                    self._stop.wait(1.0)
        finally:
            listener.close()

    def _send_loop(self, deliverer: Deliverer, wake: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                self.runtime.send_pending(deliverer)
            except Exception:  # noqa: BLE001 - keep sending; the failure is logged and retried
                log.exception("sending %s messages failed", deliverer.platform)
            wake.wait(timeout=1.0)
            wake.clear()


def _run_http(app: web.Application, host: str, port: int) -> None:
    web.run_app(app, host=host, port=port, print=None, handle_signals=False)


def serve(settings: Settings, host: str | None = None, port: int | None = None, role: str | None = None) -> None:
    """Serve until interrupted, in ``role`` (default ``RMBOT_ROLE``). Without platform credentials the
    whole-service role runs the console in the foreground; the other roles refuse to start."""
    host = host or settings.rmbot_host
    port = port or settings.rmbot_port
    role = role or settings.rmbot_role
    if not settings.slack_configured and not settings.teams_configured and role != "all":
        raise ConfigurationError(say("cli.role_needs_platform", role=role))
    if is_worker_child():
        _serve_worker_child(settings)
        return
    configured = settings.slack_configured or settings.teams_configured
    metrics_address = None
    if settings.rmbot_metrics_port is not None:
        if settings.rmbot_metrics_port == port:
            raise ConfigurationError(say("cli.metrics_port_clash", port=port))
        metrics_address = (settings.rmbot_metrics_host or host, settings.rmbot_metrics_port)
    handled_elsewhere = role == "web" or (role == "all" and settings.rmbot_worker == "process" and configured)
    store = open_store(settings, spool_accepts=handled_elsewhere)
    app = build_app(store, metrics_address=metrics_address)
    if not configured:
        from adapters.console.app import run_console

        print(say("cli.console_mode"), flush=True)
        threading.Thread(target=_run_http, args=(app, host, port), name="rmbot-http", daemon=True).start()
        run_console(settings, as_email=settings.rmbot_console_coordinator, store=store)
        return
    runtime = Runtime(store, Engine(calendars=settings.calendar_providers), observer=app[METRICS])
    supervisor = WorkerProcess(observer=app[METRICS]) if role == "all" and settings.rmbot_worker == "process" else None
    worker = (
        None
        if role == "web" or supervisor is not None
        else Worker(
            runtime,
            settings,
            poll_seconds=WORKER_POLL_SECONDS if role == "worker" else IDLE_POLL_SECONDS,
            listener=store.inbox.listener(),
        )
    )
    poke = supervisor.poke if supervisor is not None else worker.poke if worker is not None else (lambda: None)
    if role != "worker":
        _mount_platforms(app, settings, runtime, poke, worker)
    waker = None
    if supervisor is not None:
        app[READINESS].add_check("worker", supervisor.alive)
        app[METRICS].watch_leadership(lambda: supervisor.leading)
        supervisor.start()
    if worker is not None:
        app[READINESS].add_check("worker", worker.alive)
        waker = _due_waker(worker, settings, store.leadership())
        app[METRICS].watch_leadership(lambda: waker.is_leader)
        worker.start()
        waker.start()
    metrics_url = f"http://{metrics_address[0]}:{metrics_address[1]}{METRICS_PATH}" if metrics_address else ""
    print(
        say("cli.serving", host=host, port=port, metrics=metrics_url)
        + ("" if role == "all" else " " + say("cli.serving_role", role=role)),
        flush=True,
    )
    freeze_start_up_objects()
    try:
        web.run_app(app, host=host, port=port, print=None)
    finally:
        if supervisor is not None:
            supervisor.stop()
        if waker is not None:
            waker.shutdown()
        if worker is not None:
            worker.stop()
        store.close()


def _due_waker(worker: Worker, settings: Settings, leadership: object) -> DueWaker:
    """The scheduler of a process that works: every replica ticks; only the one holding scheduler leadership
    runs the due work (storage/leader.py)."""
    return DueWaker(worker.enqueue_due, tick_seconds=settings.rmbot_scheduler_tick_seconds, leadership=leadership)


def _serve_worker_child(settings: Settings) -> None:
    """The worker child of a web process (``adapters/worker.py``): handle, send and schedule, no HTTP."""
    store = open_store(settings, migrate=False)
    relay = ObservationRelay()
    worker = Worker(
        Runtime(store, Engine(calendars=settings.calendar_providers), observer=relay),
        settings,
        poll_seconds=WORKER_POLL_SECONDS,
        listener=store.inbox.listener(),
    )
    waker = _due_waker(worker, settings, store.leadership())

    def report_leadership() -> None:
        while True:
            relay.leadership(waker.is_leader)
            time.sleep(LEADER_EVERY_SECONDS)

    def start() -> None:
        worker.start()
        waker.start()
        threading.Thread(target=report_leadership, name="rmbot-leadership-relay", daemon=True).start()

    def stop() -> None:
        waker.shutdown()
        worker.stop()
        store.close()

    freeze_start_up_objects()
    run_child(start, worker.poke, stop)


def freeze_start_up_objects() -> None:
    """Keep what start-up made (modules, the engine, the wording, the app) out of the garbage collector's full
    passes (``gc.freeze``): it lives as long as the process, and scanning it again and again made one request in
    three wait twice as long (``status`` at 2,000 participants: 130-220 ms instead of 60-75 ms)."""
    gc.collect()
    gc.freeze()


def _mount_platforms(
    app: web.Application, settings: Settings, runtime: Runtime, poke: Callable[[], None], worker: Worker | None
) -> None:
    """The Slack and Teams endpoints of the configured platforms (and the pages the Teams app package points at:
    ``adapters/pages.py``); a worker in this process yields to Slack's acks."""
    from adapters.pages import mount_pages

    mount_pages(app, settings)
    if settings.slack_configured:
        from adapters.slack.app import SlackService

        slack = SlackService(settings, runtime, poke)
        slack.mount(app)
        if worker is not None:
            worker.yield_to = slack.busy
    if settings.teams_configured:
        from adapters.teams.service import TeamsService

        TeamsService(settings, runtime, poke).mount(app)

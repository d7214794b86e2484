"""The calendar worker: performs the calendar requests the engine recorded, outside any transaction, and feeds
each result back as the inbound event ``calendar:<request id>`` (``Runtime.accept``), which the engine handles like
a job that fell due (``bot/sessions/calendar_results.py``).

Exactly once in effect: a request is leased (``CalendarQueue.claim``), performed, its result accepted into the
inbox (unique by event id, so a second accept is a duplicate), and only then marked done. A worker that dies
anywhere in between leaves the lease to run out; the next try performs the request again, which the providers make
harmless (Graph's ``transactionId``, Google's own event id), and its result is refused as a duplicate.

Free/busy is read person by person: a person whose calendar cannot be read is reported as such (the engine plans
on their working hours and tells the pair); only a rate limit defers the whole request, to its Retry-After.
Requests about one session run in the order they were recorded (``claim`` holds back a later one while an
earlier one waits).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from adapters.calendars.common import CalendarProvider, Throttled, Unreadable, WriteFailed
from adapters.settings import Settings
from bot.model import InboundEvent, Platform
from bot.ports import EVENT_RESULT, FREEBUSY_RESULT, CalendarRequest
from bot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
"""Tries of an event write that keeps failing for a passing reason, before it is given up (and logged)."""
BACKOFF = timedelta(seconds=30)


def providers_for(settings: Settings) -> dict[str, CalendarProvider]:
    """The providers whose credentials the settings hold (each provider's client libraries load only then)."""
    found: dict[str, CalendarProvider] = {}
    if "microsoft" in settings.calendar_providers:
        from adapters.calendars.microsoft import GraphCalendars

        found["microsoft"] = GraphCalendars.with_secret(
            settings.rmbot_calendar_microsoft_login_url,
            settings.rmbot_calendar_microsoft_tenant,
            settings.rmbot_calendar_microsoft_client_id,
            settings.rmbot_calendar_microsoft_client_secret,
            settings.rmbot_calendar_graph_url,
        )
    if "google" in settings.calendar_providers:
        from adapters.calendars.google import GoogleCalendars

        found["google"] = GoogleCalendars.from_file(
            settings.rmbot_calendar_google_service_account_file,
            settings.rmbot_calendar_google_api_url,
            settings.rmbot_calendar_google_token_url,
        )
    return found


class CalendarWorker:
    """Claims and performs calendar requests; ``poke`` is called after a result was accepted (to handle it)."""

    def __init__(
        self,
        runtime: Runtime,
        providers: Mapping[str, CalendarProvider],
        poke: Callable[[], None] = lambda: None,
    ) -> None:
        self.runtime, self.providers, self.poke = runtime, dict(providers), poke
        self.queue = runtime.store.calendars

    def run_once(self) -> int:
        """Perform every request due now; returns how many were settled (done or given up)."""
        settled = 0
        while requests := self.queue.claim(self.runtime.clock.now()):
            for request in requests:
                settled += self.perform(request)
        return settled

    def perform(self, request: CalendarRequest) -> int:
        """One request: performed, its result accepted, then marked done (1); or deferred (0) or given up (1)."""
        provider = self.providers.get(request.provider)
        now = self.runtime.clock.now()
        if provider is None:
            self.queue.fail(request.id, f"no {request.provider} credentials in this deployment")
            return 1
        result: dict[str, Any] | None
        try:
            if request.kind == "freebusy":
                result, kept = self._free_busy(provider, request)
            else:
                result, kept = self._write(provider, request)
        except Throttled as throttled:
            self.queue.defer(request.id, now + throttled.retry_after, str(throttled))
            return 0
        except WriteFailed as failure:
            if failure.passing and request.attempts < MAX_ATTEMPTS:
                self.queue.defer(request.id, now + BACKOFF * 2 ** (request.attempts - 1), str(failure))
                return 0
            log.warning("calendar request %s given up: %s", request.id, failure)
            self.queue.fail(request.id, str(failure))
            return 1
        if result is not None:
            self.runtime.accept(
                InboundEvent(
                    platform=Platform(request.platform),
                    tenant=request.tenant_key,
                    event_id=f"calendar:{request.id}",
                    kind="due",
                    occurred_at=now,
                    due={"kind": result.pop("job"), "payload": result, "tenant_id": request.tenant_id},
                )
            )
            self.poke()
        self.queue.finish(request.id, kept)
        return 1

    def _free_busy(self, provider: CalendarProvider, request: CalendarRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        payload = request.payload
        start, end = datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"])
        busy: dict[str, list[list[str]]] = {}
        unread: list[int] = []
        for person in payload.get("people", []):
            try:
                spans = provider.busy(str(person.get("email", "")), start, end)
            except Unreadable as why:
                log.info("calendar of person %s not read: %s", person.get("person_id"), why)
                unread.append(int(person["person_id"]))
                continue
            busy[str(person["person_id"])] = [[s.isoformat(), e.isoformat()] for s, e in spans]
        result = {"job": FREEBUSY_RESULT, "key": request.key, "circle": payload.get("circle"), "busy": busy}
        return {**result, "unread": unread}, {"read": len(busy), "unread": len(unread)}

    def _write(
        self, provider: CalendarProvider, request: CalendarRequest
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        event = request.payload
        op, session_id = event["op"], event["session_id"]
        if op == "create":
            written = provider.create(event)
        else:
            known = provider.known_event_id(event) or self.queue.event_id(session_id, request.provider)
            if not known:
                return None, {"event_id": "", "note": "no event was written for this session"}
            if op == "cancel":
                provider.cancel(known, event)
                written = None
            else:
                written = provider.update(known, event)
        event_id = written.event_id if written else ""
        result = {
            "job": EVENT_RESULT,
            "op": op,
            "session_id": session_id,
            "provider": request.provider,
            "event_id": event_id,
            "join_url": written.join_url if written else "",
        }
        return result, {"event_id": event_id, "op": op}


class CalendarThread:
    """Runs a :class:`CalendarWorker` every ``every`` seconds on its own thread (next to the outbox senders)."""

    def __init__(self, worker: CalendarWorker, every: float = 1.0) -> None:
        self.worker, self.every = worker, every
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="rmbot-calendars", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.worker.run_once()
            except Exception:  # noqa: BLE001 - keep going; the failure is logged and the lease runs out
                log.exception("calendar requests failed")
            self._stop.wait(self.every)

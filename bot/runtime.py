"""The runtime: accept events durably, handle them exactly once, and deliver what the engine wrote.

This is the spine every adapter uses (see docs/architecture.md)::

    adapter -> accept(event)  [committed: now acknowledge]
            -> process_pending()  [take (marked done) + engine.handle, in one transaction]
            -> send_pending(deliverer)  [lease, render and send, record delivery]
    time    -> run_due(at)  [due jobs become inbox events "due:<id>"]
"""

from __future__ import annotations

import logging
import traceback
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from bot.clock import SystemClock
from bot.domain import ParticipantStatus
from bot.engine import Engine
from bot.errors import CommandError
from bot.failpoints import failpoint
from bot.model import Address, InboundEvent, OutgoingMessage
from bot.ports import (
    Clock,
    Deliverer,
    DeliveryResult,
    InboxItem,
    NullObserver,
    OutboxItem,
    RuntimeObserver,
    Store,
)
from bot.refusals import UndoTurn
from bot.sessions.circles import circle_by_key
from bot.timing import next_working_moment
from bot.wording import say

log = logging.getLogger(__name__)
GIVE_UP_AFTER = 5
DEFAULT_DAILY_CAP = 3
HOUSEKEEPING_EVERY = timedelta(hours=1)
MAX_PASSES = 8
"""Passes over one event whose refusals came after writes (each pass gives one more refusal where it came)."""


class _Failed(Exception):
    """Handling ``item`` raised (the cause): its unit of work was rolled back."""

    def __init__(self, item: InboxItem, trace: str) -> None:
        super().__init__(item.id)
        self.item = item
        self.trace = trace


class Runtime:
    """Ties the store, the engine and the clock together; adapters call it, never the engine directly."""

    def __init__(
        self,
        store: Store,
        engine: Engine | None = None,
        clock: Clock | None = None,
        observer: RuntimeObserver | None = None,
    ) -> None:
        self.store = store
        self.engine = engine or Engine()
        self.clock = clock or SystemClock()
        self.observer: RuntimeObserver = observer or NullObserver()
        self.stopping = False
        """Set when the process shuts down: messages claimed but not yet sent are handed back at once."""
        self._housekept: datetime | None = None

    def accept(self, event: InboundEvent) -> bool:
        """Commit ``event`` to the inbox. Only after this returns may the adapter acknowledge it.

        Returns False for a duplicate delivery (a retry of an event already accepted)."""
        added = self.store.inbox.accept(event)
        self.observer.event_accepted(event.platform.value, duplicate=not added)
        failpoint("after_accept")
        return added

    def process_pending(self, limit: int | None = None) -> int:
        """Handle pending inbox events, oldest first; returns how many were handled."""
        with self.store.one_connection():
            return self._process(limit)

    def _process(self, limit: int | None) -> int:
        handled = 0
        self.store.inbox.gather()
        while limit is None or handled < limit:
            try:
                item, taken = self._handle_next()
                if not taken:
                    if self.store.inbox.gather():  # accepted meanwhile, out of the way of this work
                        continue
                    return handled
                if item is None:  # handled elsewhere while this pass was undone
                    continue
                handled += 1
                self.observer.event_processed(item.event.platform.value, "ok")
            except _Failed as failed:
                log.exception("handling inbox event %s failed", failed.item.id, exc_info=failed.__cause__)
                gave_up = self.store.inbox.record_failure(failed.item.id, failed.trace, GIVE_UP_AFTER)
                platform = failed.item.event.platform.value
                self.observer.event_processed(platform, "gave_up" if gave_up else "failed")
                if gave_up:
                    self._apologise(failed.item.id, failed.__cause__)
        return handled

    def _handle_next(self) -> tuple[InboxItem | None, bool]:
        """Take the next pending event and handle it in one unit of work: (the event, whether one was taken).

        A refusal that came after the turn had written undoes the whole turn (:mod:`bot.refusals`): the event is
        taken again and handled from the start, at the same moment, with the refusal given where it came."""
        refused: dict[int, CommandError] = {}
        now, taken = self.clock.now(), None
        for _ in range(MAX_PASSES):
            item = None
            try:
                with self.store.unit_of_work() as uow:
                    item = self.store.inbox.take_next(uow) if taken is None else self.store.inbox.take(uow, taken.id)
                    if item is None:
                        return None, taken is not None
                    taken = item
                    self.engine.handle(item.event, uow, now, refused)
                    failpoint("before_done")
                return item, True
            except UndoTurn as undo:
                refused[undo.at] = undo.problem
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others
                if item is None:
                    raise
                raise _Failed(item, traceback.format_exc()) from exc
        assert taken is not None
        raise _Failed(taken, f"refused after writing more than {MAX_PASSES} times")

    def _apologise(self, item_id: int, _exc: BaseException | None) -> None:
        """After the last attempt, tell the person plainly that their request could not be handled."""
        with self.store.unit_of_work() as uow:
            item = self.store.inbox.get(uow, item_id)
            if item is None or not item.event.user:
                return
            tenant = uow.tenants.find(item.event.platform.value, item.event.tenant)
            person = tenant and (
                uow.people.by_identity(tenant.id, item.event.platform.value, item.event.user)
                or uow.people.by_email(tenant.id, item.event.user)
            )
            if not tenant or not person:
                return
            uow.outbox.add(
                OutgoingMessage(
                    tenant_id=tenant.id,
                    to=Address.person(person.id),
                    idempotency_key=f"failed:{item_id}",
                    text=say("errors.gave_up"),
                ),
                platform=tenant.platform,
            )

    def run_due(self, at: datetime | None = None) -> int:
        """Enqueue every scheduled job due at ``at`` (default: now) and handle it."""
        enqueued = self.store.schedule.enqueue_due(at or self.clock.now())
        self.process_pending()
        self.housekeeping()
        return enqueued

    def housekeeping(self) -> int:
        """Periodic upkeep, at most hourly (it rides on the scheduler's ticks): stored message payloads older
        than the retention period are redacted. Returns how many were."""
        now = self.clock.now()
        if self._housekept is not None and now - self._housekept < HOUSEKEEPING_EVERY:
            return 0
        self._housekept = now
        return self.store.redact_expired_payloads()

    reply_check_every = 0.05
    """Seconds between looks at the reply lane while a batch of bulk messages is sent (each look is a query)."""

    def send_pending(self, deliverer: Deliverer, people: set[int] | None = None, limit: int = 100) -> int:
        """Deliver due outbox messages for the deliverer's platform; returns how many were settled.

        Replies to what someone just did go first: a claim takes the reply lane before the bulk lane, and while
        a batch of bulk messages is sent the reply lane is looked at again before each of them (at most every
        :attr:`reply_check_every` seconds), so an answer waits only for the platform's pace, never for a fan-out."""
        settled = 0
        while True:
            items = self.store.outbox.claim(deliverer.platform, self.clock.now(), limit, people)
            if not items:
                return settled
            settled += self._send_batch(deliverer, items, people, limit)
            if self.stopping or len(items) < limit:
                return settled

    def _send_batch(self, deliverer: Deliverer, items: list[OutboxItem], people: set[int] | None, limit: int) -> int:
        """Send a claimed batch, replies queued meanwhile first; returns how many were settled."""
        settled, looked = 0, monotonic()
        for index, item in enumerate(items):
            if item.lane == "bulk" and monotonic() - looked >= self.reply_check_every:
                settled += self._send_replies(deliverer, people, limit)
                looked = monotonic()
            if self.stopping:  # give the rest of the batch back now, rather than when the lease runs out
                for rest in items[index:]:
                    self.store.outbox.release(rest.id, self.clock.now())
                return settled
            if not self.store.outbox.keep_lease(item, self.clock.now()):
                continue  # the lease ran out mid-batch and another sender took the message over
            self._deliver(deliverer, item, people)
            settled += 1
        return settled

    def _send_replies(self, deliverer: Deliverer, people: set[int] | None, limit: int) -> int:
        """Send what waits in the reply lane (queued since the bulk batch being sent was claimed)."""
        settled = 0
        while not self.stopping:
            replies = self.store.outbox.claim(deliverer.platform, self.clock.now(), limit, people, lane="reply")
            settled += self._send_batch(deliverer, replies, people, limit) if replies else 0
            if len(replies) < limit:
                break
        return settled

    def _deliver(self, deliverer: Deliverer, item: OutboxItem, people: set[int] | None) -> None:
        now = self.clock.now()
        blocked = self._blocked_recipients(item)
        if blocked:
            self.store.outbox.suppressed(item.id, blocked, "recipient declined or opted out", now)
            item.pending = [p for p in item.pending if p not in blocked]
            if not item.pending and item.message.to.kind != "conversation":
                return
        if people is not None:
            item.pending = [p for p in item.pending if p in people]
        if item.message.kind == "nudge":
            wait = self._nudge_wait(item)
            if wait is not None:
                self.store.outbox.defer(item.id, wait)
                return
        try:
            result = deliverer.deliver(item)
        except Exception as exc:  # noqa: BLE001 - a platform error is recorded and retried later
            log.exception("delivering outbox message %s failed", item.id)
            result = DeliveryResult(error=str(exc))
        now = self.clock.now()
        if result.error or result.retry_at is not None:
            if result.delivered:
                self.store.outbox.delivered(item.id, result.delivered, now)
            if result.suppressed:
                self.store.outbox.suppressed(item.id, result.suppressed, result.error or "undeliverable", now)
            self.store.outbox.failed(item.id, result.error, result.retry_at)
            if result.error:
                self.observer.send_failed(deliverer.platform, will_retry=result.retry_at is not None)
            else:
                self.observer.send_deferred(deliverer.platform)
            return
        if result.suppressed:
            self.store.outbox.suppressed(item.id, result.suppressed, "undeliverable", now)
        days = self._local_days(result.delivered, now) if item.message.kind == "nudge" else None
        if result.delivered or not item.pending:
            self.store.outbox.delivered(item.id, result.delivered, now, nudge_days=days)
            self.observer.message_sent(deliverer.platform)
        elif not result.suppressed:
            self.store.outbox.release(item.id, now)

    def _local_days(self, people: list[int], now: datetime) -> dict[int, date]:
        with self.store.unit_of_work() as uow:
            found = uow.people.many(people) if people else {}
        return {pid: now.astimezone(ZoneInfo(p.time_zone)).date() for pid, p in found.items()}

    def _nudge_wait(self, item: OutboxItem) -> datetime | None:
        """Good manners: a nudge waits for the recipient's working hours, and for tomorrow once they have
        had their daily share of nudges (the programme's ``daily_message_cap``)."""
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            programme = uow.programmes.get(item.message.programme_id) if item.message.programme_id else None
            cap = programme.settings.daily_message_cap if programme else DEFAULT_DAILY_CAP
            people = uow.people.many(item.pending)
        wait: datetime | None = None
        for person in people.values():
            opening = next_working_moment(now, person.time_zone, person.working_hours)
            if (
                opening <= now
                and self.store.outbox.nudges_on(person.id, now.astimezone(ZoneInfo(person.time_zone)).date()) >= cap
            ):
                local = now.astimezone(ZoneInfo(person.time_zone))
                tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0, 0), ZoneInfo(person.time_zone))
                opening = next_working_moment(tomorrow, person.time_zone, person.working_hours)
            if opening > now:
                wait = max(wait or opening, opening)
        return wait

    def _blocked_recipients(self, item: OutboxItem) -> list[int]:
        """Recipients who must not get this message: they declined or left its programme, opted out, or left the
        organisation (the directory no longer lists them); everyone, when it offers times to a pairing that no
        longer exists as named."""
        with self.store.unit_of_work() as uow:
            if item.message.circle and circle_by_key(uow, item.message.circle) is None:
                return list(item.pending)
            reach = uow.people.reach(item.pending, item.message.programme_id)
        blocked = []
        for person_id in item.pending:
            found = reach.get(person_id)
            if found is None or (found.gone and item.message.kind != "farewell"):
                blocked.append(person_id)
            elif found.status in (ParticipantStatus.DECLINED, ParticipantStatus.LEFT, ParticipantStatus.PAUSED):
                blocked.append(person_id)
        return blocked

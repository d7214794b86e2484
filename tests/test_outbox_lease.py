"""The outbox lease across replicas: kept while a batch is sent, renewed once half has passed, and lost
(the row skipped) when it ran out and another sender took the row over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import OffsetClock
from bot.domain import NewPerson
from bot.model import Address, OutgoingMessage
from bot.ports import DeliveryResult, OutboxItem
from bot.runtime import Runtime
from chat import RecordingDeliverer
from storage.store import SqlStore

LEASE = timedelta(seconds=10)


def queue_messages(store: SqlStore, count: int) -> list[int]:
    """``count`` Slack DMs, one per new person; returns the people's ids in queue order."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", "T111")
        people = [
            uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"p{n}@example.com")).id
            for n in range(count)
        ]
        for n, person_id in enumerate(people):
            uow.outbox.add(
                OutgoingMessage(
                    tenant_id=tenant.id,
                    to=Address.person(person_id),
                    idempotency_key=f"lease-test:{n}",
                    text=f"Message {n}",
                ),
                platform="slack",
            )
    return people


def test_the_lease_is_kept_renewed_and_lost_to_a_takeover(store: SqlStore) -> None:
    store.outbox.lease = LEASE
    queue_messages(store, 1)
    clock = OffsetClock(start=datetime.now(UTC))  # frozen, after the messages were queued
    [mine] = store.outbox.claim("slack", clock.now(), 10)
    first_expiry = mine.lease_until
    assert first_expiry == clock.now() + LEASE
    assert store.outbox.claim("slack", clock.now(), 10) == []  # leased: nobody else gets it

    clock.advance(timedelta(seconds=2))
    assert store.outbox.keep_lease(mine, clock.now()) and mine.lease_until == first_expiry  # no query needed
    clock.advance(timedelta(seconds=5))
    assert store.outbox.keep_lease(mine, clock.now()) and mine.lease_until == clock.now() + LEASE  # renewed
    assert store.outbox.claim("slack", first_expiry + timedelta(seconds=1), 10) == []  # the renewal counts

    clock.advance(LEASE * 2)  # this sender stalled past its lease, and another took the row over
    [theirs] = store.outbox.claim("slack", clock.now(), 10)
    assert theirs.attempts == 1  # flagged, so the deliverer reconciles before posting
    assert not store.outbox.keep_lease(mine, clock.now() + LEASE)
    assert store.outbox.keep_lease(theirs, clock.now() + LEASE * 0.6)
    store.outbox.delivered(theirs.id, theirs.pending, clock.now())
    assert not store.outbox.keep_lease(theirs, clock.now() + LEASE * 2)  # settled: nothing left to hold


def test_an_expired_lease_nobody_took_over_is_still_ours(store: SqlStore) -> None:
    store.outbox.lease = LEASE
    queue_messages(store, 1)
    clock = OffsetClock(start=datetime.now(UTC))  # frozen, after the messages were queued
    [mine] = store.outbox.claim("slack", clock.now(), 10)
    assert store.outbox.keep_lease(mine, clock.now() + LEASE * 3)
    assert store.outbox.claim("slack", clock.now() + LEASE * 3, 10) == []


def test_a_slow_batch_skips_the_message_another_replica_took_over_and_sends_nothing_twice(store: SqlStore) -> None:
    store.outbox.lease = LEASE
    first_person, second_person = queue_messages(store, 2)
    clock = OffsetClock(start=datetime.now(UTC))  # frozen, after the messages were queued
    other_replica, other_sent = Runtime(store, clock=clock), RecordingDeliverer(platform="slack")

    class Slow(RecordingDeliverer):
        def deliver(self, item: OutboxItem) -> DeliveryResult:
            if item.pending == [first_person]:  # stuck for longer than the lease, meanwhile the other
                clock.advance(LEASE + timedelta(seconds=1))  # replica sends the second message
                other_replica.send_pending(other_sent, people={second_person})
            return super().deliver(item)

    slow = Slow(platform="slack")
    assert Runtime(store, clock=clock).send_pending(slow) == 1
    assert slow.keys == ["lease-test:0"] and other_sent.keys == ["lease-test:1"]
    assert store.outbox.pending_count("slack") == 0


def test_a_replica_shutting_down_hands_back_what_it_had_not_sent(store: SqlStore) -> None:
    """Stopping mid-batch: the unsent rest of the batch is free for another replica at once, not after the lease."""
    queue_messages(store, 5)
    runtime = Runtime(store)

    class StopsAfterOne(RecordingDeliverer):
        def deliver(self, item: OutboxItem) -> DeliveryResult:
            runtime.stopping = True  # the process is asked to stop while sending the first message
            return super().deliver(item)

    first = StopsAfterOne(platform="slack")
    assert runtime.send_pending(first) == 1 and len(first.keys) == 1
    other = RecordingDeliverer(platform="slack")
    assert Runtime(store).send_pending(other) == 4
    assert sorted(first.keys + other.keys) == [f"lease-test:{n}" for n in range(5)]  # each once

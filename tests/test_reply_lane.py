"""The outbox's reply lane: an answer to what someone just did goes ahead of a fan-out queued before it.

Functional, not timed (``benchmarks/reply_lane.py`` measures the latency): thousands of bulk messages are
queued, a person types ``help``, and the answer is the first thing sent; a reply queued while a bulk batch is
being sent goes before the rest of that batch; each lane keeps its order; replies are chosen by who acted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal

from bot.context import Turn
from bot.domain import NewPerson, Person, Tenant
from bot.model import Address, InboundEvent, MessageKind, OutgoingMessage, Platform
from bot.ports import DeliveryResult, OutboxItem
from bot.runtime import Runtime
from chat import RecordingDeliverer
from storage.sql import stored_id
from storage.store import SqlStore
from storage.tables import PersonRow

TEAM = "T111"


def people(store: SqlStore, count: int) -> tuple[int, list[int]]:
    """The Slack tenant and ``count`` new people in it (inserted in one go: thousands are needed)."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        rows = [PersonRow(tenant_id=tenant.id, name=f"Person {n}", email=f"p{n}@example.com") for n in range(count)]
        uow.session.add_all(rows)
        uow.session.flush()
        return tenant.id, [stored_id(row.id) for row in rows]


def queue_bulk(store: SqlStore, tenant_id: int, recipients: list[int], kind: MessageKind = "nudge") -> list[str]:
    """One bulk message to each of ``recipients`` (as a fan-out queues them); returns their keys in order."""
    keys = []
    with store.unit_of_work() as uow:
        for n, person_id in enumerate(recipients):
            message = OutgoingMessage(
                tenant_id=tenant_id,
                to=Address.person(person_id),
                idempotency_key=f"fanout:{n}",
                text=f"Your check-in {n} is ready",
                kind=kind,
            )
            uow.outbox.add(message, platform="slack")
            keys.append(message.idempotency_key)
    return keys


def asker(store: SqlStore, tenant_id: int, user: str = "UASK") -> int:
    """Someone with a Slack account, who is about to type something."""
    with store.unit_of_work() as uow:
        person = uow.people.add(NewPerson(tenant_id=tenant_id, name="Asker", email=f"{user.lower()}@example.com"))
        uow.people.link_identity(person, "slack", user)
    return person.id


def types(runtime: Runtime, text: str, event_id: str, user: str = "UASK") -> None:
    """``user`` types ``text`` in their DM with the bot, and the worker handles it."""
    runtime.accept(
        InboundEvent(
            platform=Platform.SLACK,
            tenant=TEAM,
            event_id=event_id,
            user=user,
            text=text,
            conversation="D0ASK",
            occurred_at=datetime.now(UTC),
        )
    )
    assert runtime.process_pending() == 1


def test_help_typed_after_thousands_of_queued_nudges_is_answered_in_the_first_send(store: SqlStore) -> None:
    tenant_id, recipients = people(store, 3000)
    keys = queue_bulk(store, tenant_id, recipients)
    asker_id = asker(store, tenant_id)
    runtime = Runtime(store)
    types(runtime, "help", "help-1")

    class StopsAfterOne(RecordingDeliverer):
        def deliver(self, item: OutboxItem) -> DeliveryResult:
            runtime.stopping = True  # one send attempt only: the rest of the batch goes back to the outbox
            return super().deliver(item)

    first = StopsAfterOne(platform="slack")
    assert runtime.send_pending(first) == 1
    assert [key.rsplit(":", 1)[0] for key in first.keys] == [f"slack:{TEAM}:help-1"]
    assert list(first.inbox) == [asker_id]

    rest = store.outbox.claim("slack", datetime.now(UTC) + timedelta(seconds=1), 100)
    assert [item.message.idempotency_key for item in rest] == keys[:100]  # the fan-out, in order, none lost
    assert {item.lane for item in rest} == {"bulk"}
    assert store.outbox.pending_count("slack") == 3000


def test_a_reply_queued_while_a_bulk_batch_is_sent_goes_before_the_rest_of_the_batch(store: SqlStore) -> None:
    tenant_id, recipients = people(store, 30)
    keys = queue_bulk(store, tenant_id, recipients, kind="reply")  # scheduled DMs: never held for working hours
    asker_id = asker(store, tenant_id)
    runtime = Runtime(store)
    runtime.reply_check_every = 0.0  # look before every bulk message (the default looks every 50 ms)

    class AsksMidBatch(RecordingDeliverer):
        def deliver(self, item: OutboxItem) -> DeliveryResult:
            if item.message.idempotency_key == "fanout:4":  # meanwhile the worker handles a typed ``help``
                types(runtime, "help", "help-1")
            return super().deliver(item)

    sender = AsksMidBatch(platform="slack")
    assert runtime.send_pending(sender, limit=10) == 31
    answer = next(key for key in sender.keys if key.startswith(f"slack:{TEAM}:help-1:"))
    assert sender.keys.index(answer) == 5  # right after the message being sent when it was asked
    assert [key for key in sender.keys if key != answer] == keys  # the fan-out: each once, in order
    assert sender.inbox[asker_id][0].idempotency_key == answer
    assert store.outbox.pending_count("slack") == 0


def test_each_lane_keeps_its_order_for_a_recipient(store: SqlStore) -> None:
    tenant_id, [person] = people(store, 1)
    queue_bulk(store, tenant_id, [person, person], kind="reply")
    with store.unit_of_work() as uow:
        for n in range(3):
            reply = OutgoingMessage(
                tenant_id=tenant_id, to=Address.person(person), idempotency_key=f"reply:{n}", text=f"Answer {n}"
            )
            uow.outbox.add(reply, platform="slack", lane="reply")
    sender = RecordingDeliverer(platform="slack")
    assert Runtime(store).send_pending(sender) == 5
    assert sender.keys == ["reply:0", "reply:1", "reply:2", "fanout:0", "fanout:1"]


def test_a_held_nudge_released_because_its_person_writes_moves_to_the_reply_lane(store: SqlStore) -> None:
    tenant_id, [person, other] = people(store, 2)
    later = datetime.now(UTC) + timedelta(hours=8)  # held for their working hours
    with store.unit_of_work() as uow:
        for n, recipient in enumerate([person, other]):
            nudge = OutgoingMessage(
                tenant_id=tenant_id,
                to=Address.person(recipient),
                idempotency_key=f"held:{n}",
                text="A survey",
                kind="nudge",
            )
            uow.outbox.add(nudge, platform="slack", not_before=later)
    with store.unit_of_work() as uow:
        released = uow.outbox.release_held(tenant_id, person, datetime.now(UTC))
    assert [message.idempotency_key for message in released] == ["held:0"]
    claimed = store.outbox.claim("slack", datetime.now(UTC) + timedelta(seconds=1), 10, lane="reply")
    assert [(item.message.idempotency_key, item.lane) for item in claimed] == [("held:0", "reply")]


class RecordingOutbox:
    def __init__(self) -> None:
        self.lanes: dict[str, str] = {}

    def add(self, message: OutgoingMessage, platform: str, not_before: Any = None, lane: str = "bulk") -> bool:
        self.lanes[message.text] = lane
        return True


def turn(event_kind: Literal["message", "due"], acting: Person | None, outbox: RecordingOutbox) -> Turn:
    uow: Any = SimpleNamespace(outbox=outbox, conversations=SimpleNamespace(load=lambda *_: None))
    event = InboundEvent(
        platform=Platform.SLACK,
        tenant=TEAM,
        event_id="e1",
        user="UASK",
        kind=event_kind,
        occurred_at=datetime.now(UTC),
    )
    tenant = Tenant(id=1, platform="slack", external_id=TEAM)
    flows: Any = None  # no questionnaire is involved
    return Turn(event=event, uow=uow, tenant=tenant, now=datetime.now(UTC), flows=flows, person=acting)


def test_only_messages_to_whoever_acted_are_replies() -> None:
    me, partner, someone = (Person(id=n, tenant_id=1, name=f"P{n}") for n in (1, 2, 3))
    outbox = RecordingOutbox()
    mine = turn("message", me, outbox)
    mine.reply("to me")
    mine.message(Address.pair(me.id, partner.id), "to my pair")
    mine.message(Address.person(partner.id), "to my partner")
    mine.message(Address(kind="conversation", conversation="C1"), "in a channel")
    mine.as_person(someone).reply("to someone I act for")  # a coordinator publishing, inviting, ...
    mine.message(Address.person(me.id), "a questionnaire I opened", kind="nudge")
    scheduled = turn("due", None, outbox)
    scheduled.as_person(me).reply("a reminder")
    assert outbox.lanes == {
        "to me": "reply",
        "to my pair": "reply",
        "to my partner": "bulk",
        "in a channel": "bulk",
        "to someone I act for": "bulk",
        "a questionnaire I opened": "reply",
        "a reminder": "bulk",
    }

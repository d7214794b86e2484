"""Stored message payloads are personal data too: after RMBOT_PAYLOAD_RETENTION_DAYS a handled inbox event and
a delivered outbox message keep only what exactly-once needs (ids, keys, status); a redelivery is still refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.wiring import open_store
from bot.clock import OffsetClock
from bot.model import Address, InboundEvent, OutgoingMessage, Platform
from chat import Chat
from database_dump import search
from storage.sql import select
from storage.store import SqlStore
from storage.tables import InboxEventRow, OutboxMessageRow
from test_sessions import COORD, MENTEE, pair_up

START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def chat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chat]:
    """The sample organisation and a programme, on a store whose clock is the chat's (the rows' times move
    with it)."""
    clock = OffsetClock(start=START)
    if request.param == "sqlite":
        store = SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}", now=clock.now)
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        store = SqlStore.open(url, schema=schema, now=clock.now)
    chat = Chat(store, clock)
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-03-02", "2030-05-31")
    try:
        yield chat
    finally:
        store.close()


def inbox_row(chat: Chat, event_id: str) -> InboxEventRow:
    with chat.store.unit_of_work() as uow:
        return uow.session.exec(select(InboxEventRow).where(InboxEventRow.event_id == event_id)).one()


def outbox_row(chat: Chat, key: str) -> OutboxMessageRow:
    with chat.store.unit_of_work() as uow:
        return uow.session.exec(select(OutboxMessageRow).where(OutboxMessageRow.idempotency_key == key)).one()


def event(event_id: str, text: str = "") -> InboundEvent:
    return InboundEvent(
        platform=Platform.CONSOLE,
        tenant="console",
        event_id=event_id,
        user=MENTEE,
        user_email=MENTEE,
        text=text,
        occurred_at=START,
    )


def test_handled_and_delivered_payloads_are_redacted_after_the_retention_window(chat: Chat) -> None:
    pair_up(chat)
    assert "qzoldquestion71" in chat.send(MENTEE, "qzoldquestion71", event_id="old")[0]  # quoted in the answer
    with chat.store.unit_of_work() as uow:
        uow.outbox.add(
            OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="later", text="qzstillwaiting71"),
            "console",
            not_before=chat.clock.now() + timedelta(days=90),
        )
    chat.advance(timedelta(days=29))
    assert "qzrecentquestion71" in chat.send(MENTEE, "qzrecentquestion71", event_id="recent")[0]
    assert inbox_row(chat, "old").payload["text"] == "qzoldquestion71"  # 29 days on: still kept

    chat.advance(timedelta(days=2))
    old, answer = inbox_row(chat, "old"), outbox_row(chat, "console:console:old:1")
    assert (old.status, old.user_key, old.payload["event_id"]) == ("done", "", "old")
    assert set(old.payload) <= {"platform", "tenant", "event_id", "occurred_at", "kind"}  # who and what: gone
    assert (answer.status, answer.payload["text"], answer.payload.get("attachments", [])) == ("sent", "", [])
    assert OutgoingMessage.model_validate(answer.payload).idempotency_key == "console:console:old:1"
    assert search(chat.store.engine, ["qzoldquestion71"]) == []
    assert {h.needle for h in search(chat.store.engine, ["qzrecentquestion71", "qzstillwaiting71"])} == {
        "qzrecentquestion71",  # handled 2 days ago: kept
        "qzstillwaiting71",  # not delivered yet: kept whole
    }
    assert chat.runtime.accept(event("old", "qzoldquestion71")) is False  # a redelivery is still refused
    assert chat.runtime.accept(event("recent")) is False
    with chat.store.unit_of_work() as uow:  # the outbox still knows the key: the message is never queued twice
        again = OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="console:console:old:1", text="")
        assert uow.outbox.add(again, "console") is False


def test_the_retention_window_is_a_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rmbot.db'}"
    assert Settings(database_url=url).rmbot_payload_retention_days == 30
    store = open_store(Settings(database_url=url, rmbot_payload_retention_days=7))
    try:
        assert store.payload_retention == timedelta(days=7)
    finally:
        store.close()
    with pytest.raises(ValueError):
        Settings(database_url=url, rmbot_payload_retention_days=0)

"""A pressed message Slack no longer has (deleted, its DM gone, past the edit window) cannot show the press: that
is an expected end, so the update is settled quietly, once, with no error logged and no retry, while the press
itself still takes effect and is answered. Driven over HTTP with signed ``block_actions`` against the fake Slack."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from fake_slack import FakeSlack
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_slack_harness import MENTOR, SlackBot, fake_users, seed
from test_slack_pressed import _outbox_due_now, invited, posted, press_in, state_of, updates_of


def update_rows(store: SqlStore) -> list[OutboxMessageRow]:
    """The outbox messages that show a press in the message pressed."""
    with store.unit_of_work() as uow:
        rows: list[OutboxMessageRow] = list(uow.session.execute(select(OutboxMessageRow)).scalars())
        return [row for row in rows if row.payload.get("replaces")]


def loud(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the bot logged as a warning or worse."""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_press_on_a_message_deleted_since_is_settled_quietly(
    sqlite_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            posted(fake, MENTOR).remove(invitation)  # the person deleted it (the phone still shows it)
            caplog.clear()
            caplog.set_level(logging.INFO)
            await press_in(bot, MENTOR, invitation, "Yes, I'm in")
            await bot.work()

            assert state_of(sqlite_store, programme, MENTOR)[0] == "active"  # the press counted
            assert any("you're in" in post["text"] for post in posted(fake, MENTOR))  # and was answered
            [row] = update_rows(sqlite_store)
            assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")  # settled, not failed
            assert fake.calls_to("chat.update") == [] and loud(caplog) == []
            _outbox_due_now(sqlite_store)
            await bot.work()
            assert [c for c in fake.calls if c.method == "chat.update"] == []  # never retried


@pytest.mark.parametrize(
    "answer", ["message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"]
)
async def test_an_update_slack_refuses_for_good_is_not_retried_nor_logged_as_an_error(
    sqlite_store: SqlStore, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            fake.fail("chat.update", answer)
            caplog.clear()
            await press_in(bot, MENTOR, invitation, "No, thanks")
            await bot.work()

            assert state_of(sqlite_store, programme, MENTOR)[0] == "declined"
            [row] = update_rows(sqlite_store)
            assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
            assert len([c for c in fake.calls if c.method == "chat.update"]) == 1 and loud(caplog) == []
            _outbox_due_now(sqlite_store)
            await bot.work()
            assert len([c for c in fake.calls if c.method == "chat.update"]) == 1
            assert updates_of(fake, invitation) == []  # Slack changed nothing, and nobody asked again


async def test_a_press_naming_no_real_message_still_counts_and_asks_slack_for_nothing(
    sqlite_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged payload whose ``message_ts`` is not a timestamp (found by the fuzz test): the press is taken,
    and no update is attempted for a message nobody can name."""
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            damaged = {**invitation, "ts": ["1.2"]}
            caplog.clear()
            await press_in(bot, MENTOR, damaged, "Yes, I'm in")
            await bot.work()
            assert state_of(sqlite_store, programme, MENTOR)[0] == "active"
            assert update_rows(sqlite_store) == [] and loud(caplog) == []
            assert fake.calls_to("conversations.history") == [] and fake.calls_to("chat.update") == []

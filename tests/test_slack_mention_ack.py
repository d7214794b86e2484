"""Acknowledgements never wait for Slack: a mention of the bot is committed and acknowledged with no Web API call
(whether it was made in a channel or in what may be a group DM is read from the channel id, not asked of Slack),
and still answered as before once the worker runs. Driven over HTTP with signed events against the fake Slack."""

from __future__ import annotations

import time

from fake_slack import FakeSlack
from storage.store import SqlStore
from test_slack_harness import MENTEE, MENTOR, SlackBot, fake_users, seed
from test_slack_native import GOAL, group_body, mention_body, paired


async def warmed_up(bot: SlackBot) -> None:
    """One event first: bolt asks ``auth.test`` once per process for the bot's own user id, then remembers it."""
    assert (await bot.dm("help", MENTOR))[0] == 200
    await bot.work()


async def test_a_mention_in_a_channel_is_acknowledged_without_any_web_api_call(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await warmed_up(bot)
            ts = f"{time.time():.6f}"
            body = mention_body(bot, MENTOR, "C0GENERAL", f"<@{fake.bot_user}> help", ts)
            calls = len(fake.calls)

            assert (await bot.event(body))[0] == 200

            assert len(fake.calls) == calls  # nothing asked of Slack before the ack...
            assert bot.inbox_status(body["event_id"]) == "pending"  # ...and the command is safe in the inbox
            answers = len(fake.posts(fake.dm_channel(MENTOR)))
            await bot.work()
            assert not fake.posts("C0GENERAL")  # answered privately, as a channel mention always is
            assert "What you can ask me" in fake.posts(fake.dm_channel(MENTOR))[answers]["text"]
            assert [c for c in fake.calls if c.method == "conversations.info"] == []


async def test_a_mention_in_a_pairs_group_dm_costs_no_call_before_the_ack_and_is_one_command(
    sqlite_store: SqlStore,
) -> None:
    paired(sqlite_store, session=False)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        async with SlackBot(sqlite_store, fake) as bot:
            await warmed_up(bot)
            ts = f"{time.time():.6f}"
            mention = mention_body(bot, MENTEE, group, f"<@{fake.bot_user}> goals", ts)
            calls = len(fake.calls)

            assert (await bot.event(mention))[0] == 200

            assert len(fake.calls) == calls
            assert bot.inbox_status(f"msg:{group}:{ts}") == "pending"  # keyed by the message, not the event
            # the message.mpim of the same message is the same command: kept once
            assert (await bot.event(group_body(bot, MENTEE, group, f"<@{fake.bot_user}> goals", ts)))[0] == 200
            await bot.work()
            answers = [p for p in fake.posts() if GOAL in p["text"]]
            assert len(answers) == 1  # one answer, never shown to anyone but the pair
            assert answers[0]["channel"] in (group, fake.dm_channel(MENTEE))
            assert [c for c in fake.calls if c.method == "conversations.info"] == []

"""Inbox deduplication across replicas: two processes' worth of app, worker and store on one PostgreSQL
database receive the same Slack event (the original on one, Slack's retries on the other) at once."""

from __future__ import annotations

import asyncio

from fake_slack import FakeSlack
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, SlackBot, fake_users, seed


async def test_the_same_event_sent_to_two_replicas_at_once_has_one_effect(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    first, second = SqlStore.open(url, schema=schema), SqlStore.open(url, schema=schema, migrate=False)
    try:
        seed(first)
        with FakeSlack(users=fake_users()) as fake:
            async with SlackBot(first, fake) as one, SlackBot(second, fake) as two:
                for n in range(20):
                    body = one.dm_body("help", COORDINATOR, event_id=f"EvBoth{n}")
                    answers = await asyncio.gather(
                        one.event(body), two.event(body, retry=1), one.event(body, retry=2), two.event(body, retry=3)
                    )
                    assert [status for status, _ in answers] == [200, 200, 200, 200]
                await asyncio.gather(one.work(), two.work())
                await asyncio.gather(one.work(), two.work())
                assert all(one.inbox_status(f"EvBoth{n}") == "done" for n in range(20))
                assert len(fake.posts(fake.dm_channel(COORDINATOR))) == 20  # one answer per event, not four
    finally:
        first.close()
        second.close()

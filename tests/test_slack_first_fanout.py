"""A first fan-out goes at ``chat.postMessage``'s pace: a person never messaged gets the post with their user id
as its channel (Slack posts it in the bot's DM with them and names that DM in its answer), so no
``conversations.open`` (tier 3, about 50 a minute) is called for them, and the DM Slack named is kept for next
time. Group DMs still need ``conversations.open``. Driven against the fake Web API over HTTP, with Slack's limits."""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlmodel import Session

from adapters.slack.pacing import POST
from bot.domain import NewPerson
from fake_slack import FakeSlack, Limits, slack_user, tier_limits
from storage.slack_channels import SlackDmChannelRow
from storage.sql import table
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_slack_delivery import Sender, outbox_row, person_id, queue
from test_slack_harness import MENTEE, MENTOR, TEAM, fake_users, seed
from test_slack_rate_limits import kept, to

PEOPLE = 200
BUDGET = 50.0
"""Requests a second the deployment allows itself (``SLACK_WORKSPACE_BUDGET``); the fake allows 100."""


def newcomers(store: SqlStore, count: int) -> dict[str, dict[str, object]]:
    """``count`` people with a Slack account whom the bot never messaged; their profiles, for the fake."""
    users: dict[str, dict[str, object]] = {}
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None and tenant.id is not None
        for n in range(count):
            user = f"W8{n:04d}"
            users[user] = slack_user(user, f"Person {n}", f"person{n}@example.com")
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"person{n}@example.com"))
            uow.people.link_identity(person, "slack", user)
    return users


def posted_to(fake: FakeSlack, prefix: str) -> dict[str, str]:
    """Idempotency key -> the ``channel`` argument the bot passed, for the posts of keys starting with ``prefix``."""
    return {
        key: str(call.args["channel"])
        for call in fake.calls_to(POST)
        if (key := str(call.args["metadata"]["event_payload"]["key"])).startswith(prefix)
    }


def test_a_first_fan_out_to_200_people_opens_no_conversation_and_keeps_every_limit(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    users = {**fake_users(), **newcomers(sqlite_store, PEOPLE)}
    people = [user for user in users if user.startswith("W8")]
    for user in people:
        queue(sqlite_store, to(sqlite_store, user), f"welcome-{user}")
    with FakeSlack(users=users, limits=Limits(methods=tier_limits())) as fake:
        started = time.monotonic()
        Sender(sqlite_store, fake, budget=BUDGET).send()
        took = time.monotonic() - started

        # everyone reached once, at the posts' pace: conversations.open at 50 a minute would take four minutes
        first = posted_to(fake, "welcome-")
        assert first == {f"welcome-{user}#0": user for user in people}  # each by user id, exactly once
        assert [c for c in fake.calls if c.method == "conversations.open"] == []
        assert fake.rate_limited == 0 and fake.violations == 0
        assert took < PEOPLE / BUDGET * 2 + 5
        assert all(outbox_row(sqlite_store, f"welcome-{user}").status == "sent" for user in people[:5])

        # the DM Slack named for each is kept: the next message goes there, and a restart does not lose it
        channels = kept(sqlite_store)
        assert {user: channels[user] for user in people} == {user: fake.dm_channel(user) for user in people}
        assert all(channel.startswith("D") for channel in channels.values())
        for user in people[:20]:
            queue(sqlite_store, to(sqlite_store, user), f"again-{user}")
        Sender(sqlite_store, fake, budget=BUDGET).send()  # a new process over the same database
        assert posted_to(fake, "again-") == {f"again-{user}#0": fake.dm_channel(user) for user in people[:20]}
        assert fake.posts(fake.dm_channel(people[0]))[-1]["metadata"]["event_payload"]["key"] == f"again-{people[0]}#0"
        assert [c for c in fake.calls if c.method == "conversations.open"] == []
        assert fake.rate_limited == 0 and fake.violations == 0


def test_a_pairs_group_dm_is_still_opened_and_a_long_first_message_stays_in_one_dm(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR, MENTEE), "intro", text="Meet your partner!")
    queue(
        sqlite_store,
        to(sqlite_store, MENTOR),
        "long",
        text="\n\n".join(f"Item {n}: " + "notes " * 400 for n in range(12)),
    )
    with FakeSlack(users=fake_users(), limits=Limits(methods=tier_limits())) as fake:
        Sender(sqlite_store, fake).send()
        [opened] = fake.calls_to("conversations.open")
        assert set(str(opened.args["users"]).split(",")) == {MENTOR, MENTEE}
        pages = [
            c.args["channel"]
            for c in fake.calls_to(POST)
            if c.args["metadata"]["event_payload"]["key"].startswith("long")
        ]
        # the first page by user id, the rest in the DM Slack named for it (which is kept)
        assert len(pages) >= 2 and pages[0] == MENTOR and set(pages[1:]) == {fake.dm_channel(MENTOR)}
        assert len(fake.posts(fake.dm_channel(MENTOR))) == len(pages)
        assert kept(sqlite_store)[MENTOR] == fake.dm_channel(MENTOR)
        assert fake.rate_limited == 0 and fake.violations == 0


def test_a_first_message_whose_sender_died_before_keeping_the_dm_is_not_posted_twice(sqlite_store: SqlStore) -> None:
    """The post by user id reached Slack, then the process died before the DM Slack named was kept: the message,
    taken over, opens the DM to read its history, finds the post, and sends nothing more."""
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "first-ever")
    with FakeSlack(users=fake_users(), limits=Limits(methods=tier_limits())) as fake:
        Sender(sqlite_store, fake).send()
        mentor = person_id(sqlite_store, MENTOR)
        with Session(sqlite_store.engine) as session, session.begin():  # as if nothing after the post was recorded
            session.execute(table(SlackDmChannelRow).delete())
            session.execute(
                update(OutboxMessageRow)
                .where(OutboxMessageRow.idempotency_key == "first-ever")
                .values(status="sending", pending=[mentor], not_before=OutboxMessageRow.created_at)
            )
        Sender(sqlite_store, fake).send()  # a new process takes it over
        assert [p["metadata"]["event_payload"]["key"] for p in fake.posts()] == ["first-ever#0"]
        assert len(fake.calls_to("conversations.open")) == 1 and fake.calls_to("conversations.history")
        assert outbox_row(sqlite_store, "first-ever").status == "sent"
        assert kept(sqlite_store) == {MENTOR: fake.dm_channel(MENTOR)}

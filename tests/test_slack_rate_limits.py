"""Slack's limits are per method: a 429 on one method holds back only that method (a post: only that channel),
each method keeps to its own tier, and the DM channels the bot opened are kept in the database, so a restart
costs no ``conversations.open`` for people already reached. The deliverer runs against the fake Web API over
HTTP, which enforces the same limits and counts any call made while its ``Retry-After`` runs as a violation."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from adapters.slack.pacing import POST, Pacer
from bot.domain import NewPerson
from bot.model import Address
from fake_slack import FakeSlack, Limits, slack_user, tier_limits
from storage.slack_channels import SlackDmChannelRow
from storage.sql import table
from storage.store import SqlStore
from test_slack_delivery import Sender, keys_posted, outbox_row, person_id, queue
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, fake_users, seed

TIERED = Limits(methods=tier_limits())
"""Slack's tiers (conversations.open 50 a minute with a burst of 10, ...) on top of the usual limits."""


def kept(store: SqlStore) -> dict[str, str]:
    """The DM channels kept in the database: users (comma-separated) -> channel id."""
    with store.engine.connect() as connection:
        rows = connection.execute(table(SlackDmChannelRow).select()).mappings().all()
    return {row["users"]: row["channel_id"] for row in rows}


def to(store: SqlStore, *users: str) -> Address:
    ids = [person_id(store, user) for user in users]
    return Address.person(ids[0]) if len(ids) == 1 else Address.pair(ids[0], ids[1])


def test_a_429_on_conversations_open_does_not_hold_up_posts_to_conversations_already_open(
    sqlite_store: SqlStore,
) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "first")
    with FakeSlack(users=fake_users(), limits=TIERED) as fake:
        sender = Sender(sqlite_store, fake)
        sender.send()  # the mentor's DM is known (and kept)
        fake.rate_limit("conversations.open", retry_after=30)
        queue(sqlite_store, to(sqlite_store, MENTOR, MENTEE), "to-new-pair")
        queue(sqlite_store, to(sqlite_store, MENTOR), "to-open-mentor")
        queue(sqlite_store, to(sqlite_store, MENTEE), "to-new-mentee")  # a first DM needs no conversations.open
        queue(sqlite_store, to(sqlite_store, COORDINATOR, MENTEE), "to-new-group")
        started = time.monotonic()
        sender.send()
        assert time.monotonic() - started < 1.5  # nobody waited for the 30 s

        # the open conversation and the first DM were not held up
        assert keys_posted(fake) == ["first#0", "to-open-mentor#0", "to-new-mentee#0"]
        assert outbox_row(sqlite_store, "to-open-mentor").status == "sent"
        for key in ("to-new-pair", "to-new-group"):  # group DMs still to open wait
            row = outbox_row(sqlite_store, key)
            assert row.status == "pending" and row.last_error == ""  # waiting for Retry-After, not failed
            assert (row.not_before - datetime.now(UTC)).total_seconds() > 25
        opens = [c for c in fake.calls if c.method == "conversations.open"]
        assert len(opens) == 1  # the second group DM's was not even tried while the method is paused
        assert fake.violations == 0


def test_a_429_on_a_post_holds_back_only_that_channel(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "first")
    with FakeSlack(users=fake_users(), limits=TIERED) as fake:
        sender = Sender(sqlite_store, fake)
        sender.send()
        fake.rate_limit("chat.postMessage", retry_after=30)  # the next post, in the mentor's DM
        queue(sqlite_store, to(sqlite_store, MENTOR), "mentor-limited")
        queue(sqlite_store, to(sqlite_store, MENTOR), "mentor-waits")
        queue(sqlite_store, to(sqlite_store, MENTEE), "mentee-goes")
        sender.send()
        assert keys_posted(fake) == ["first#0", "mentee-goes#0"]  # opened and posted in another channel
        assert outbox_row(sqlite_store, "mentor-limited").status == "pending"
        assert outbox_row(sqlite_store, "mentor-waits").status == "pending"
        assert fake.violations == 0


def test_each_method_keeps_to_its_tier_and_slack_never_has_to_say_429(sqlite_store: SqlStore) -> None:
    """Twelve group DMs reached for the first time: conversations.open (tier 3, 50 a minute) goes ten at once,
    then one every 1.2 s, while the posts in the DMs already open go at their own pace."""
    seed(sqlite_store)
    users = fake_users()
    with sqlite_store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None and tenant.id is not None
        for n in range(13):
            user = f"W9{n:02d}"
            users[user] = slack_user(user, f"Person {n}", f"person{n}@example.com")
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"person{n}@example.com"))
            uow.people.link_identity(person, "slack", user)
    for n in range(12):
        queue(sqlite_store, to(sqlite_store, "W900", f"W9{n + 1:02d}"), f"hello-{n}")
    with FakeSlack(users=users, limits=TIERED) as fake:
        Sender(sqlite_store, fake).send()
        assert sorted(keys_posted(fake)) == sorted(f"hello-{n}#0" for n in range(12))
        assert fake.rate_limited == 0 and fake.violations == 0
        opened = [c.at for c in fake.calls_to("conversations.open")]
        assert len(opened) == 12 and opened[-1] - opened[0] >= 2 * 1.2 * 0.95


def test_the_pacer_keeps_a_bucket_per_method_and_a_pause_per_method() -> None:
    clock = {"now": 100.0}
    pacer = Pacer(workspace_rate=1000, clock=lambda: clock["now"])
    for _ in range(10):  # tier 3: a burst of ten...
        assert pacer.acquire("T", method="conversations.open", max_wait=0) == 0
    assert round(pacer.acquire("T", method="conversations.open", max_wait=0), 2) == 1.2  # ...then 50 a minute
    assert pacer.acquire("T2", method="conversations.open", max_wait=0) == 0  # another workspace is free
    assert pacer.acquire("T", "D1", method="chat.postMessage", max_wait=0) == 0  # another method is free
    pacer.pause("T", 30, "conversations.open")
    slept: list[float] = []
    assert pacer.acquire("T", method="conversations.open", max_wait=60, sleep=slept.append) > 29  # not slept
    assert slept == [] and pacer.acquire("T", method="users.lookupByEmail", max_wait=0) == 0
    pacer.pause("T", 30, "chat.postMessage", "D1")
    assert pacer.acquire("T", "D1", method="chat.postMessage", max_wait=0) > 29
    assert pacer.acquire("T", "D2", method="chat.postMessage", max_wait=0) == 0  # another channel is free
    clock["now"] += 31
    assert pacer.acquire("T", "D1", method="chat.postMessage", max_wait=0) == 0


def test_after_a_restart_no_conversation_is_opened_again_for_people_already_reached(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "before-1")
    queue(sqlite_store, to(sqlite_store, COORDINATOR), "before-2")
    queue(sqlite_store, to(sqlite_store, MENTOR, MENTEE), "before-pair")
    with FakeSlack(users=fake_users(), limits=TIERED) as fake:
        Sender(sqlite_store, fake).send()
        assert len(fake.calls_to("conversations.open")) == 1  # the group DM; DMs are named by the posts' answers
        assert set(kept(sqlite_store)) == {MENTOR, COORDINATOR, ",".join(sorted([MENTOR, MENTEE]))}

        restarted = Sender(sqlite_store, fake)  # a new process over the same database
        queue(sqlite_store, to(sqlite_store, MENTOR), "after-1")
        queue(sqlite_store, to(sqlite_store, COORDINATOR), "after-2")
        queue(sqlite_store, to(sqlite_store, MENTOR, MENTEE), "after-pair")
        queue(sqlite_store, to(sqlite_store, MENTEE), "after-new")
        restarted.send()
        assert len(fake.calls_to("conversations.open")) == 1  # nothing opened again
        channels = {c.args["metadata"]["event_payload"]["key"]: c.args["channel"] for c in fake.calls_to(POST)}
        assert channels["after-1#0"] == fake.dm_channel(MENTOR)  # the kept channel, not the user id
        assert channels["after-new#0"] == MENTEE  # the one never reached: by user id
        assert fake.posts(fake.dm_channel(MENTOR))[-1]["metadata"]["event_payload"]["key"] == "after-1#0"
        assert fake.posts(fake.dm_channel(MENTOR, MENTEE))[-1]["metadata"]["event_payload"]["key"] == "after-pair#0"
        assert fake.posts(fake.dm_channel(COORDINATOR))[-1]["metadata"]["event_payload"]["key"] == "after-2#0"


def test_a_kept_channel_slack_no_longer_knows_is_opened_afresh_and_the_message_arrives(
    sqlite_store: SqlStore,
) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "before")
    with FakeSlack(users=fake_users(), unreachable={"D0GONE": "channel_not_found"}) as fake:
        Sender(sqlite_store, fake).send()
        with sqlite_store.engine.begin() as connection:  # e.g. the workspace's conversations were migrated
            connection.execute(table(SlackDmChannelRow).update().values(channel_id="D0GONE"))
        queue(sqlite_store, to(sqlite_store, MENTOR), "after")
        Sender(sqlite_store, fake).send()  # after a restart: the kept channel is used...
        attempts = [c for c in fake.calls if c.method == "chat.postMessage"]
        assert [c.args["channel"] for c in attempts][-2:] == ["D0GONE", MENTOR]
        assert keys_posted(fake) == ["before#0", "after#0"]  # ...Slack does not know it: reached again, sent once
        assert outbox_row(sqlite_store, "after").status == "sent"
        assert kept(sqlite_store) == {MENTOR: fake.dm_channel(MENTOR)}


def test_an_archived_dm_is_no_longer_kept(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, to(sqlite_store, MENTOR), "before")
    with FakeSlack(users=fake_users()) as fake:
        sender = Sender(sqlite_store, fake)
        sender.send()
        fake.fail("chat.postMessage", "is_archived")
        queue(sqlite_store, to(sqlite_store, MENTOR), "archived")
        sender.send()
        assert "is_archived" in outbox_row(sqlite_store, "archived").last_error
        assert kept(sqlite_store) == {}
        queue(sqlite_store, to(sqlite_store, MENTOR), "later")
        sender.send()
        assert fake.calls_to("conversations.open") == [] and keys_posted(fake) == ["before#0", "later#0"]
        assert kept(sqlite_store) == {MENTOR: fake.dm_channel(MENTOR)}  # named again by the later post's answer


def test_forgetting_someone_removes_every_channel_kept_with_them_and_only_those(store: SqlStore) -> None:
    seed(store)
    for users in ([MENTEE], [MENTOR], [COORDINATOR], [MENTOR, MENTEE]):
        queue(store, to(store, *users), f"to-{'-'.join(users)}")
    with FakeSlack(users=fake_users()) as fake:
        Sender(store, fake).send()
        assert len(kept(store)) == 4
        with store.unit_of_work() as uow:  # what forget-me does once the farewell went out
            uow.erasure.forget_accounts(person_id(store, MENTEE))
        assert kept(store) == {MENTOR: fake.dm_channel(MENTOR), COORDINATOR: fake.dm_channel(COORDINATOR)}
        with store.unit_of_work() as uow:
            other = uow.tenants.ensure("slack", "T222")
        assert other.id is not None and store.slack.dm_channels(other.id) == {}  # kept per tenant

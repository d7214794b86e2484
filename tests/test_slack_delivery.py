"""The Slack deliverer against the fake Web API: rate limits, errors, group DMs, files, paging, exactly once."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from adapters.slack.delivery import SlackDeliverer
from adapters.slack.pacing import Bucket, Pacer
from bot.model import Address, Attachment, OutgoingMessage, Section
from bot.runtime import Runtime
from fake_slack import FakeSlack, slack_user
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, fake_users, seed


def person_id(store: SqlStore, user: str = "", email: str = "") -> int:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        person = uow.people.by_identity(tenant.id, "slack", user) if user else uow.people.by_email(tenant.id, email)  # type: ignore[union-attr]
        return person.id  # type: ignore[union-attr]


def queue(store: SqlStore, to: Address, key: str, text: str = "Your agenda for Thursday", **fields: Any) -> None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        uow.outbox.add(
            OutgoingMessage(tenant_id=tenant.id, to=to, idempotency_key=key, text=text, **fields),  # type: ignore[union-attr]
            platform="slack",
        )


def outbox_row(store: SqlStore, key: str) -> OutboxMessageRow:
    with Session(store.engine) as session:
        return session.execute(select(OutboxMessageRow).where(OutboxMessageRow.idempotency_key == key)).scalar_one()


class Sender:
    """The runtime's send path with the Slack deliverer, as the worker's sending thread runs it."""

    def __init__(self, store: SqlStore, fake: FakeSlack, budget: float = 1000.0) -> None:
        self.runtime = Runtime(store)
        self.deliverer = SlackDeliverer(store, lambda team: "xoxb-test", fake.api_url, budget)

    def send(self) -> int:
        return self.runtime.send_pending(self.deliverer)


def keys_posted(fake: FakeSlack) -> list[str]:
    return [p["metadata"]["event_payload"]["key"] for p in fake.posts()]


def test_a_429_is_honoured_and_the_message_is_delivered_once_after_retry_after(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTOR)), "agenda-1")
    with FakeSlack(users=fake_users()) as fake:
        sender = Sender(sqlite_store, fake)
        fake.rate_limit("chat.postMessage", retry_after=1)
        sender.send()
        assert fake.posts() == [] and fake.rate_limited == 1
        row = outbox_row(sqlite_store, "agenda-1")
        assert row.status == "pending" and row.not_before.timestamp() > time.time() + 0.5
        sender.send()  # too early: nothing is even attempted
        assert fake.violations == 0 and fake.posts() == []
        time.sleep(1.1)
        sender.send()
        assert keys_posted(fake) == ["agenda-1#0"]
        assert fake.violations == 0 and outbox_row(sqlite_store, "agenda-1").status == "sent"
        sender.send()
        assert len(fake.posts()) == 1


def test_a_permanent_error_stops_that_message_and_says_why(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTOR)), "agenda-2")
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTEE)), "agenda-3")
    with FakeSlack(users=fake_users()) as fake:
        fake.fail("chat.postMessage", "is_archived")
        Sender(sqlite_store, fake).send()
        failed = outbox_row(sqlite_store, "agenda-2")
        assert failed.status == "failed" and "is_archived" in failed.last_error
        assert outbox_row(sqlite_store, "agenda-3").status == "sent"  # the next one is not held up


def test_a_transient_error_is_retried_later(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTOR)), "agenda-4")
    with FakeSlack(users=fake_users()) as fake:
        fake.fail("chat.postMessage", "internal_error")
        Sender(sqlite_store, fake).send()
        row = outbox_row(sqlite_store, "agenda-4")
        assert row.status == "pending" and "internal_error" in row.last_error


def test_a_pair_introduction_goes_to_one_group_dm_with_both(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    pair = Address.pair(person_id(sqlite_store, MENTOR), person_id(sqlite_store, MENTEE))
    queue(sqlite_store, pair, "intro-1", text="Meet your partner!")
    with FakeSlack(users=fake_users()) as fake:
        Sender(sqlite_store, fake).send()
        [opened] = fake.calls_to("conversations.open")
        assert set(opened.args["users"].split(",")) == {MENTOR, MENTEE}
        [post] = fake.posts()
        assert post["channel"] == fake.dm_channel(MENTOR, MENTEE) and post["channel"].startswith("G")
        assert outbox_row(sqlite_store, "intro-1").pending == []


def test_files_go_out_with_files_upload_v2(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    csv = b"pair,met\nA-B,3\n"
    queue(
        sqlite_store,
        Address.person(person_id(sqlite_store, COORDINATOR)),
        "report-1",
        text="Your report",
        attachments=[
            Attachment(
                filename="report.csv", media_type="text/csv", title="Report", content_b64=base64.b64encode(csv).decode()
            ),
            Attachment(filename="chart.png", media_type="image/png", content_b64=base64.b64encode(b"\x89PNG").decode()),
        ],
    )
    with FakeSlack(users=fake_users()) as fake:
        Sender(sqlite_store, fake).send()
        assert len(fake.calls_to("files.getUploadURLExternal")) == 2
        [complete] = fake.calls_to("files.completeUploadExternal")
        assert complete.args["channel_id"] == fake.dm_channel(COORDINATOR)
        assert sorted(fake.uploads.values()) == sorted([csv, b"\x89PNG"])


def test_someone_known_only_by_email_is_found_with_users_lookup_by_email(sqlite_store: SqlStore) -> None:
    seed(sqlite_store, link=False)
    queue(sqlite_store, Address.person(person_id(sqlite_store, email="daniel@example.com")), "hello-1")
    queue(sqlite_store, Address.person(person_id(sqlite_store, email="arjun@example.com")), "hello-2")
    users = {MENTEE: slack_user(MENTEE, "Daniel Okonkwo", "daniel@example.com")}
    with FakeSlack(users=users) as fake:
        Sender(sqlite_store, fake).send()
        assert [p["channel"] for p in fake.posts()] == [fake.dm_channel(MENTEE)]
        assert person_id(sqlite_store, MENTEE) == person_id(sqlite_store, email="daniel@example.com")
        unreachable = outbox_row(sqlite_store, "hello-2")
        assert unreachable.status == "failed" and "users_not_found" in unreachable.last_error


def test_a_message_too_big_for_one_post_is_paged_and_a_429_mid_way_resumes_where_it_stopped(
    sqlite_store: SqlStore,
) -> None:
    seed(sqlite_store)
    sections = [
        Section(text=f"**Item {n}**: " + "notes " * 300, fields=[("Owner", "Arjun"), ("Due", "Friday")])
        for n in range(40)
    ]
    queue(
        sqlite_store,
        Address.person(person_id(sqlite_store, MENTOR)),
        "long-1",
        text="All action items",
        sections=sections,
    )
    with FakeSlack(users=fake_users()) as fake:
        sender = Sender(sqlite_store, fake)
        original = fake._m_chat_postMessage
        count = {"n": 0}

        def second_page_limited(args: dict[str, Any], team: str) -> dict[str, Any]:
            count["n"] += 1
            if count["n"] == 2:
                fake.rate_limit("chat.postMessage", retry_after=1)
            return original(args, team)

        fake._m_chat_postMessage = second_page_limited  # type: ignore[method-assign]
        sender.send()
        first = keys_posted(fake)
        assert first == ["long-1#0", "long-1#1"]
        time.sleep(1.1)
        sender.send()
        keys = keys_posted(fake)
        pages = int(keys[-1].rsplit("#", 1)[1]) + 1
        assert keys == [f"long-1#{n}" for n in range(pages)] and pages >= 3  # each page exactly once
        for post in fake.posts():
            assert len(post["blocks"]) <= 50 and len(post["text"]) <= 3000
        assert fake.calls_to("conversations.history") and fake.violations == 0


def test_a_send_interrupted_by_a_crash_is_reconciled_not_repeated(sqlite_store: SqlStore) -> None:
    """The process died after Slack took the message but before the outbox recorded it: no second copy."""
    seed(sqlite_store)
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTOR)), "agenda-9")
    queue(sqlite_store, Address.person(person_id(sqlite_store, MENTEE)), "agenda-10")
    with FakeSlack(users=fake_users()) as fake:
        Sender(sqlite_store, fake).send()
        with Session(sqlite_store.engine) as session, session.begin():  # as if "delivered" was never written
            session.execute(
                update(OutboxMessageRow)
                .where(OutboxMessageRow.idempotency_key == "agenda-9")
                .values(
                    status="sending", pending=[person_id(sqlite_store, MENTOR)], not_before=OutboxMessageRow.created_at
                )
            )
        fresh = Sender(sqlite_store, fake)  # a new process: nothing cached
        fresh.send()
        assert keys_posted(fake).count("agenda-9#0") == 1
        assert outbox_row(sqlite_store, "agenda-9").status == "sent"
        assert len(fake.calls_to("conversations.history")) == 1


def test_the_workspace_budget_paces_requests(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    for n, user in enumerate([MENTOR, MENTEE, COORDINATOR] * 3):
        queue(sqlite_store, Address.person(person_id(sqlite_store, user)), f"paced-{n}")
    with FakeSlack(users=fake_users()) as fake:
        started = time.monotonic()
        Sender(sqlite_store, fake, budget=8.0).send()
        sent = [c.at for c in fake.calls]
        # nine posts and nothing else: a first message to someone goes to their user id (no conversations.open)
        assert len(fake.posts()) == len(sent) == 9 and fake.calls_to("conversations.open") == []
        assert time.monotonic() - started >= (len(sent) - 1) / 8.0 * 0.95
        assert fake.rate_limited == 0


def test_pacer_buckets() -> None:
    clock = {"now": 100.0}
    pacer = Pacer(workspace_rate=10, channel_rate=1, channel_burst=3, clock=lambda: clock["now"])
    assert pacer.acquire("T", "D1", max_wait=0) == 0
    assert round(pacer.acquire("T", "D1", max_wait=0), 3) == 0.1  # the workspace budget: 10 a second
    for _ in range(2):
        clock["now"] += 0.1
        assert pacer.acquire("T", "D1", max_wait=0) == 0  # a burst of three in one channel...
    clock["now"] += 0.1
    assert round(pacer.acquire("T", "D1", max_wait=0), 3) == 0.7  # ...then about one a second
    assert pacer.acquire("T", "D2", max_wait=0) == 0  # another channel is free
    slept: list[float] = []
    assert (
        pacer.acquire("T", "D1", max_wait=2, sleep=lambda s: (slept.append(s), clock.update(now=clock["now"] + s))) == 0
    )
    assert [round(s, 3) for s in slept] == [0.7]
    pacer.pause("T", 5)
    assert pacer.acquire("T", max_wait=0) > 4.8
    bucket = Bucket(2.0)
    bucket.take("k", 0.0)
    assert bucket.wait("k", 0.0) == 0.5 and bucket.wait("k", 0.5) == 0


def test_a_slow_fan_out_does_not_hold_up_new_events(sqlite_store: SqlStore) -> None:
    """The worker sends from its own thread: while 30 messages trickle out at 5 requests a second, a
    command that arrives is handled (and its answer queued) at once."""
    from adapters.server import Worker
    from adapters.settings import Settings
    from bot.model import InboundEvent, Platform

    seed(sqlite_store)
    mentor = person_id(sqlite_store, MENTOR)
    for n in range(30):
        queue(sqlite_store, Address.person(mentor), f"slow-{n}")
    with FakeSlack(users=fake_users()) as fake:
        settings = Settings(
            slack_bot_token="xoxb-test",
            slack_signing_secret="s",
            slack_api_url=fake.api_url,
            slack_workspace_budget=5.0,
        )
        worker = Worker(Runtime(sqlite_store), settings)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while not fake.posts() and time.monotonic() < deadline:
                time.sleep(0.05)
            event = InboundEvent(
                platform=Platform.SLACK,
                tenant=TEAM,
                event_id="EvDuringFanOut",
                user=COORDINATOR,
                text="help",
                occurred_at=datetime.now(UTC),
            )
            worker.runtime.accept(event)
            worker.poke()
            started = time.monotonic()
            while sqlite_store.inbox.status_of("slack", TEAM, "EvDuringFanOut") != "done":
                assert time.monotonic() - started < 2.0, "the event waited for the fan-out"
                time.sleep(0.02)
            assert len(fake.posts()) < 30  # the fan-out was still going
        finally:
            worker.stop()

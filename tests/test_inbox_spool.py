"""On SQLite, a web process acknowledges into a spool file beside the database while a worker process handles:
acknowledgements never wait for the handling work's write lock, and nothing is lost or doubled on the way."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from adapters.console.session import console_event
from fake_slack import FakeSlack
from storage import inbox_spool
from storage.sql import select
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_slack_harness import COORDINATOR, SlackBot, fake_users, seed


@pytest.fixture
def two_sides(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The web side's store (accepting into the spool) and the worker side's, on one SQLite file."""
    url = f"sqlite:///{tmp_path / 'rmbot.db'}"
    web = SqlStore.open(url)
    assert web.inbox.spool_accepts()
    worker = SqlStore.open(url, migrate=False)
    seed(web)
    yield web, worker
    web.close()
    worker.close()


def main_inbox(store: SqlStore) -> list[str]:
    with Session(store.engine) as session:
        return [row.event_id for row in session.exec(select(InboxEventRow))]


async def test_an_event_acknowledged_into_the_spool_is_handled_once_by_the_worker(
    two_sides: tuple[SqlStore, SqlStore],
) -> None:
    web, worker = two_sides
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(web, fake) as front, SlackBot(worker, fake) as back:
            body = front.dm_body("help", COORDINATOR, event_id="EvSpool1")
            assert (await front.event(body))[0] == 200
            assert (await front.event(body, retry=1))[0] == 200  # Slack's retry before the worker ran
            assert main_inbox(web) == []  # not in the database the worker holds while it handles
            assert front.inbox_status("EvSpool1") == "pending"
            assert web.inbox.pending_count() == 1
            await back.work()
            assert back.inbox_status("EvSpool1") == "done"
            assert (await front.event(body, retry=2))[0] == 200  # a retry after it was handled
            await back.work()
            assert main_inbox(web) == ["EvSpool1"]
            assert len(fake.posts(fake.dm_channel(COORDINATOR))) == 1  # one answer for four deliveries
            assert web.inbox.pending_count() == 0


async def test_an_acknowledgement_does_not_wait_while_the_worker_holds_the_database(
    two_sides: tuple[SqlStore, SqlStore],
) -> None:
    web, worker = two_sides
    holding, release = threading.Event(), threading.Event()

    def long_handling() -> None:
        with worker.unit_of_work():  # BEGIN IMMEDIATE: the main file's write lock, as a heavy event holds it
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=long_handling)
    holder.start()
    try:
        assert holding.wait(10)
        with FakeSlack(users=fake_users()) as fake:
            async with SlackBot(web, fake) as front:
                status, _ = await asyncio.wait_for(front.dm("help", event_id="EvWhileBusy"), timeout=10)
                assert status == 200
                assert not release.is_set() and holder.is_alive()  # acknowledged while the lock was still held
    finally:
        release.set()
        holder.join()
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(worker, fake) as back:
            await back.work()
            assert back.inbox_status("EvWhileBusy") == "done"
            assert len(fake.posts(fake.dm_channel(COORDINATOR))) == 1


async def test_a_crash_between_gathering_and_emptying_the_spool_handles_each_event_once(
    two_sides: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, worker = two_sides
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(web, fake) as front:
            for n in range(3):
                assert (await front.dm("help", event_id=f"EvCrash{n}"))[0] == 200
        real_delete = inbox_spool.delete

        def crash(*_args: object, **_kwargs: object) -> object:
            raise RuntimeError("killed after the main inbox committed, before the spool was emptied")

        monkeypatch.setattr(inbox_spool, "delete", crash)
        with pytest.raises(RuntimeError):
            worker.inbox.gather()
        monkeypatch.setattr(inbox_spool, "delete", real_delete)
        assert sorted(main_inbox(worker)) == ["EvCrash0", "EvCrash1", "EvCrash2"]
        assert worker.inbox.spool is not None and worker.inbox.spool.count() == 3  # still spooled too
        assert worker.inbox.gather() == 3  # gathered again: nothing added twice
        assert sorted(main_inbox(worker)) == ["EvCrash0", "EvCrash1", "EvCrash2"]
        async with SlackBot(worker, fake) as back:
            await back.work()
            assert all(back.inbox_status(f"EvCrash{n}") == "done" for n in range(3))
        assert len(fake.posts(fake.dm_channel(COORDINATOR))) == 3


async def test_events_spooled_before_a_restart_are_handled_by_a_store_that_does_not_spool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rmbot.db'}"
    web = SqlStore.open(url)
    web.inbox.spool_accepts()
    seed(web)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(web, fake) as front:
            assert (await front.dm("help", event_id="EvBeforeRestart"))[0] == 200
        web.close()
        later = SqlStore.open(url)  # e.g. `rmbot chat` or a thread worker, after `rmbot serve` stopped
        try:
            async with SlackBot(later, fake) as back:
                await back.work()
                assert back.inbox_status("EvBeforeRestart") == "done"
            assert len(fake.posts(fake.dm_channel(COORDINATOR))) == 1
        finally:
            later.close()


def test_there_is_no_spool_without_an_sqlite_file() -> None:
    memory = SqlStore.open("sqlite://")
    try:
        assert memory.inbox.spool is None
        assert not memory.inbox.spool_accepts()
    finally:
        memory.close()


def test_purging_a_tenant_deletes_its_spooled_events_and_no_one_elses(two_sides: tuple[SqlStore, SqlStore]) -> None:
    web, _worker = two_sides
    at = datetime(2027, 1, 11, 9, tzinfo=UTC)
    mine = console_event("amara@example.com", "help", None, at, "EvMine")
    theirs = mine.model_copy(update={"tenant": "elsewhere", "event_id": "EvTheirs"})
    with web.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", mine.tenant)
    assert web.inbox.accept(mine) and web.inbox.accept(theirs)
    deleted = web.purge_tenant(tenant.id)
    assert deleted["inbox_event (spool)"] == 1
    assert web.inbox.status_of("console", mine.tenant, "EvMine") is None
    assert web.inbox.status_of("console", "elsewhere", "EvTheirs") == "pending"

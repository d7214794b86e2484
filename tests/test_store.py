"""The store on SQLite and PostgreSQL: repositories, tenant isolation, inbox, outbox and schedule."""

from __future__ import annotations

import ast
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.domain import (
    NewParticipant,
    NewPerson,
    NewProgramme,
    ParticipantStatus,
    ProgrammeSettings,
    Role,
)
from bot.model import Address, InboundEvent, OutgoingMessage, Platform
from conftest import ROOT
from storage.store import SqlStore

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def event(event_id: str, tenant: str = "console", text: str = "help") -> InboundEvent:
    return InboundEvent(
        platform=Platform.CONSOLE,
        tenant=tenant,
        event_id=event_id,
        user="a@x.com",
        user_email="a@x.com",
        text=text,
        occurred_at=NOW,
    )


def message(tenant_id: int, person_id: int, key: str) -> OutgoingMessage:
    return OutgoingMessage(tenant_id=tenant_id, to=Address.person(person_id), idempotency_key=key, text="hello")


def setup_people(store: SqlStore) -> tuple[int, int, int]:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        boss = uow.people.add(NewPerson(tenant_id=tenant.id, email="boss@x.com", name="Boss", seniority=7))
        junior = uow.people.add(
            NewPerson(
                tenant_id=tenant.id,
                email="Jun@X.com",
                name="Jun",
                seniority=2,
                manager_id=boss.id,
                time_zone="Asia/Kolkata",
            )
        )
        return tenant.id, boss.id, junior.id


def test_people_programmes_and_participants_round_trip(store: SqlStore) -> None:
    tenant_id, boss_id, junior_id = setup_people(store)
    with store.unit_of_work() as uow:
        junior = uow.people.by_email(tenant_id, "jun@x.com")  # emails match regardless of case
        assert junior is not None and junior.manager_id == boss_id and junior.time_zone == "Asia/Kolkata"
        junior.title = "Analyst"
        uow.people.save(junior)
        uow.people.link_identity(junior, "slack", "U123")
        programme = uow.programmes.add(
            NewProgramme(
                tenant_id=tenant_id,
                slug="p",
                name="P",
                settings=ProgrammeSettings(seniority_gap=2, anonymity_threshold=7),
            )
        )
        uow.participants.add(NewParticipant(programme_id=programme.id, person_id=junior_id, role=Role.MENTOR))
        uow.coordinators.add(programme.id, boss_id, added_by=None)
    with store.unit_of_work() as uow:
        assert uow.people.by_identity(tenant_id, "slack", "U123").title == "Analyst"
        assert uow.people.identities(junior_id) == {"slack": "U123"}
        programme = uow.programmes.by_slug(tenant_id, "p")
        assert programme.settings.seniority_gap == 2 and programme.settings.anonymity_threshold == 7
        [participant] = uow.participants.in_programme(programme.id)
        assert participant.role == Role.MENTOR and participant.status == ParticipantStatus.INVITED
        assert uow.coordinators.is_coordinator(programme.id, boss_id)
        assert not uow.coordinators.is_coordinator(programme.id, junior_id)
        assert uow.coordinators.programmes_of(boss_id) == [programme.id]


def test_what_a_unit_of_work_saves_is_what_all_its_readers_see_and_what_it_commits(store: SqlStore) -> None:
    tenant_id, _, junior_id = setup_people(store)
    with store.unit_of_work() as uow:
        programme = uow.programmes.add(NewProgramme(tenant_id=tenant_id, slug="p", name="P"))
        uow.participants.add(NewParticipant(programme_id=programme.id, person_id=junior_id, role=Role.MENTOR))
    with store.unit_of_work() as uow:
        found = uow.participants.find(programme.id, junior_id)  # an ORM reader of the same row, loaded first
        assert found is not None and uow.participants.get(found.id) == found
        found.status, found.intake = ParticipantStatus.ACTIVE, {"topics": ["ai"], "since": "2030-01-01"}
        uow.participants.save(found)
        for seen in (uow.participants.get(found.id), uow.participants.find(programme.id, junior_id)):
            assert seen is not None and seen.status == ParticipantStatus.ACTIVE and seen.intake["topics"] == ["ai"]
        assert [p.status for p in uow.participants.in_programme(programme.id)] == [ParticipantStatus.ACTIVE]
        junior = uow.people.get(junior_id)
        assert junior is not None
        junior.title = "Analyst"
        uow.people.save(junior)
        assert uow.people.by_email(tenant_id, "jun@x.com").title == uow.people.get(junior_id).title == "Analyst"
        state = uow.conversations.load(tenant_id, junior_id)
        state.flow, state.answers = "intake", {"topics": ["ai"]}
        uow.conversations.save(state)
        again = uow.conversations.load(tenant_id, junior_id)
        again.step = "goals"
        uow.conversations.save(again)
        assert uow.conversations.load(tenant_id, junior_id).step == "goals"
        gone = found.model_copy(update={"id": found.id + 1000})
        with pytest.raises(LookupError, match="participant"):
            uow.participants.save(gone)
    with store.unit_of_work() as uow:  # committed as the readers saw it
        stored = uow.participants.find(programme.id, junior_id)
        assert stored is not None and stored.status == ParticipantStatus.ACTIVE and stored.intake == found.intake
        assert uow.people.get(junior_id).title == "Analyst"
        state = uow.conversations.load(tenant_id, junior_id)
        assert (state.flow, state.step, state.answers) == ("intake", "goals", {"topics": ["ai"]})


def test_a_failed_unit_of_work_writes_nothing(store: SqlStore) -> None:
    tenant_id, _, _ = setup_people(store)
    with pytest.raises(RuntimeError):
        with store.unit_of_work() as uow:
            uow.programmes.add(NewProgramme(tenant_id=tenant_id, slug="half", name="Half"))
            raise RuntimeError("crash mid-way")
    with store.unit_of_work() as uow:
        assert uow.programmes.by_slug(tenant_id, "half") is None


def test_tenants_are_isolated_even_with_colliding_ids(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        first = uow.tenants.ensure("slack", "T1")
        second = uow.tenants.ensure("slack", "T2")
        a = uow.people.add(NewPerson(tenant_id=first.id, email="same@x.com", name="In T1"))
        b = uow.people.add(NewPerson(tenant_id=second.id, email="same@x.com", name="In T2"))
        uow.people.link_identity(a, "slack", "U1")
        uow.people.link_identity(b, "slack", "U1")
    with store.unit_of_work() as uow:
        assert uow.people.by_email(first.id, "same@x.com").name == "In T1"
        assert uow.people.by_identity(second.id, "slack", "U1").name == "In T2"
        assert [p.name for p in uow.people.in_tenant(first.id)] == ["In T1"]


def test_duplicate_email_in_a_tenant_is_refused(store: SqlStore) -> None:
    tenant_id, _, _ = setup_people(store)
    with pytest.raises(IntegrityError):
        with store.unit_of_work() as uow:
            uow.people.add(NewPerson(tenant_id=tenant_id, email="boss@x.com", name="Twin"))


def test_inbox_accepts_an_event_once_and_hands_it_out_once(store: SqlStore) -> None:
    assert store.inbox.accept(event("e1")) is True
    assert store.inbox.accept(event("e1")) is False  # a retry of the same delivery
    assert store.inbox.accept(event("e1", tenant="other")) is True  # same id, other tenant: its own event
    assert store.inbox.pending_count() == 2
    with store.unit_of_work() as uow:
        item = store.inbox.take_next(uow)
        assert item.event.event_id == "e1" and item.event.tenant == "console"
    with store.unit_of_work() as uow:
        item = store.inbox.take_next(uow)
        assert item.event.tenant == "other"
        # Taken, then the transaction rolls back as if the process died: still pending, and taken again.
        uow.session.rollback()
    assert store.inbox.pending_count() == 1
    with store.unit_of_work() as uow:
        again = store.inbox.take_next(uow)
        assert again is not None and again.id == item.id
        assert store.inbox.take_next(uow) is None
        assert store.inbox.take(uow, item.id) is None  # already taken
    assert store.inbox.pending_count() == 0


def test_outbox_keeps_one_message_per_idempotency_key_and_never_resends_a_delivered_one(store: SqlStore) -> None:
    tenant_id, boss_id, _ = setup_people(store)
    with store.unit_of_work() as uow:
        assert uow.outbox.add(message(tenant_id, boss_id, "k1"), platform="console") is True
    with store.unit_of_work() as uow:
        assert uow.outbox.add(message(tenant_id, boss_id, "k1"), platform="console") is False
    [item] = store.outbox.claim("console", NOW + timedelta(days=1), 10)
    assert store.outbox.claim("console", NOW + timedelta(days=1), 10) == []  # leased
    store.outbox.delivered(item.id, [boss_id], NOW)
    assert store.outbox.claim("console", NOW + timedelta(days=2), 10) == []
    assert store.outbox.pending_count() == 0


def test_an_expired_send_lease_is_offered_again(store: SqlStore) -> None:
    tenant_id, boss_id, _ = setup_people(store)
    with store.unit_of_work() as uow:
        uow.outbox.add(message(tenant_id, boss_id, "k2"), platform="console")
    later = datetime.now(UTC) + timedelta(seconds=1)
    [first] = store.outbox.claim("console", later, 10)
    [again] = store.outbox.claim("console", later + timedelta(minutes=5), 10)  # the sender died mid-send
    assert again.id == first.id and again.attempts == first.attempts + 1


def test_outbox_claims_only_for_the_people_asked_for(store: SqlStore) -> None:
    tenant_id, boss_id, junior_id = setup_people(store)
    with store.unit_of_work() as uow:
        uow.outbox.add(message(tenant_id, boss_id, "to-boss"), platform="console")
        uow.outbox.add(message(tenant_id, junior_id, "to-junior"), platform="console")
    later = datetime.now(UTC) + timedelta(seconds=1)
    claimed = store.outbox.claim("console", later, 10, people={junior_id})
    assert [i.message.idempotency_key for i in claimed] == ["to-junior"]


def test_scheduled_jobs_become_inbox_events_exactly_once(store: SqlStore) -> None:
    tenant_id, _, _ = setup_people(store)
    with store.unit_of_work() as uow:
        assert uow.schedule.add(tenant_id, "invite_reminder", NOW, {"participant_id": 1}, key="r:1")
        assert not uow.schedule.add(tenant_id, "invite_reminder", NOW, {"participant_id": 1}, key="r:1")
        uow.schedule.add(tenant_id, "invite_reminder", NOW + timedelta(days=1), {}, key="r:2")
    assert store.schedule.next_due() == NOW
    assert store.schedule.enqueue_due(NOW - timedelta(seconds=1)) == 0
    assert store.schedule.enqueue_due(NOW) == 1
    assert store.schedule.enqueue_due(NOW) == 0
    assert store.schedule.next_due() == NOW + timedelta(days=1)
    with store.unit_of_work() as uow:
        item = store.inbox.take_next(uow)
        assert item.event.kind == "due" and item.event.event_id.startswith("due:")
        assert item.event.due["payload"] == {"participant_id": 1}
    with store.unit_of_work() as uow:
        assert uow.schedule.cancel("r:") == 1  # only the one still scheduled


def test_concurrent_enqueue_of_due_jobs_never_doubles(store: SqlStore) -> None:
    tenant_id, _, _ = setup_people(store)
    with store.unit_of_work() as uow:
        for n in range(40):
            uow.schedule.add(tenant_id, "invite_reminder", NOW, {"n": n}, key=f"c:{n}")
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda: counts.append(store.schedule.enqueue_due(NOW, limit=7))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 40
    assert store.inbox.pending_count() == 40


FORBIDDEN = (
    "slack_bolt",
    "slack_sdk",
    "microsoft_agents",
    "sqlmodel",
    "sqlalchemy",
    "apscheduler",
    "aiohttp",
    "storage",
    "adapters",
    "typer",
    "rich",
    "prometheus_client",
)


def test_bot_imports_no_platform_sdk_orm_or_scheduler() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            )
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


@pytest.mark.real_migrations
@pytest.mark.parametrize("on", ["sqlite", "postgresql"])
def test_migrations_match_the_tables(on: str, sqlite_url: str, request: pytest.FixtureRequest) -> None:
    """Alembic sees no difference between the migrated schema and the SQLModel tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    if on == "sqlite":
        store = SqlStore.open(sqlite_url)
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        store = SqlStore.open(url, schema=schema)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    store.close()
    assert differences == []


def test_sample_file_exists() -> None:
    assert (Path(ROOT) / "prompts" / "sample" / "organisation.csv").exists()


def test_a_connection_that_breaks_while_held_for_a_batch_is_replaced_at_its_next_use(store: SqlStore) -> None:
    """A worker keeps one connection while it drains the inbox; when the database ends it (a restart, an idle
    timeout), the unit of work using it fails, and the next one gets a new connection rather than the dead one."""
    if store.dialect != "postgresql":
        pytest.skip("a PostgreSQL server ends a connection; a SQLite file has none to end")
    setup_people(store)
    with store.one_connection():
        with store.unit_of_work() as uow:
            backend = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with store.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(DBAPIError), store.unit_of_work() as uow:
            uow.session.execute(text("SELECT 1"))
        with store.unit_of_work() as uow:
            assert uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend
            assert uow.people.in_tenant(uow.tenants.ensure("console", "console").id)

"""Directory sync from Microsoft Entra ID (`rmbot directory sync microsoft`, RMBOT_DIRECTORY_SYNC): against a local
fake of Microsoft Graph (tests/fake_entra.py) with its paging, delta queries, throttling and errors, what an
operator sees and what lands in the directory."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from adapters.directory_sync import microsoft
from adapters.directory_sync.run import sync_directory
from adapters.server import Worker, build_app
from adapters.settings import Settings
from adapters.teams.tokens import ClientCredentials
from bot.directory import LEFT_JOB, parse_rows
from bot.runtime import Runtime
from bot.seniority import seniority_map
from chat import Chat
from cli_runner import Ran, run_cli
from database_dump import search
from fake_entra import FakeEntra, user
from fake_teams import LOGIN_URL
from storage.store import SqlStore
from storage.tables import PersonRow, ScheduledJobRow

MAPPING = """\
titles:
  - {pattern: "chief|ceo", level: 6}
  - {pattern: "director", level: 4}
  - {pattern: "senior|lead", level: 3}
  - {pattern: "engineer", level: 2}
grade:
  attribute: employeeType
  levels: {G9: 9}
"""


def org() -> list[dict[str, object]]:
    """A CEO, a director under her, two engineers under him, and a graded expert under the CEO."""
    return [
        user(1, title="Chief Executive Officer"),
        user(2, manager=1, title="Director of Engineering"),
        user(3, manager=2, title="Software Engineer"),
        user(4, manager=2, title="Software Engineer", usageLocation="US"),
        user(5, manager=1, title="Fellow", employeeType="G9"),
    ]


def uid(number: int) -> str:
    return f"00000000-0000-0000-0000-{number:012d}"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra(users=org(), page_size=2) as fake:
        monkeypatch.setattr(
            microsoft, "ClientCredentials", functools.partial(ClientCredentials, http_client=fake.login_client())
        )
        yield fake


def environment(fake: FakeEntra, tmp_path: Path, mapping: str = MAPPING) -> dict[str, str | None]:
    (tmp_path / "seniority.yml").write_text(mapping, encoding="utf-8")
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}",
        "RMBOT_GRAPH_TENANT_ID": "contoso",
        "RMBOT_GRAPH_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "RMBOT_GRAPH_CLIENT_SECRET": "s3cret-value",
        "RMBOT_GRAPH_URL": fake.url,
        "RMBOT_GRAPH_LOGIN_URL": LOGIN_URL,
        "RMBOT_SENIORITY_MAP": str(tmp_path / "seniority.yml"),
        "RMBOT_DIRECTORY_SYNC": None,
    }


def sync(env: dict[str, str | None], *more: str) -> Ran:
    return run_cli("directory", "sync", "microsoft", "--tenant", "console", *more, env=env)


def directory(tmp_path: Path) -> dict[str, PersonRow]:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'sync.db'}")
    try:
        with store.unit_of_work() as uow:
            rows = uow.session.execute(select(PersonRow)).scalars().all()
            return {row.email: row for row in rows if row.email}
    finally:
        store.close()


def manager_of(people: dict[str, PersonRow], email: str) -> str | None:
    by_id = {row.id: email for email, row in people.items()}
    manager_id = people[email].manager_id
    return by_id[manager_id] if manager_id is not None else None


def test_a_first_sync_imports_everyone_with_their_managers_titles_and_time_zones(
    entra: FakeEntra, tmp_path: Path
) -> None:
    ran = sync(environment(entra, tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert "Synced 5 people from microsoft into console (full listing): 5 added, 0 changed" in ran.stdout
    assert "added: person3@contoso.example" in ran.stdout
    people = directory(tmp_path)
    assert manager_of(people, "person1@contoso.example") is None
    assert manager_of(people, "person3@contoso.example") == "person2@contoso.example"
    assert manager_of(people, "person5@contoso.example") == "person1@contoso.example"
    engineer = people["person3@contoso.example"]
    assert (engineer.title, engineer.department, engineer.division, engineer.location) == (
        "Software Engineer",
        "Engineering",
        "Product",
        "London",
    )
    assert (engineer.time_zone, engineer.working_hours) == ("Europe/London", "08:30-16:30")  # from the mailbox
    levels = {email.split("@")[0]: row.seniority for email, row in people.items()}
    assert levels == {"person1": 6, "person2": 4, "person3": 2, "person4": 2, "person5": 9}
    assert entra.statuses("/v1.0/users?") == [200, 200, 200]  # three pages of two, through @odata.nextLink


def test_a_second_sync_reads_only_the_changes_and_a_leaver_is_handled_as_the_csv_import_does(
    entra: FakeEntra, tmp_path: Path
) -> None:
    env = environment(entra, tmp_path)
    assert sync(env).returncode == 0
    entra.change(uid(4), jobTitle="Senior Software Engineer", manager_id=uid(1))
    entra.remove(uid(3))
    ran = sync(env)
    assert ran.returncode == 0, ran.stderr
    assert "(delta): 0 added, 1 changed, 3 unchanged, 1 left." in ran.stdout
    assert "changed: person4@contoso.example" in ran.stdout and "left: person3@contoso.example" in ran.stdout
    assert len(entra.statuses("/v1.0/users?")) == 3  # the second sync listed nobody in full
    assert entra.statuses("/v1.0/users/delta?") == [200, 200]  # the first sync's link, then the changes
    people = directory(tmp_path)
    moved = people["person4@contoso.example"]
    assert (moved.title, moved.seniority) == ("Senior Software Engineer", 3)
    assert manager_of(people, "person4@contoso.example") == "person1@contoso.example"
    assert people["person3@contoso.example"].left_at is not None
    assert people["person2@contoso.example"].left_at is None
    store = SqlStore.open(f"sqlite:///{tmp_path / 'sync.db'}")
    try:
        with store.unit_of_work() as uow:
            jobs = uow.session.execute(select(ScheduledJobRow).where(ScheduledJobRow.kind == LEFT_JOB)).scalars()
            assert [job.payload["person_id"] for job in jobs] == [people["person3@contoso.example"].id]
    finally:
        store.close()
    again = sync(env)  # nothing changed since: nothing to do
    assert "0 added, 0 changed, 4 unchanged, 0 left." in again.stdout


def test_one_person_who_cannot_be_imported_aborts_the_whole_sync_and_is_named(entra: FakeEntra, tmp_path: Path) -> None:
    entra.users.append(user(6, manager=1, title="Barista"))
    entra.by_id[uid(6)] = entra.users[-1]
    entra.mailboxes[uid(6)] = entra.mailboxes[uid(1)]
    env = environment(entra, tmp_path)
    ran = sync(env)
    assert ran.returncode == 1
    assert "person6@contoso.example: seniority is empty and cannot be derived: title 'Barista'" in ran.stderr
    assert "1 problem in what microsoft listed; nothing was changed." in ran.stderr
    assert directory(tmp_path) == {}
    fixed = sync(environment(entra, tmp_path, MAPPING + "default: 1\n"))
    assert fixed.returncode == 0, fixed.stderr
    assert directory(tmp_path)["person6@contoso.example"].seniority == 1


def test_throttled_requests_are_retried_after_the_wait_graph_asks_for(entra: FakeEntra, tmp_path: Path) -> None:
    entra.throttle(times=2, retry_after=1)
    started = time.monotonic()
    ran = sync(environment(entra, tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert time.monotonic() - started >= 2  # Retry-After: 1, twice
    assert [status for _m, _p, status in entra.requests][:3] == [429, 429, 200]
    assert len(directory(tmp_path)) == 5


def test_an_expired_delta_token_falls_back_to_a_full_listing(entra: FakeEntra, tmp_path: Path) -> None:
    env = environment(entra, tmp_path)
    assert sync(env).returncode == 0
    entra.expire_tokens()
    entra.change(uid(2), department="Platform")
    ran = sync(env)
    assert ran.returncode == 0, ran.stderr
    assert "The saved delta token had expired; microsoft was read in full instead." in ran.stderr
    assert "(full listing): 0 added, 1 changed" in ran.stdout
    assert 410 in entra.statuses("/v1.0/users/delta?")
    assert directory(tmp_path)["person2@contoso.example"].department == "Platform"


def test_without_the_mailbox_permission_time_zones_come_from_the_usage_location_and_the_operator_is_told(
    entra: FakeEntra, tmp_path: Path
) -> None:
    entra.granted_mailboxes = False
    ran = sync(environment(entra, tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert "did not allow reading mailbox settings (403 ErrorAccessDenied); grant `MailboxSettings.Read`" in ran.stderr
    people = directory(tmp_path)
    assert people["person3@contoso.example"].time_zone == "Europe/London"  # GB has one time zone
    assert people["person4@contoso.example"].time_zone == "UTC"  # the US has many: the default


def test_without_user_read_all_the_sync_says_which_permission_and_changes_nothing(
    entra: FakeEntra, tmp_path: Path
) -> None:
    entra.granted_users = False
    ran = sync(environment(entra, tmp_path))
    assert ran.returncode == 1
    assert "`User.Read.All` application permission" in ran.stderr
    assert directory(tmp_path) == {}


def test_a_dry_run_shows_the_changes_and_writes_nothing(entra: FakeEntra, tmp_path: Path) -> None:
    ran = sync(environment(entra, tmp_path), "--dry-run")
    assert ran.returncode == 0, ran.stderr
    assert "Dry run: would sync 5 people" in ran.stdout
    assert directory(tmp_path) == {}


def test_the_scheduled_sync_runs_on_the_leaders_tick_once_per_period_and_counts_on_metrics(
    entra: FakeEntra, tmp_path: Path
) -> None:
    env = {name: value for name, value in environment(entra, tmp_path).items() if value is not None}
    settings = Settings(**{name.lower(): value for name, value in env.items()}, rmbot_directory_sync="microsoft@daily")
    store = SqlStore.open(env["DATABASE_URL"])
    try:
        worker = Worker(Runtime(store), settings)
        assert worker.directory_sync is not None
        worker.enqueue_due()  # what the scheduler leader's tick runs (adapters/scheduling.py)
        worker.directory_sync.join()
        worker.enqueue_due()  # the next tick: not due again until tomorrow
        worker.directory_sync.join()
        assert entra.statuses("/v1.0/users?") == [200, 200, 200]

        async def scrape() -> str:
            async with TestClient(TestServer(build_app(store))) as client:
                return await (await client.get("/metrics")).text()

        metrics = asyncio.run(scrape())
    finally:
        store.close()
    assert 'rmbot_directory_sync_people_total{change="added",source="microsoft"} 5.0' in metrics
    assert 'rmbot_directory_sync_people_total{change="left",source="microsoft"} 0.0' in metrics
    assert len(directory(tmp_path)) == 5


def test_a_bad_schedule_stops_start_up_with_one_line(tmp_path: Path) -> None:
    ran = run_cli(
        "scheduler",
        "run-due",
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "RMBOT_DIRECTORY_SYNC": "entra@daily"},
    )
    assert ran.returncode == 2
    assert "RMBOT_DIRECTORY_SYNC 'entra@daily' is not SOURCE@daily, SOURCE@hourly or SOURCE@weekly" in ran.stderr


def test_the_seniority_mapping_derives_levels_and_a_rows_own_seniority_wins() -> None:
    mapping = seniority_map(
        {"titles": [{"pattern": "director", "level": 4}], "grade": {"attribute": "grade", "levels": {"G7": 7}}}
    )
    rows = [
        {"email": "a@x.example", "name": "A", "title": "Director of Sales"},
        {"email": "b@x.example", "name": "B", "title": "Director", "seniority": "2"},  # a CSV-like value wins
        {"email": "c@x.example", "name": "C", "title": "Director", "grade": "G7"},  # the grade before the title
    ]
    parsed = parse_rows(rows, {}, mapping, "test")
    assert parsed.errors == []
    assert [row.seniority for row in parsed.rows] == [4, 2, 7]
    unmapped = parse_rows([{"email": "d@x.example", "name": "D", "title": "Intern"}], {}, None, "microsoft")
    assert "microsoft has no seniority, so set RMBOT_SENIORITY_MAP" in unmapped.errors[0].reason


def test_forget_me_also_removes_what_the_sync_kept_and_the_next_sync_does_not_bring_it_back(
    entra: FakeEntra, sqlite_store: SqlStore
) -> None:
    settings = Settings(
        database_url="sqlite://",
        rmbot_graph_tenant_id="contoso",
        rmbot_graph_client_id="11111111-2222-3333-4444-555555555555",
        rmbot_graph_client_secret="s3cret-value",
        rmbot_graph_url=entra.url,
        rmbot_graph_login_url=LOGIN_URL,
    )
    mapping = seniority_map({"default": 3})
    chat = Chat(sqlite_store)
    with sqlite_store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
    first = sync_directory(
        sqlite_store, tenant, microsoft.microsoft_source(settings), chat.clock.now(), mapping=mapping
    )
    assert first.ok, first
    kept = {hit.table for hit in search(sqlite_store.engine, ["person4@contoso.example"])}
    assert kept == {"person", "directory_source_person"}  # the directory, and what the sync read
    chat.send("person4@contoso.example", "forget-me")
    chat.press("person4@contoso.example", "Yes, delete my data")
    chat.advance(timedelta(hours=2))
    assert search(sqlite_store.engine, ["person4@contoso.example", "Person 4"]) == []
    entra.change(uid(2), jobTitle="Director")  # a delta that does not touch the forgotten person
    again = sync_directory(
        sqlite_store, tenant, microsoft.microsoft_source(settings), chat.clock.now(), mapping=mapping
    )
    assert again.ok and again.delta and again.summary is not None
    assert (again.summary.created, again.summary.left) == (0, 0)
    assert search(sqlite_store.engine, ["person4@contoso.example", "Person 4"]) == []


def test_a_disabled_manager_leaves_and_their_reports_stay_without_a_manager(entra: FakeEntra, tmp_path: Path) -> None:
    env = environment(entra, tmp_path)
    assert sync(env).returncode == 0
    entra.change(uid(2), accountEnabled=False)
    ran = sync(env)
    assert ran.returncode == 0, ran.stderr
    assert "left: person2@contoso.example" in ran.stdout
    assert "2 people have managers whom microsoft does not list as an enabled member" in ran.stderr
    people = directory(tmp_path)
    assert people["person2@contoso.example"].left_at is not None
    assert manager_of(people, "person3@contoso.example") is None

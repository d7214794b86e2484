"""``rmbot tenant purge``: everything of one tenant goes, nothing of another changes.

Each test fills one database with two tenants through the real paths (a console programme run to confirmed
sessions; a Slack workspace answered over signed HTTP, with its install and its uninstall), and a reference
database with only the tenant that must survive. After the purge, the first holds exactly as many rows per
table as the reference, and every row left was there, unchanged, before.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Engine

from bot.clock import OffsetClock
from bot.grants import grant
from chat import Chat
from cli_runner import run_cli
from database_dump import dump
from fake_slack import FakeSlack
from storage.store import SqlStore
from test_sessions import COORD, confirm_first, pair_up
from test_slack_harness import COORDINATOR, MENTEE, SlackBot, fake_users, seed

WORKSPACE = "T222"
CLIENT = "111.222"


def console_term(store: SqlStore) -> None:
    """The console tenant with a programme, a published pair and a confirmed series of sessions."""
    chat = Chat(store, OffsetClock(start=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-03-02", "2030-05-31")
    pair_up(chat)
    confirm_first(chat)
    chat.send(COORD, "status")


async def slack_workspace(store: SqlStore, team: str = WORKSPACE) -> None:
    """A Slack workspace: its people and programme, what they wrote and were answered, its install (since removed)
    and a coordinator grant waiting for an email."""
    seed(store, team)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            for text, user in (("help", COORDINATOR), ("program list", COORDINATOR), ("join", MENTEE)):
                body = bot.dm_body(text, user, team=team)
                assert (await bot.event(body))[0] == 200
            await bot.work()
    installation = {"app_id": "A1", "team_id": team, "team_name": "Research", "user_id": COORDINATOR}
    store.slack.save_installation(CLIENT, {**installation, "bot_token": "xoxb-research"}, {**installation})
    assert store.slack.mark_uninstalled(CLIENT, team, "app_uninstalled", datetime.now(UTC))
    with store.unit_of_work() as uow:
        grant(uow, "later@research.example", f"slack:{team}", source="cli")


def open_store(path: Path) -> tuple[SqlStore, str]:
    url = f"sqlite:///{path}"
    return SqlStore.open(url), url


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table (Alembic's own aside)."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
            if name != "alembic_version"
        }


def rows(engine: Engine) -> set[tuple[str, tuple[str, ...]]]:
    """Every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    found: set[tuple[str, tuple[str, ...]]] = set()
    with engine.connect() as connection:
        for name, table in metadata.tables.items():
            found |= {(name, tuple(map(str, row))) for row in connection.execute(select(table))}
    return found


def purge(url: str, tenant: str, *extra: str, stdin: str = "") -> tuple[int, str, str]:
    ran = run_cli("tenant", "purge", tenant, *extra, env={"DATABASE_URL": url}, stdin=stdin)
    return ran.returncode, ran.stdout, ran.stderr


async def test_purging_a_slack_workspace_deletes_all_of_it_and_nothing_of_the_console_tenant(tmp_path: Path) -> None:
    store, url = open_store(tmp_path / "both.db")
    reference, _ = open_store(tmp_path / "console.db")
    console_term(store)
    await slack_workspace(store)
    console_term(reference)
    before = rows(store.engine)

    code, out, err = purge(url, f"slack:{WORKSPACE}", "--yes")

    assert code == 0, err
    assert f"Deleted slack:{WORKSPACE}" in out and "person 3" in out
    assert rows(store.engine) <= before  # nothing of the other tenant changed
    assert counts(store.engine) == counts(reference.engine)  # and nothing of it went
    # the workspace's id as a word: a calendar stamp of 22:2x UTC ("20261207T222345Z") holds its letters too
    named = re.compile(rf"\b{WORKSPACE}\b|research\.example")
    assert not [hit for hit in dump(store.engine) if named.search(hit[2])]
    assert store.slack.uninstalled() == {}
    store.close()
    reference.close()


async def test_purging_the_console_tenant_deletes_its_whole_programme_and_leaves_the_workspace(
    tmp_path: Path,
) -> None:
    store, url = open_store(tmp_path / "both.db")
    reference, _ = open_store(tmp_path / "slack.db")
    console_term(store)
    await slack_workspace(store)
    await slack_workspace(reference)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        assert tenant is not None and uow.sessions.of_programme(uow.programmes.in_tenant(tenant.id)[0].id)
    before = rows(store.engine)

    code, out, err = purge(url, "console", "--yes")

    assert code == 0, err
    assert "session" in out and "match_pair 1" in out
    assert rows(store.engine) <= before
    assert counts(store.engine) == counts(reference.engine)
    assert store.slack.uninstalled().keys() == {WORKSPACE}
    store.close()
    reference.close()


async def test_an_unknown_tenant_is_refused_and_a_declined_confirmation_deletes_nothing(tmp_path: Path) -> None:
    store, url = open_store(tmp_path / "one.db")
    await slack_workspace(store)
    before = rows(store.engine)

    code, out, err = purge(url, "slack:T404", "--yes")
    assert code == 1 and "There is no tenant slack:T404" in err and "nothing was deleted" in err
    code, _, err = purge(url, "slack", "--yes")
    assert code == 2 and "is not a tenant" in err
    code, out, _ = purge(url, f"slack:{WORKSPACE}", stdin="n\n")
    assert code == 1 and "3 people, 1 programmes" in out and "Nothing was deleted." in out
    assert rows(store.engine) == before  # nothing deleted, no tenant created

    code, out, _ = purge(url, f"slack:{WORKSPACE}", stdin="y\n")
    assert code == 0 and f"Deleted slack:{WORKSPACE}" in out
    assert {name: n for name, n in counts(store.engine).items() if n} == {}  # the only tenant: nothing left
    store.close()

"""What ``forget-me`` removes outside the message tables: Teams download links to the person's files stop
working and the Teams adapter's records of their accounts and chats go; the Slack adapter's kept DM channels
with them go; the console deletes the files it saved for them."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

import test_slack_harness as slack
from adapters.console.session import ConsoleSession
from bot.model import Address, OutgoingMessage
from chat import Chat
from cli_runner import run_cli
from database_dump import search
from fake_slack import FakeSlack
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_sessions import COORD, pair_up
from test_sessions import MENTEE as MENTEE_EMAIL
from test_teams_harness import COORDINATOR, MENTEE, TeamsBot, buttons, card_text, seed, walk

PUBLIC = "https://mentoring.example.com"


def download_path(card: dict[str, Any]) -> str:
    [link] = [e["url"] for e in walk(card) if e.get("type") == "Action.OpenUrl"]
    return str(link).removeprefix(PUBLIC)


async def test_teams_links_to_their_files_stop_working_and_nothing_of_them_stays(store: SqlStore) -> None:
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake, rmbot_public_url=PUBLIC) as bot:
            await bot.install(COORDINATOR, MENTEE)
            await bot.say(COORDINATOR, f"invite {MENTEE.email} as mentee")
            await bot.say(MENTEE, "qzteamsstray71 hello")
            await bot.say(MENTEE, "my-data")
            await bot.work()
            # the my-data answer is a reply: it may arrive before the invitation, which is bulk
            path = download_path(next(c for c in reversed(bot.cards_for(MENTEE)) if "Action.OpenUrl" in str(c)))
            async with bot.client.get(path) as response:
                assert response.status == 200 and MENTEE.email.encode() in await response.read()

            await bot.say(MENTEE, "forget-me")
            await bot.work()
            confirm = buttons(bot.cards_for(MENTEE)[-1])["Yes, delete my data"]
            assert (await bot.post(bot.submit(MENTEE, confirm)))[0] == 200
            await bot.work()
            assert "personal data is deleted" in card_text(bot.cards_for(MENTEE)[-1])  # the farewell still arrives
            async with bot.client.get(path) as response:
                assert response.status in (404, 410)  # revoked, though it was signed for 7 days

            await asyncio.to_thread(bot.runtime.run_due, datetime.now(UTC) + timedelta(hours=2))
            await bot.work()
            needles = [MENTEE.aad, MENTEE.account, MENTEE.chat, MENTEE.name, MENTEE.email, "qzteamsstray71"]
            assert search(store.engine, needles) == []
            async with bot.client.get(path) as response:
                assert response.status in (404, 410)


def test_the_console_deletes_the_files_it_saved_for_someone_forgotten(tmp_path: Path) -> None:
    files = tmp_path / "files"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(files)}
    script = ["/as gabriela.santos@example.com", "my-data", "forget-me", "1", ""]
    ran = run_cli("chat", "--as", "amara.okafor@example.com", stdin="\n".join(script), env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "personal data is deleted" in ran.stdout
    assert "my-data.json" in ran.stdout  # it was saved...
    assert not list(files.rglob("my-data.json"))  # ...and is gone
    assert (files / "gabriela.santos@example.com").exists() is False


def test_the_console_drops_the_files_of_people_purged_after_their_programme_closed(chat: Chat, tmp_path: Path) -> None:
    pair_up(chat)
    chat.person(MENTEE_EMAIL)  # known to the harness by id, for after the purge
    output = io.StringIO()
    console = ConsoleSession(chat.runtime, chat.clock, Console(file=output, width=200), tmp_path / "files")
    console.switch(MENTEE_EMAIL)
    console.handle_line("my-data")
    assert list((tmp_path / "files").rglob("my-data.json"))
    console.switch(COORD)
    console.handle_line("my-data")
    chat.send(COORD, "program edit retention-days 1")
    chat.send(COORD, "program close")
    console.handle_line("/advance 2d")  # the retention period ends: the participants' personal data is purged
    assert chat.person(MENTEE_EMAIL).email is None
    assert [p.parent.name for p in (tmp_path / "files").rglob("my-data.json")] == [COORD]  # the coordinator's stay


async def test_slack_dm_channels_kept_with_them_are_removed(store: SqlStore) -> None:
    """Their DM and their pair's group DM were kept (so no restart opens them again); after forget-me neither
    is, nor anything else naming their Slack account, while the coordinator's DM stays kept."""
    slack.seed(store)
    with FakeSlack(users=slack.fake_users()) as fake:
        async with slack.SlackBot(store, fake) as bot:
            with store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", slack.TEAM)
                assert tenant is not None and tenant.id is not None
                mentor, mentee = (uow.people.by_identity(tenant.id, "slack", u) for u in (slack.MENTOR, slack.MENTEE))
                assert mentor is not None and mentor.id is not None and mentee is not None and mentee.id is not None
                intro = OutgoingMessage(
                    tenant_id=tenant.id, to=Address.pair(mentor.id, mentee.id), idempotency_key="intro", text="Meet!"
                )
                uow.outbox.add(intro, platform="slack")
            await bot.dm("help", slack.MENTEE)
            await bot.dm("help", slack.COORDINATOR)
            await bot.work()
            channels = {fake.dm_channel(slack.MENTEE), fake.dm_channel(slack.MENTOR, slack.MENTEE)}
            assert set(store.slack.dm_channels(tenant.id).values()) >= channels | {fake.dm_channel(slack.COORDINATOR)}

            await bot.dm("forget-me", slack.MENTEE)
            await bot.work()
            confirm = slack.buttons(fake.posts(fake.dm_channel(slack.MENTEE))[-1]["blocks"])["Yes, delete my data"]
            await bot.press(slack.MENTEE, *confirm)
            await bot.work()
            assert "personal data is deleted" in fake.posts(fake.dm_channel(slack.MENTEE))[-1]["text"]
            await asyncio.to_thread(bot.runtime.run_due, datetime.now(UTC) + timedelta(hours=2))
            await bot.work()

            assert store.slack.dm_channels(tenant.id) == {
                frozenset({slack.COORDINATOR}): fake.dm_channel(slack.COORDINATOR)
            }
            assert search(store.engine, [slack.MENTEE, *channels]) == []

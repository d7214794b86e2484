"""Proactive delivery through the outbox: stored references, restarts, people without the app, throttling,
ambiguous sends, channels and files. Connector calls go to the fake; nothing here imports the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import Session, select

from adapters.teams.connector import Connector
from adapters.teams.delivery import TeamsDeliverer
from adapters.teams.links import Links
from adapters.teams.pacing import Pacer
from adapters.teams.package import unconfirmed_report
from bot.runtime import Runtime
from conftest import ROOT
from fake_teams import FakeTeams
from storage import teams_references as refs
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_teams_harness import (
    BOT,
    CHANNEL,
    COORDINATOR,
    MENTEE,
    MENTOR,
    NEWCOMER,
    TEAM,
    TENANT,
    TeamsBot,
    buttons,
    card_text,
    person_id,
    seed,
)


def deliverer(store: SqlStore, timeout: float = 5.0, **kwargs: Any) -> TeamsDeliverer:
    return TeamsDeliverer(
        store, Connector(timeout=timeout), pacer=Pacer(1000.0), jitter=lambda low, high: 0.0, **kwargs
    )


def outbox_rows(store: SqlStore) -> list[OutboxMessageRow]:
    with Session(store.engine) as session:
        return list(
            session.execute(
                select(OutboxMessageRow).where(OutboxMessageRow.platform == "teams").order_by(OutboxMessageRow.id)
            ).scalars()
        )


def make_due(store: SqlStore) -> None:
    with Session(store.engine) as session, session.begin():
        session.execute(update(OutboxMessageRow).values(not_before=datetime.now(UTC) - timedelta(seconds=1)))


# -- references survive restarts ------------------------------------------------------------------------------


def test_a_new_process_sends_with_the_stored_reference(sqlite_store: SqlStore, tmp_path: Any) -> None:
    """One app stores the references and handles an invitation but sends nothing; a new process,
    `rmbot scheduler run-due` (as cron runs it), sends everything with what the database kept."""
    import asyncio

    seed(sqlite_store)
    with FakeTeams() as fake:

        async def first_life() -> None:
            async with TeamsBot(sqlite_store, fake) as bot:
                await bot.install(COORDINATOR, MENTOR)
                await bot.say(COORDINATOR, "invite arjun@example.com as mentor")
                await asyncio.to_thread(bot.runtime.process_pending)  # handled, then the process "stops"

        asyncio.run(first_life())
        assert not fake.activities()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": str(sqlite_store.engine.url),
            "TEAMS_ENABLED": "true",
            "MICROSOFT_APP_ID": "",
            "SLACK_BOT_TOKEN": "",
            "SLACK_APP_TOKEN": "",
            "SLACK_CLIENT_ID": "",
        }
        result = subprocess.run(
            [sys.executable, "-m", "adapters.cli", "scheduler", "run-due"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "4 message(s) sent" in result.stdout
        invitation = fake.cards(MENTOR.chat)[-1]
        assert len(fake.cards(MENTOR.chat)) == 2 and "Digital 2030" in card_text(invitation)
        assert len(fake.cards(COORDINATOR.chat)) == 2


async def test_references_survive_a_new_store_and_app(store: SqlStore) -> None:
    """The same, in process, on both databases: the second app and deliverer know only what the DB kept."""
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            await bot.install(COORDINATOR, MENTOR)
        url = store.engine.url.render_as_string(hide_password=False)
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as connection:  # the store's own schema (set by search_path)
                reopened = SqlStore.open(url, schema=connection.execute(text("SELECT current_schema()")).scalar())
        else:
            reopened = SqlStore.open(url)
        try:
            async with TeamsBot(reopened, fake) as again:
                await again.say(COORDINATOR, "invite arjun@example.com as mentor")
                await again.work()
                assert any("Digital 2030" in card_text(c) for c in again.cards_for(MENTOR))
        finally:
            reopened.close()


# -- people without the app ----------------------------------------------------------------------------------


async def test_someone_without_the_app_is_waited_for_and_coordinators_are_told_once(store: SqlStore) -> None:
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            await bot.work()
            assert not fake.activities(NEWCOMER.chat)

            def notes() -> list[dict[str, Any]]:
                return [
                    c
                    for c in bot.cards_for(COORDINATOR)
                    if "Kavya Reddy" in card_text(c) and "installed" in card_text(c)
                ]

            assert len(notes()) == 1
            [held] = [r for r in outbox_rows(store) if person_id(store, NEWCOMER) in r.pending]
            assert held.status == "pending" and held.held_for_install
            assert held.not_before > datetime.now(UTC) + timedelta(minutes=10)
            make_due(store)
            await bot.work()
            assert len(notes()) == 1
            await bot.install(NEWCOMER)  # she installs: what waited for her is due at once
            await bot.work()
            assert any("Digital 2030" in card_text(c) for c in bot.cards_for(NEWCOMER))


async def test_a_chat_is_created_for_an_account_seen_in_a_team(sqlite_store: SqlStore) -> None:
    """Daniel never opened the app, but he is in a team where it is installed: a chat is opened for him."""
    seed(sqlite_store)
    with FakeTeams(allow_create={MENTEE.account}) as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            roster = bot.channel(COORDINATOR, "")
            roster.update(
                type="conversationUpdate",
                text=None,
                entities=[],
                membersAdded=[{"id": BOT}, {"id": MENTEE.account, "aadObjectId": MENTEE.aad}],
            )
            assert (await bot.post(roster))[0] == 200
            await bot.say(COORDINATOR, "invite daniel@example.com as mentee")
            await bot.work()
            [created] = [p for p in fake.posts if p.path == "conversations"]
            assert created.body["members"] == [{"id": MENTEE.account}] and created.body["tenantId"] == TENANT
            assert any("Digital 2030" in card_text(c) for c in fake.cards(f"a:created-{MENTEE.account}"))


# -- throttling and failures ---------------------------------------------------------------------------------


async def test_429_then_success_is_delivered_exactly_once(store: SqlStore) -> None:
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            bot.worker.deliverers = [deliverer(store)]
            fake.answer(429, retry_after=0)
            await bot.say(COORDINATOR, "program list")
            await bot.work()
            assert [p.status for p in fake.attempts()] == [429, 201]
            assert len(fake.activities(COORDINATOR.chat)) == 1
            assert all(r.status == "sent" for r in outbox_rows(store))


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_other_transient_answers_are_retried_with_backoff(sqlite_store: SqlStore, status: int) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            slept: list[float] = []
            bot.worker.deliverers = [deliverer(sqlite_store, sleep=slept.append)]
            fake.answer(status, times=2)
            await bot.say(COORDINATOR, "program list")
            await bot.work()
            assert [p.status for p in fake.attempts()] == [status, status, 201]
            assert len(fake.activities(COORDINATOR.chat)) == 1 and len(slept) >= 2


async def test_a_long_retry_after_goes_back_to_the_outbox(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            slept: list[float] = []
            bot.worker.deliverers = [deliverer(sqlite_store, sleep=slept.append)]
            fake.answer(429, retry_after=30)
            await bot.say(COORDINATOR, "program list")
            await bot.work()
            [row] = outbox_rows(sqlite_store)
            assert row.status == "pending" and row.not_before > datetime.now(UTC) + timedelta(seconds=25)
            assert "429" in row.last_error and not slept and not fake.activities()
            make_due(sqlite_store)
            bot.worker.deliverers = [deliverer(sqlite_store, sleep=slept.append)]  # (a fresh pacer: time passed)
            await bot.work()
            assert len(fake.activities(COORDINATOR.chat)) == 1 and outbox_rows(sqlite_store)[0].status == "sent"


async def test_an_ambiguous_send_is_marked_for_reconciliation_not_resent(store: SqlStore) -> None:
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            bot.worker.deliverers = [deliverer(store, timeout=0.3)]
            fake.answer_late(1.0)  # Teams takes the message but answers after our timeout
            await bot.say(COORDINATOR, "program list")
            await bot.work()
            assert len(fake.activities(COORDINATOR.chat)) == 1
            [row] = outbox_rows(store)
            assert row.status == "sent" and row.pending == [] and row.last_error == "undeliverable"
            [unknown] = refs.unconfirmed(store.engine)
            assert unknown.state == refs.UNKNOWN and "no answer after sending" in unknown.error
            assert f"outbox {row.id}" in unconfirmed_report(store)
            make_due(store)
            await bot.work()
            assert len(fake.attempts()) == 1


async def test_a_send_interrupted_by_a_crash_is_not_repeated(sqlite_store: SqlStore) -> None:
    """The process dies after handing the activity to Teams: when the lease runs out, it is not posted again."""
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.say(COORDINATOR, "program list")
            await asyncio_to_thread(bot.runtime.process_pending)

            class Killed(BaseException):
                pass

            class DiesAfterPosting(Connector):
                def post_activity(self, *args: Any) -> Any:
                    super().post_activity(*args)
                    raise Killed()

            with pytest.raises(Killed):
                await asyncio_to_thread(
                    Runtime(sqlite_store).send_pending,
                    TeamsDeliverer(sqlite_store, DiesAfterPosting(), pacer=Pacer(1000.0)),
                )
            assert len(fake.activities()) == 1
            make_due(sqlite_store)  # the send lease ran out
            await asyncio_to_thread(Runtime(sqlite_store).send_pending, deliverer(sqlite_store))
            assert len(fake.attempts()) == 1
            assert [r.state for r in refs.unconfirmed(sqlite_store.engine)] == [refs.UNKNOWN]


async def test_a_conversation_full_of_messages_keeps_to_teams_limits(sqlite_store: SqlStore) -> None:
    """Twelve messages to one chat at once: paced to 7 a second and 8 in two, with no 429 and no violation."""
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.say(COORDINATOR, "program list")
            await bot.work()
            for number in range(11):
                await bot.say(COORDINATOR, "program list", activity_id=f"burst-{number}")
            await bot.work()
            assert len(fake.activities(COORDINATOR.chat)) == 12 and fake.violations == 0


# -- channels and files ----------------------------------------------------------------------------------------


async def test_a_call_for_volunteers_is_posted_in_a_channel_found_by_name(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            team_install = bot.channel(COORDINATOR, "")
            team_install.update(type="conversationUpdate", text=None, entities=[], membersAdded=[{"id": BOT}])
            team_install["conversation"]["id"] = CHANNEL
            team_install["channelData"]["channel"] = {"id": CHANNEL, "name": "General"}
            assert (await bot.post(team_install))[0] == 200
            await bot.say(COORDINATOR, "program announce #general")
            await bot.work()
            [call] = fake.cards(CHANNEL)
            assert "volunteers" in card_text(call).lower() and len(buttons(call)) == 2
            assert not [p for p in fake.activities(CHANNEL) if "notification" in str(p.get("channelData"))]
            assert refs.conversation(sqlite_store.engine, TENANT, CHANNEL).team_id == TEAM  # type: ignore[union-attr]


def unreachable_notices(bot: TeamsBot) -> list[str]:
    return [card_text(c) for c in bot.cards_for(COORDINATOR) if "couldn't post" in card_text(c)]


async def test_a_call_for_a_channel_the_app_is_not_in_is_reported_to_the_coordinator(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "program announce #mentoring-team")
            for _ in range(3):
                await bot.work()
            [notice] = unreachable_notices(bot)
            assert "#mentoring-team" in notice and "Digital 2030" in notice and "add the mentoring app" in notice
            assert "\\" not in notice and "not in the team" in notice
            [post] = [r for r in outbox_rows(sqlite_store) if r.payload["to"]["kind"] == "conversation"]
            assert post.status == "failed" and "mentoring-team" in post.last_error


async def test_a_call_teams_refuses_in_a_known_channel_is_reported_to_the_coordinator(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            team_install = bot.channel(COORDINATOR, "")
            team_install.update(type="conversationUpdate", text=None, entities=[], membersAdded=[{"id": BOT}])
            team_install["conversation"]["id"] = CHANNEL
            team_install["channelData"]["channel"] = {"id": CHANNEL, "name": "General"}
            assert (await bot.post(team_install))[0] == 200
            await bot.work()  # the welcome goes out first
            await bot.say(COORDINATOR, "program announce #general")
            fake.answer_late(0.0)  # the coordinator's answer goes first (the reply lane), then the call, which
            fake.answer(403)  # is refused: the app was taken out of the team meanwhile
            for _ in range(3):
                await bot.work()
            assert fake.cards(CHANNEL) == []
            [notice] = unreachable_notices(bot)
            assert "#general" in notice and "add the mentoring app" in notice


async def test_files_are_offered_by_signed_expiring_link(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, rmbot_public_url="https://mentoring.example.com") as bot:
            await bot.say(COORDINATOR, "my-data")
            await bot.work()
            [card] = bot.cards_for(COORDINATOR)
            [link] = [a["url"] for a in _all(card) if a.get("type") == "Action.OpenUrl"]
            path = link.removeprefix("https://mentoring.example.com")
            async with bot.client.get(path) as response:
                assert response.status == 200 and b"Amara Okafor" in await response.read()
                assert response.headers["Content-Disposition"].startswith("attachment;")
            async with bot.client.get(path[:-3] + "AAA") as response:
                assert response.status == 403
            outbox_id, index = bot.service.links.check(path.rsplit("/", 1)[1])
            expired = Links("https://mentoring.example.com", bot.service.links.secret, ttl=-1).url(outbox_id, index)
            async with bot.client.get(expired.removeprefix("https://mentoring.example.com")) as response:
                assert response.status == 410


async def test_without_a_public_url_files_are_named_not_linked(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.say(COORDINATOR, "my-data")
            await bot.work()
            [card] = bot.cards_for(COORDINATOR)
            assert "RMBOT_PUBLIC_URL" in card_text(card)
            assert not [a for a in _all(card) if a.get("type") == "Action.OpenUrl"]


def _all(card: dict[str, Any]) -> list[dict[str, Any]]:
    from test_teams_harness import walk

    return list(walk(card))


async def asyncio_to_thread(function: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(function, *args)

"""The app leaving a workspace (``app_uninstalled``, ``tokens_revoked``) and coming back; token rotation.

Signed Events API bodies from the conformance kit go to ``/slack/events``; the fake Slack revokes tokens and
refreshes rotating ones as Slack does. A workspace without the app gets nothing sent: its messages are held
(kept, for the retention period) and go out, once, with the new token when it is installed again.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from fake_slack import FakeSlack, payload, slack_user
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_slack_harness import COORDINATOR, TEAM, SlackBot, fake_users, seed
from test_slack_oauth import OAUTH, install

OWNER, ASKER = "U_OWNER", "U_ASK"
WORKSPACE = "T_NEW"
INSTALL = {"team": WORKSPACE, "team_name": "New Co", "token": "xoxb-new", "user": OWNER}
USERS = {
    OWNER: slack_user(OWNER, "Ines Duarte", "ines@new.example"),
    ASKER: slack_user(ASKER, "Omar Said", "omar@new.example"),
}


def removal(kind: str, team: str, event_id: str, at: float | None = None, bot: bool = True) -> dict[str, Any]:
    """Slack's ``app_uninstalled`` or ``tokens_revoked`` body (the kit's, for a workspace not on a Grid)."""
    body: dict[str, Any] = copy.deepcopy(payload(f"event_callback_{kind}.json"))
    body.pop("enterprise_id")
    body.update(team_id=team, event_id=event_id, event_time=int(time.time() if at is None else at))
    if kind == "tokens_revoked" and not bot:
        body["event"]["tokens"]["bot"] = []
    return body


def dm(bot: SlackBot, text: str, user: str, team: str = WORKSPACE, event_id: str = "") -> dict[str, Any]:
    """A DM to the bot in a workspace of its own (not on an Enterprise Grid)."""
    body = bot.dm_body(text, user, team=team, event_id=event_id)
    body.pop("enterprise_id")
    body["authorizations"][0].update(enterprise_id=None)
    return body


def answers(fake: FakeSlack, user: str) -> list[tuple[str, str]]:
    """(token, text) of every post in ``user``'s DM."""
    channel = fake.dm_channel(user)
    return [
        (c.token, str(c.args.get("text")))
        for c in fake.calls_to("chat.postMessage")
        if fake.landed_in(c.args["channel"]) == channel
    ]


def waiting(store: SqlStore) -> list[OutboxMessageRow]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(OutboxMessageRow).where(col(OutboxMessageRow.status) == "pending")).all()
    return [OutboxMessageRow(**row._mapping) for row in rows]


async def test_an_uninstall_holds_the_workspaces_messages_and_a_reinstall_sends_them_once(store: SqlStore) -> None:
    with FakeSlack(users=USERS, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            await bot.work()
            assert len(answers(fake, OWNER)) == 1  # the offer of the coordinator role

            # someone writes just before the app is removed: the answer is not out yet when Slack revokes the token
            assert (await bot.event(dm(bot, "help", ASKER, event_id="EvAsk")))[0] == 200
            fake.revoked.add("xoxb-new")
            await bot.work()
            assert answers(fake, ASKER) == []
            [held] = waiting(store)
            assert held.held_for_install and "token_revoked" in held.last_error  # not dropped: kept, waiting

            status, _ = await bot.event(removal("app_uninstalled", WORKSPACE, "EvGone"))
            assert status == 200
            assert (await bot.event(removal("app_uninstalled", WORKSPACE, "EvGone"), retry=1))[0] == 200
            assert set(store.slack.uninstalled()) == {WORKSPACE}
            assert store.slack.tenant_bot(OAUTH["slack_client_id"], WORKSPACE) is None  # revoked tokens dropped
            with store.engine.begin() as connection:  # due again (its retry time passed): still not sent
                connection.execute(OutboxMessageRow.__table__.update().values(not_before=held.created_at))  # type: ignore[attr-defined]
            await bot.work()
            assert answers(fake, ASKER) == []
            [held] = waiting(store)
            assert held.held_for_install and "removed from T_NEW (app_uninstalled)" in held.last_error
            with store.unit_of_work() as uow:  # the workspace's data is kept (the retention setting applies)
                tenant = uow.tenants.find("slack", WORKSPACE)
                assert tenant is not None and len(uow.people.in_tenant(tenant.id)) == 2

            fake.install = {**INSTALL, "token": "xoxb-again"}
            assert (await install(bot))[0] == 200
            await bot.work()
            assert store.slack.uninstalled() == {}
            [(token, text)] = answers(fake, ASKER)  # sent once, with the new token
            assert token == "xoxb-again" and "What you can ask me" in text
            assert len(answers(fake, OWNER)) == 1  # installing again offers nothing twice
            assert waiting(store) == []


async def test_revoked_bot_tokens_count_as_an_uninstall_and_revoked_user_tokens_change_nothing(
    store: SqlStore,
) -> None:
    with FakeSlack(users=USERS, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            assert (await bot.event(removal("tokens_revoked", WORKSPACE, "EvUsers", bot=False)))[0] == 200
            assert store.slack.uninstalled() == {}
            assert store.slack.tenant_bot(OAUTH["slack_client_id"], WORKSPACE) is not None
            assert (await bot.event(removal("tokens_revoked", WORKSPACE, "EvBot")))[0] == 200
            [(reason, _since)] = store.slack.uninstalled().values()
            assert reason == "tokens_revoked"
            await bot.work()
            assert answers(fake, OWNER) == []  # the offer waits for the app to come back


async def test_a_late_retry_of_an_uninstall_does_not_undo_a_reinstall(store: SqlStore) -> None:
    with FakeSlack(users=USERS, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            old = removal("app_uninstalled", WORKSPACE, "EvOld", at=time.time() - 3600)  # sent before the install
            assert (await bot.event(old, retry=3))[0] == 200
            assert store.slack.uninstalled() == {}
            assert (await bot.event(dm(bot, "help", ASKER)))[0] == 200
            await bot.work()
            assert [token for token, _ in answers(fake, ASKER)] == ["xoxb-new"]


async def test_with_a_single_token_the_first_event_after_the_uninstall_resumes_the_workspace(store: SqlStore) -> None:
    """A configured SLACK_BOT_TOKEN has no OAuth install to redo: an event that happened after the uninstall shows
    the app is back (Slack sends nothing to a workspace without it), and what was held goes out."""
    seed(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            early = dm(bot, "help", COORDINATOR, team=TEAM, event_id="EvEarly")
            early["event"]["ts"] = f"{time.time() - 60:.6f}"  # written a minute before the app was removed
            assert (await bot.event(early))[0] == 200
            assert (await bot.event(removal("app_uninstalled", TEAM, "EvGone", at=time.time() - 30)))[0] == 200
            await bot.work()
            assert fake.posts() == []
            [held] = waiting(store)
            assert held.held_for_install

            assert (await bot.event(dm(bot, "status", COORDINATOR, team=TEAM, event_id="EvBack")))[0] == 200
            assert store.slack.uninstalled() == {}
            await bot.work()
            texts = [text for _token, text in answers(fake, COORDINATOR)]
            assert len(texts) == 2 and "What you can ask me" in texts[0]  # the held answer first, then the new one
            assert waiting(store) == []


async def test_messages_held_longer_than_the_retention_period_are_dropped(store: SqlStore) -> None:
    seed(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake, rmbot_payload_retention_days=1) as bot:
            assert (await bot.event(dm(bot, "help", COORDINATOR, team=TEAM, event_id="EvAsk")))[0] == 200
            two_days_ago = time.time() - 2 * 86400
            assert (await bot.event(removal("app_uninstalled", TEAM, "EvGone", at=two_days_ago)))[0] == 200
            await bot.work()
            assert fake.posts() == []
            assert waiting(store) == []
            with store.engine.connect() as connection:
                [error] = connection.execute(select(col(OutboxMessageRow.last_error))).scalars().all()
            assert "not installed again within the retention period" in error


ROTATING = {**INSTALL, "refresh_token": "xoxe-1-first", "expires_in": 3600}
"""An install with token rotation on: a bot token with an hour left is refreshed (two hours ahead) at first use."""
ROTATED = "xoxe.xoxb-rotated-1"


async def test_a_rotating_token_refreshed_by_an_incoming_event_is_the_one_the_outbox_sends_with(
    store: SqlStore,
) -> None:
    with FakeSlack(users=USERS, install=ROTATING) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            assert (await bot.event(dm(bot, "help", ASKER)))[0] == 200
            assert fake.refreshed == [ROTATED]  # bolt refreshed it to authorise the event
            [profile] = [c for c in fake.calls_to("users.info") if c.args.get("user") == ASKER]
            assert profile.token == ROTATED
            await bot.work()
            assert [token for token, _ in answers(fake, ASKER)] == [ROTATED]
            assert [token for token, _ in answers(fake, OWNER)] == [ROTATED]
            assert fake.refreshed == [ROTATED]  # refreshed once: the outbox read the refreshed token


async def test_a_rotating_token_refreshed_by_the_outbox_is_the_one_incoming_events_use(store: SqlStore) -> None:
    with FakeSlack(users=USERS, install=ROTATING) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            await bot.work()  # the installer's offer: the outbox refreshes the token before posting
            assert fake.refreshed == [ROTATED]
            assert [token for token, _ in answers(fake, OWNER)] == [ROTATED]
            bot_row = store.slack.tenant_bot(OAUTH["slack_client_id"], WORKSPACE)
            assert bot_row is not None and bot_row["bot_token"] == ROTATED
            assert bot_row["bot_refresh_token"] == "xoxe-1-refresh-1"

            assert (await bot.event(dm(bot, "help", ASKER)))[0] == 200
            [profile] = [c for c in fake.calls_to("users.info") if c.args.get("user") == ASKER]
            assert profile.token == ROTATED
            await bot.work()
            assert [token for token, _ in answers(fake, ASKER)] == [ROTATED]
            assert fake.refreshed == [ROTATED]

"""Installing to many workspaces: the OAuth flow over HTTP, installations in our database, one tenant each."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import Installation

from adapters.slack.delivery import TokenSource
from adapters.slack.oauth import DbInstallationStore, SignedStateStore
from fake_slack import FakeSlack, slack_user
from storage import slack_installations as rows
from storage.store import SqlStore
from test_slack_harness import SlackBot

OAUTH = {
    "slack_bot_token": "",
    "slack_client_id": "111.222",
    "slack_client_secret": "client-secret",
    "slack_state_secret": "state-secret",
}


async def install(bot: SlackBot, state: str | None = None) -> tuple[int, str]:
    """Walk through /slack/install and Slack's redirect back, as a browser would."""
    async with bot.client.get("/slack/install") as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', html)
    assert link is not None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["111.222"] and "chat:write" in query["scope"][0]
    state = state or query["state"][0]
    async with bot.client.get(
        f"/slack/oauth_redirect?code=the-code&state={state}",
        headers={"Cookie": cookie if state == query["state"][0] else f"slack-app-oauth-state={state}"},
    ) as done:
        return done.status, await done.text()


async def test_an_install_is_kept_in_our_database_and_its_workspace_becomes_a_tenant(store: SqlStore) -> None:
    users = {"W500": slack_user("W500", "Ines Duarte", "ines@installed.example")}
    with FakeSlack(users=users, install={"team": "T_NEW", "team_name": "New Co", "token": "xoxb-new"}) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            status, _ = await install(bot)
            assert status == 200
            assert fake.calls_to("oauth.v2.access")
            with store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", "T_NEW")
                assert tenant is not None and tenant.name == "New Co"
            assert rows.bot_token(store.engine, "111.222", "T_NEW") == "xoxb-new"
            assert TokenSource(store, "", "111.222")("T_NEW") == "xoxb-new"
            # an event from the new workspace is authorised with its installation and answered with its token
            body = bot.dm_body("help", "W500", team="T_NEW")
            body.pop("enterprise_id")
            body["authorizations"][0].update(enterprise_id=None)
            status, _ = await bot.event(body)
            assert status == 200
            await bot.work()
            [answer] = [
                c
                for c in fake.calls_to("chat.postMessage")
                if fake.landed_in(c.args["channel"]) == fake.dm_channel("W500")
            ]
            assert answer.token == "xoxb-new" and "What you can ask me" in answer.args["text"]


async def test_a_forged_state_installs_nothing(sqlite_store: SqlStore) -> None:
    with FakeSlack(install={"team": "T_BAD"}) as fake:
        async with SlackBot(sqlite_store, fake, **OAUTH) as bot:
            status, _ = await install(bot, state="forged.9999999999.signature")
            assert status >= 400
            assert fake.calls_to("oauth.v2.access") == []
            assert rows.bot_token(sqlite_store.engine, "111.222", "T_BAD") is None


async def test_signed_states_expire_and_cannot_be_altered() -> None:
    store = SignedStateStore("secret")
    state = await store.async_issue()
    assert await store.async_consume(state)
    nonce, expires, signature = state.split(".")
    assert not await store.async_consume(f"{nonce}.{int(expires) + 1000}.{signature}")
    assert not await SignedStateStore("other").async_consume(state)
    assert not await store.async_consume(await SignedStateStore("secret", lifetime=-1).async_issue())


async def test_the_installation_store_round_trips_slack_sdk_installations(store: SqlStore) -> None:
    installations = DbInstallationStore(store, "111.222")
    full = Installation(
        app_id="A1",
        enterprise_id="E1",
        enterprise_name="Grid",
        team_id="T1",
        team_name="One",
        bot_token="xoxb-1",
        bot_id="B1",
        bot_user_id="U1",
        bot_scopes=["chat:write", "commands"],
        user_id="U9",
        user_token="xoxp-9",
        user_scopes=["search:read"],
        incoming_webhook_url="https://hooks.example/1",
        is_enterprise_install=False,
        token_type="bot",
        installed_at=datetime(2030, 1, 1, tzinfo=UTC).timestamp(),
    )
    assert set(full.to_dict()) <= {c.name for c in rows.slack_installations.c}  # every field has a column
    assert set(full.to_bot().to_dict()) <= {c.name for c in rows.slack_bots.c}
    await installations.async_save(full)
    found = await installations.async_find_installation(enterprise_id="E1", team_id="T1")
    assert found is not None and found.to_dict() == full.to_dict()
    bot = await installations.async_find_bot(enterprise_id="E1", team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-1" and bot.bot_scopes == ["chat:write", "commands"]
    assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is None
    await installations.async_delete_all(enterprise_id="E1", team_id="T1")
    assert await installations.async_find_bot(enterprise_id="E1", team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1") is None

"""Whoever installs the Slack app through OAuth is offered the coordinator role for that workspace (a DM with
a button, through the outbox); pending grants by email are claimed when someone's Slack profile first arrives."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.grants import ANY_TENANT
from fake_slack import FakeSlack, payload, slack_user
from storage.store import SqlStore
from test_slack_harness import SlackBot, blocks_text, buttons
from test_slack_oauth import OAUTH, install

INSTALLER = "U_OWNER"
TEAM = "T_NEW"
INSTALL = {"team": TEAM, "team_name": "New Co", "token": "xoxb-new", "user": INSTALLER}


def is_coordinator(store: SqlStore, user: str, team: str = TEAM) -> bool:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", team)
        person = uow.people.by_identity(tenant.id, "slack", user) if tenant else None
        return person is not None and uow.coordinators.is_tenant_coordinator(tenant.id, person.id)  # type: ignore[union-attr]


async def press(bot: SlackBot, user: str, action_id: str, value: str, team: str = TEAM) -> int:
    """``user`` of ``team`` presses a button in their DM with the bot."""
    body = copy.deepcopy(payload("block_actions.json"))
    body["user"].update(id=user, team_id=team)
    body["team"] = {"id": team, "domain": "new-co"}  # a workspace of its own, not of an Enterprise Grid
    body["trigger_id"] = bot.next_id("act.")
    body["container"].update(channel_id=f"D{user}", is_ephemeral=False)
    body["channel"]["id"] = f"D{user}"
    body["actions"][0].update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
    status, _ = await bot.interact(body)
    return status


def dms(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    return fake.posts(fake.dm_channel(user)) if fake.dm_channel(user) else []


async def test_the_installer_is_offered_the_role_and_becomes_coordinator_by_accepting(store: SqlStore) -> None:
    users = {
        INSTALLER: slack_user(INSTALLER, "Ines Duarte", "ines@new.example"),
        "U_OTHER": slack_user("U_OTHER", "Omar Said", "omar@new.example"),
    }
    with FakeSlack(users=users, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            status, _ = await install(bot)
            assert status == 200
            await bot.work()
            [offer] = dms(fake, INSTALLER)
            channel = fake.dm_channel(INSTALLER)
            posts = [c for c in fake.calls_to("chat.postMessage") if fake.landed_in(c.args["channel"]) == channel]
            assert {c.token for c in posts} == {"xoxb-new"}
            assert "New Co" in blocks_text(offer["blocks"]) and "coordinator" in offer["text"].lower()
            choices = buttons(offer["blocks"])
            assert list(choices) == ["Become a coordinator"]
            assert not is_coordinator(store, INSTALLER)  # offered, not granted

            # someone else pressing the same button gets nothing
            assert await press(bot, "U_OTHER", *choices["Become a coordinator"]) == 200
            await bot.work()
            assert not is_coordinator(store, "U_OTHER")
            assert "not" in dms(fake, "U_OTHER")[-1]["text"].lower()

            assert await press(bot, INSTALLER, *choices["Become a coordinator"]) == 200
            await bot.work()
            assert is_coordinator(store, INSTALLER)
            assert "program new" in dms(fake, INSTALLER)[-1]["text"]

            # installing again (new scopes, a token refresh) offers nothing twice
            assert (await install(bot))[0] == 200
            await bot.work()
            assert len(dms(fake, INSTALLER)) == 2


async def test_an_installer_named_by_email_beforehand_is_a_coordinator_at_once(store: SqlStore) -> None:
    from bot import grants as granting

    with store.unit_of_work() as uow:
        granting.grant(uow, "ines@new.example", f"slack:{TEAM}", source="cli")
    users = {INSTALLER: slack_user(INSTALLER, "Ines Duarte", "ines@new.example")}
    with FakeSlack(users=users, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            assert is_coordinator(store, INSTALLER)  # her profile arrived with the install
            await bot.work()
            [note] = dms(fake, INSTALLER)
            assert buttons(note.get("blocks") or []) == {} and "program new" in note["text"]
            with store.unit_of_work() as uow:
                assert uow.grants.from_source("cli") == []


async def test_first_contact_claims_a_pending_grant_in_a_single_workspace(store: SqlStore) -> None:
    from bot import grants as granting

    with store.unit_of_work() as uow:
        granting.grant(uow, "zoe@example.com", ANY_TENANT, source="cli")
    users = {"W900": slack_user("W900", "Zoe Adams", "zoe@example.com")}
    with FakeSlack(users=users) as fake:
        async with SlackBot(store, fake) as bot:
            assert (await bot.dm("help", "W900"))[0] == 200
            await bot.work()
            assert is_coordinator(store, "W900", team="T111")
            assert "For coordinators" in fake.posts()[-1]["text"]


async def test_my_data_lists_an_open_offer_and_forget_me_withdraws_it(store: SqlStore) -> None:
    users = {INSTALLER: slack_user(INSTALLER, "Ines Duarte", "ines@new.example")}
    with FakeSlack(users=users, install=INSTALL) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            await install(bot)
            await bot.work()
            with store.unit_of_work() as uow:
                assert [g.person_id is not None for g in uow.grants.from_source("slack_install")] == [True]

            async def dm(text: str) -> None:
                body = bot.dm_body(text, INSTALLER, team=TEAM)
                body.pop("enterprise_id")
                body["authorizations"][0].update(enterprise_id=None)
                assert (await bot.event(body))[0] == 200
                await bot.work()

            await dm("my-data")
            assert "offered to you when you installed the app" in dms(fake, INSTALLER)[-1]["text"]
            await dm("forget-me")
            forget = buttons(dms(fake, INSTALLER)[-1]["blocks"])["Yes, delete my data"]
            assert await press(bot, INSTALLER, *forget) == 200
            await bot.work()
            with store.unit_of_work() as uow:
                assert uow.grants.from_source("slack_install") == []

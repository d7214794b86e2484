"""Enterprise Grid: an org-wide install is one tenant for the whole organisation, its token found by enterprise id.

Slack keeps an org-wide install without a team id; events from any workspace of the organisation say so with
``is_enterprise_install`` (``authorizations`` in the Events API, a form field in slash commands, a top-level
field in interactivity). Everything below goes over HTTP, signed, against the fake Slack.
"""

from __future__ import annotations

import copy
import time
import urllib.parse
from typing import Any

from adapters.slack.delivery import TokenSource
from adapters.slack.translate import team_of
from fake_slack import FakeSlack, form_body, payload, slack_user
from storage import slack_workspaces
from storage.store import SqlStore
from test_slack_harness import SlackBot
from test_slack_oauth import OAUTH, install

GRID = "E900"
INSTALLER = "W500"
ORG_WIDE = {
    "enterprise": {"id": GRID, "name": "Grid Co"},
    "org_wide": True,
    "token": "xoxb-org",
    "user": INSTALLER,
}
PEOPLE = {
    INSTALLER: slack_user(INSTALLER, "Ines Duarte", "ines@grid.example"),
    "W601": slack_user("W601", "Femi Adeyemi", "femi@grid.example"),
    "W702": slack_user("W702", "Lena Vogel", "lena@grid.example"),
}


def org_dm(text: str, user: str, workspace: str, event_id: str) -> dict[str, Any]:
    """A DM to the org-wide app from ``user`` in ``workspace`` of the organisation (the spec's org-wide message,
    sent in a DM)."""
    body: dict[str, Any] = copy.deepcopy(payload("event_callback_message__org_wide_install.json"))
    body.update(team_id=workspace, enterprise_id=GRID, event_id=event_id, event_time=int(time.time()))
    body["authorizations"][0].update(enterprise_id=GRID, team_id=None, user_id="UBOT")
    body["event"].update(user=user, text=text, team=workspace, channel=f"D{user}", channel_type="im")
    body["event"].update(ts=f"{time.time():.6f}", event_ts=f"{time.time():.6f}")
    return body


def tenant_people(store: SqlStore, key: str) -> set[str]:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", key)
        return {person.name for person in uow.people.in_tenant(tenant.id)} if tenant else set()


def answers_to(fake: FakeSlack, user: str) -> list[tuple[str, str]]:
    """(token, text) of every post in ``user``'s DM."""
    channel = fake.dm_channel(user)
    return [
        (c.token, str(c.args.get("text")))
        for c in fake.calls_to("chat.postMessage")
        if fake.landed_in(c.args["channel"]) == channel
    ]


async def test_an_org_wide_install_is_one_tenant_and_every_workspace_is_answered_with_its_token(
    store: SqlStore,
) -> None:
    with FakeSlack(users=PEOPLE, install=ORG_WIDE) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            status, _ = await install(bot)
            assert status == 200
            with store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", GRID)
                assert tenant is not None and tenant.name == "Grid Co"
            # Slack keeps the org-wide bot without a team id: it is found by the enterprise id
            assert TokenSource(store, "", OAUTH["slack_client_id"])(GRID) == "xoxb-org"

            # people in two workspaces of the organisation write to the bot: one tenant, one token
            for user, workspace, event_id in (("W601", "T100", "EvG1"), ("W702", "T200", "EvG2")):
                status, _ = await bot.event(org_dm("help", user, workspace, event_id))
                assert status == 200
                assert bot.inbox_status(event_id, team=GRID) is not None
            await bot.work()
            assert tenant_people(store, GRID) >= {"Femi Adeyemi", "Lena Vogel"}
            for workspace in ("T100", "T200"):
                assert tenant_people(store, workspace) == set()  # no tenant per workspace
            for user in ("W601", "W702"):
                [(token, text)] = answers_to(fake, user)
                assert token == "xoxb-org" and "What you can ask me" in text
            # the installer's offer of the coordinator role went out with the org token too
            assert {token for token, _ in answers_to(fake, INSTALLER)} == {"xoxb-org"}


async def test_a_slash_command_from_an_org_wide_install_reaches_the_organisations_tenant(store: SqlStore) -> None:
    with FakeSlack(users=PEOPLE, install=ORG_WIDE) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
            fields.update(
                command="/mentoring",
                text="help",
                user_id="W601",
                channel_id="DW601",
                team_id="T100",
                enterprise_id=GRID,
                is_enterprise_install="true",
                trigger_id="trig.grid",
            )
            status, _ = await bot.post(form_body(fields), "application/x-www-form-urlencoded")
            assert status == 200
            assert bot.inbox_status("cmd:trig.grid", team=GRID) is not None
            assert bot.inbox_status("cmd:trig.grid", team="T100") is None
            await bot.work()
            [(token, text)] = answers_to(fake, "W601")
            assert token == "xoxb-org" and "What you can ask me" in text


async def test_a_workspace_installed_on_its_own_keeps_its_tenant_and_token_next_to_an_org_wide_install(
    store: SqlStore,
) -> None:
    """Tokens are looked up by enterprise id, then by team id: a workspace of the same organisation that installed
    the app itself (before the org-wide install) keeps its own tenant and its own token."""
    alone = {"team": "T300", "team_name": "Research", "token": "xoxb-research", "user": "W601"}
    alone["enterprise"] = {"id": GRID, "name": "Grid Co"}  # type: ignore[assignment]
    with FakeSlack(users=PEOPLE, install=alone) as fake:
        async with SlackBot(store, fake, **OAUTH) as bot:
            assert (await install(bot))[0] == 200
            fake.install = ORG_WIDE
            assert (await install(bot))[0] == 200
    tokens = TokenSource(store, "", OAUTH["slack_client_id"])
    assert tokens("T300") == "xoxb-research"
    assert tokens(GRID) == "xoxb-org"
    assert slack_workspaces.tenant_bot(store.engine, OAUTH["slack_client_id"], "T999") is None
    with store.unit_of_work() as uow:
        assert uow.tenants.find("slack", "T300") is not None and uow.tenants.find("slack", GRID) is not None


def test_the_tenant_of_each_payload_shape_is_the_organisation_only_for_an_org_wide_install() -> None:
    dm = org_dm("hi", "W601", "T100", "Ev1")
    assert team_of(dm) == GRID
    workspace_dm = payload("event_callback_message_im__top_level_dm.json")  # a Grid workspace's own install
    assert team_of(workspace_dm) == "T111"
    pressed = copy.deepcopy(payload("block_actions.json"))
    assert team_of(pressed) == pressed["team"]["id"]
    pressed.update(is_enterprise_install=True, team=None, enterprise={"id": "E111", "name": "Sandbox Org"})
    assert team_of(pressed) == "E111"  # org-wide: Slack sends ``enterprise`` and no ``team``
    command = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt")))
    assert team_of(command) == "T111"
    assert team_of({**command, "is_enterprise_install": "true"}) == "E111"

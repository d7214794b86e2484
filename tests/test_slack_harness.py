"""The harness of the Slack tests: the real app on a real aiohttp server, Slack's side played by the fake.

``SlackBot`` builds what ``rmbot serve`` builds (the aiohttp app with the health check, the bolt app
mounted on it, the worker with the Slack deliverer) on a given store, and sends it requests signed like
Slack's, with bodies built from the conformance kit's payloads. ``work()`` runs the worker once.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
import urllib.parse
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.observability import Metrics
from adapters.server import Worker, build_app
from adapters.settings import Settings
from adapters.slack.app import SlackService
from bot.commands.programmes import new_programme
from bot.domain import NewPerson
from bot.runtime import Runtime
from fake_slack import FakeSlack, form_body, interactive_body, payload, signed_headers, slack_user
from storage.store import SqlStore

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T111"
COORDINATOR = "W111"
MENTOR = "W222"
MENTEE = "W333"
PEOPLE = [  # Slack user, name, email, seniority
    (COORDINATOR, "Amara Okafor", "amara@example.com", 8),
    (MENTOR, "Arjun Mehta", "arjun@example.com", 2),
    (MENTEE, "Daniel Okonkwo", "daniel@example.com", 7),
]


def seed(store: SqlStore, team: str = TEAM, link: bool = True) -> int:
    """A workspace with a coordinator, a junior and a senior, and a programme; returns its id."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", team)
        ids = {}
        for user, name, email, seniority in PEOPLE:
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=name, email=email, seniority=seniority))
            if link or user == COORDINATOR:
                uow.people.link_identity(person, "slack", user)
            ids[user] = person.id
        uow.coordinators.add_tenant_coordinator(tenant.id, ids[COORDINATOR])
        return new_programme(uow, tenant.id, "Digital 2030", coordinator_id=ids[COORDINATOR]).id


def fake_users() -> dict[str, dict[str, Any]]:
    return {user: slack_user(user, name, email, title="Slack title") for user, name, email, _ in PEOPLE}


class SlackBot:
    """The bot under test, reachable over HTTP; use ``async with``."""

    def __init__(self, store: SqlStore, fake: FakeSlack, **settings: Any) -> None:
        values = {
            "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SECRET,
            "slack_api_url": fake.api_url,
            "slack_workspace_budget": 1000.0,
            **settings,
        }
        self.settings = Settings(**values)
        self.store, self.fake = store, fake
        self.metrics = Metrics(store)
        self.runtime = Runtime(store, observer=self.metrics)
        self.worker = Worker(self.runtime, self.settings)
        self.pokes = 0
        self.service = SlackService(self.settings, self.runtime, self._poke)
        self.web_app = build_app(store, metrics=self.metrics)
        self.service.mount(self.web_app)
        self._ids = itertools.count(1)

    def _poke(self) -> None:
        self.pokes += 1

    async def __aenter__(self) -> SlackBot:
        self.client = TestClient(TestServer(self.web_app))
        await self.client.start_server()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.service.drain()
        await self.client.close()

    # -- requests ----------------------------------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        retry: int | None = None,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST ``body`` to /slack/events, signed with ``secret``; returns (status, response text)."""
        sent = {**signed_headers(secret, body, content_type, timestamp, retry), **(headers or {})}
        async with self.client.post("/slack/events", data=body.encode(), headers=sent) as response:
            return response.status, await response.text()

    async def event(self, body: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.post(json.dumps(body), "application/json", **kwargs)

    async def interact(self, data: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.post(interactive_body(data), "application/x-www-form-urlencoded", **kwargs)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    async def command(
        self,
        text: str,
        user: str = COORDINATOR,
        *,
        channel: str = "D0COORD",
        trigger: str = "",
        team: str = TEAM,
        **kwargs: Any,
    ) -> tuple[int, str]:
        """``/mentoring TEXT`` typed by ``user``."""
        fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
        fields.update(
            command="/mentoring",
            text=text,
            user_id=user,
            user_name=user.lower(),
            channel_id=channel,
            team_id=team,
            trigger_id=trigger or self.next_id("trig."),
        )
        return await self.post(form_body(fields), "application/x-www-form-urlencoded", **kwargs)

    def dm_body(self, text: str, user: str, *, event_id: str = "", team: str = TEAM) -> dict[str, Any]:
        body = copy.deepcopy(payload("event_callback_message_im__top_level_dm.json"))
        body.update(team_id=team, event_id=event_id or self.next_id("Ev"), event_time=int(time.time()))
        body["authorizations"][0]["team_id"] = team
        body["event"].update(user=user, text=text, channel=f"D{user}", ts=f"{time.time():.6f}")
        return body

    async def dm(self, text: str, user: str = COORDINATOR, **kwargs: Any) -> tuple[int, str]:
        """A direct message from ``user`` to the bot."""
        return await self.event(self.dm_body(text, user, event_id=kwargs.pop("event_id", "")), **kwargs)

    async def press(
        self,
        user: str,
        action_id: str,
        value: str = "",
        *,
        selected: str | None = None,
        state: dict[str, Any] | None = None,
        channel: str = "",
        trigger: str = "",
    ) -> tuple[int, str]:
        """A ``block_actions`` payload: ``user`` pressed a button (or chose ``selected`` in a select)."""
        body = copy.deepcopy(payload("block_actions.json"))
        body["user"].update(id=user, team_id=TEAM)
        body["team"]["id"] = TEAM
        body["trigger_id"] = trigger or self.next_id("act.")
        body["container"].update(channel_id=channel or f"D{user}", is_ephemeral=False)
        body["channel"]["id"] = channel or f"D{user}"
        action = body["actions"][0]
        action.update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
        if selected is not None:
            action.pop("value")
            action.update(
                type="static_select",
                selected_option={"value": selected, "text": {"type": "plain_text", "text": selected}},
            )
        if state is not None:
            body["state"] = {"values": state}
        return await self.interact(body)

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> tuple[int, str]:
        """A ``view_submission`` of ``view`` (as the bot opened it) with element states ``values``."""
        body = copy.deepcopy(payload("view_submission.json"))
        body["user"].update(id=user, team_id=TEAM)
        body["team"]["id"] = TEAM
        body["trigger_id"] = self.next_id("view.")
        body["view"].update(
            callback_id=view["callback_id"],
            private_metadata=view.get("private_metadata", ""),
            blocks=view["blocks"],
            state={"values": values},
            id=self.next_id("V"),
        )
        return await self.interact(body)

    # -- the worker --------------------------------------------------------------------------------------

    async def work(self) -> None:
        """Handle what is pending and send what the engine wrote (one pass of the worker)."""
        await asyncio.to_thread(self.worker.run_once)

    def inbox_status(self, event_id: str, team: str = TEAM) -> str | None:
        return self.store.inbox.status_of("slack", team, event_id)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in a list of blocks, joined (to read what a message says)."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "text" and isinstance(inner, str):
                    out.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(blocks)
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Button label -> (action_id, value) of every button in the blocks."""
    found = {}
    for block in blocks:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if element.get("type") == "button":
                found[element["text"]["text"]] = (element["action_id"], element.get("value", ""))
    return found


async def test_the_harness_serves_the_health_check_and_the_slack_endpoint(sqlite_store: SqlStore) -> None:
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            async with bot.client.get("/healthz") as response:
                assert response.status == 200
            status, _ = await bot.event(payload("url_verification.json"))
            assert status == 200

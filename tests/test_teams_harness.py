"""The harness of the Teams tests: the real service on a real aiohttp server, Teams' side played by the fake.

``TeamsBot`` builds what ``rmbot serve`` builds (the aiohttp app with the health check, the Teams
service mounted on it, the worker with the Teams deliverer) on a given store, and posts it activities
built from the conformance kit's captured personal message, as Teams would. ``work()`` runs the worker
once. Nothing here imports the Bot Framework SDK: the tests speak the protocol (JSON over HTTP) only.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema
from aiohttp.test_utils import TestClient, TestServer

from adapters.observability import Metrics
from adapters.server import Worker, build_app
from adapters.settings import Settings
from adapters.teams.service import TeamsService
from bot.commands.programmes import new_programme
from bot.domain import NewPerson
from bot.runtime import Runtime
from fake_teams import SPECS, FakeTeams, activity_file
from storage.store import SqlStore

TENANT = "a0e78124-8cd4-4887-a704-1d4c829cf888"
APP_ID = "5353a86e-52fb-4979-8a69-c7efcd1b0bd3"
BOT = f"28:{APP_ID}"
BOT_NAME = "Mentoring"


@dataclass(frozen=True)
class Member:
    aad: str
    account: str
    name: str
    email: str
    seniority: int

    @property
    def chat(self) -> str:
        """The id of this person's personal chat with the bot."""
        return f"a:chat-{self.account[3:]}"


COORDINATOR = Member(
    "a437c99b-3703-4dd6-80c8-82c69f181061",
    "29:1WlulF5q2n12i6sXKzPTrnj2Lj6Oa5zfG5b2Y5TL1k41",
    "Amara Okafor",
    "amara@example.com",
    8,
)
MENTOR = Member("b1c2d3e4-0000-4000-8000-000000000002", "29:arjun", "Arjun Mehta", "arjun@example.com", 2)
MENTEE = Member("b1c2d3e4-0000-4000-8000-000000000003", "29:daniel", "Daniel Okonkwo", "daniel@example.com", 7)
NEWCOMER = Member("b1c2d3e4-0000-4000-8000-000000000004", "29:kavya", "Kavya Reddy", "kavya@example.com", 2)
PEOPLE = [COORDINATOR, MENTOR, MENTEE, NEWCOMER]
CHANNEL = "19:general-channel@thread.tacv2"
TEAM = "19:team-root@thread.tacv2"


def seed(store: SqlStore) -> int:
    """A Teams tenant whose HR import linked everyone's AD object id, a coordinator and a programme."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        ids = {}
        for member in PEOPLE:
            person = uow.people.add(
                NewPerson(tenant_id=tenant.id, name=member.name, email=member.email, seniority=member.seniority)
            )
            uow.people.link_identity(person, "teams", member.aad)
            ids[member] = person.id
        uow.coordinators.add_tenant_coordinator(tenant.id, ids[COORDINATOR])
        return new_programme(uow, tenant.id, "Digital 2030", coordinator_id=ids[COORDINATOR]).id


def person_id(store: SqlStore, member: Member) -> int:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        person = uow.people.by_identity(tenant.id, "teams", member.aad)
        assert person is not None and person.id is not None
        return person.id


@lru_cache(maxsize=1)
def card_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SPECS / "schemas" / "adaptive-card.1.5.0.schema.json").read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def assert_valid_card(card: dict[str, Any]) -> None:
    """The card is valid Adaptive Card 1.5 (every error listed when not)."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in card_validator().iter_errors(card)]
    assert not errors, errors


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object inside a card, depth first."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def card_text(card: dict[str, Any]) -> str:
    """The text a card shows (runs joined, blocks on lines)."""
    lines = []
    for element in walk(card.get("body", [])):
        if element.get("type") == "RichTextBlock":
            lines.append("".join(run.get("text", "") for run in element["inlines"]))
        elif element.get("type") == "TextBlock":
            lines.append(element["text"])
        elif element.get("type") == "Fact":
            lines.append(f"{element['title']}: {element['value']}")
        elif "facts" in element:
            lines += [f"{f['title']}: {f['value']}" for f in element["facts"]]
    return "\n".join(lines)


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Button title -> the data it sends (``Action.Execute``, whose fallback ``Action.Submit`` sends the same)."""
    found = {}
    for element in walk(card.get("body", [])):
        if element.get("type") == "Action.Execute":
            assert element["fallback"]["type"] == "Action.Submit" and element["fallback"]["data"] == element["data"]
            found[element["title"]] = element["data"]
    return found


class TeamsBot:
    """The bot under test, reachable over HTTP; use ``async with``."""

    def __init__(self, store: SqlStore, fake: FakeTeams, **settings: Any) -> None:
        values = {
            "microsoft_app_id": "",
            "microsoft_app_password": "",
            "microsoft_app_tenant_id": "",
            "microsoft_app_type": "MultiTenant",
            "teams_enabled": True,
            "teams_tenant_budget": 1000.0,
            "slack_bot_token": "",
            "slack_app_token": "",
            "slack_client_id": "",
            "rmbot_public_url": "",
            "rmbot_link_secret": "test-link-secret",
            **settings,
        }
        self.settings = Settings(**values)
        self.store, self.fake = store, fake
        self.metrics = Metrics(store)
        self.runtime = Runtime(store, observer=self.metrics)
        self.worker = Worker(self.runtime, self.settings)
        self.pokes = 0
        self.service = TeamsService(self.settings, self.runtime, self._poke)
        self.web_app = build_app(store, metrics=self.metrics)
        self.service.mount(self.web_app)
        self._ids = itertools.count(1)

    def _poke(self) -> None:
        self.pokes += 1

    async def __aenter__(self) -> TeamsBot:
        self.client = TestClient(TestServer(self.web_app))
        await self.client.start_server()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()

    # -- activities --------------------------------------------------------------------------------------

    def next_id(self) -> str:
        return f"1617{next(self._ids):09d}"

    def personal(
        self, member: Member, text: str | None = "", *, activity_id: str = "", **fields: Any
    ) -> dict[str, Any]:
        """A personal-chat activity from ``member``, shaped like the captured one in the conformance kit."""
        body = copy.deepcopy(activity_file("personal_message.json"))
        body.update(
            id=activity_id or self.next_id(),
            serviceUrl=self.fake.service_url,
            timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )
        body["from"] = {"id": member.account, "name": member.name, "aadObjectId": member.aad}
        body["conversation"] = {"conversationType": "personal", "tenantId": TENANT, "id": member.chat}
        body["recipient"] = {"id": BOT, "name": BOT_NAME}
        body["channelData"] = {"tenant": {"id": TENANT}}
        if text is None:
            body.pop("text", None)
            body.pop("textFormat", None)
        else:
            body["text"] = text
        body.update(fields)
        return body

    def channel(
        self, member: Member, text: str, *, mentions: list[tuple[str, str, str]] = (), **fields: Any
    ) -> dict[str, Any]:
        """A message in a team channel that @mentions the bot first (``mentions``: extra (shown, id, aad))."""
        body = self.personal(member, f"<at>{BOT_NAME}</at> {text}", **fields)
        body["conversation"] = {
            "conversationType": "channel",
            "tenantId": TENANT,
            "isGroup": True,
            "id": f"{CHANNEL};messageid={body['id']}",
        }
        body["channelData"] = {
            "tenant": {"id": TENANT},
            "teamsChannelId": CHANNEL,
            "teamsTeamId": TEAM,
            "channel": {"id": CHANNEL},
            "team": {"id": TEAM},
        }
        body["entities"] = [
            {"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT, "name": BOT_NAME}}
        ]
        for shown, account, aad in mentions:
            mentioned = {"id": account, "name": shown}
            if aad:
                mentioned["aadObjectId"] = aad
            body["entities"].append({"type": "mention", "text": f"<at>{shown}</at>", "mentioned": mentioned})
        return body

    def installed(self, member: Member, kind: str = "conversationUpdate") -> dict[str, Any]:
        """The bot added to ``member``'s personal scope (``conversationUpdate`` or ``installationUpdate``)."""
        body = self.personal(member, None)
        body["type"] = kind
        if kind == "conversationUpdate":
            body["membersAdded"] = [{"id": BOT}]
        else:
            body["action"] = "add"
        return body

    def submit(self, member: Member, data: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """``Action.Submit`` pressed: a message activity whose value is the card's data (plus inputs)."""
        return self.personal(member, None, value=data, **fields)

    def execute(self, member: Member, data: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """``Action.Execute`` pressed: an ``adaptiveCard/action`` invoke."""
        body = self.personal(member, None, **fields)
        body.update(
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": "rmbot", "data": data}, "trigger": "manual"},
        )
        return body

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST an activity to /api/messages; returns (status, JSON body or text)."""
        sent = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        async with self.client.post("/api/messages", data=json.dumps(activity), headers=sent) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text) if text else None
            except ValueError:
                return response.status, text

    async def say(self, member: Member, text: str, **fields: Any) -> int:
        status, _ = await self.post(self.personal(member, text, **fields))
        return status

    async def install(self, *members: Member) -> None:
        for member in members:
            status, _ = await self.post(self.installed(member))
            assert status == 200

    # -- the worker --------------------------------------------------------------------------------------

    async def work(self) -> None:
        """Handle what is pending and send what the engine wrote (one pass of the worker)."""
        await asyncio.to_thread(self.worker.run_once)

    def inbox_status(self, event_id: str) -> str | None:
        return self.store.inbox.status_of("teams", TENANT, event_id)

    def cards_for(self, member: Member) -> list[dict[str, Any]]:
        """Every card delivered to ``member``'s personal chat, each checked against the schema."""
        found = self.fake.cards(member.chat)
        for card in found:
            assert_valid_card(card)
        return found


async def test_the_harness_serves_the_health_check_and_the_teams_endpoint(sqlite_store: SqlStore) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            async with bot.client.get("/healthz") as response:
                assert response.status == 200
            status, _ = await bot.post(bot.installed(COORDINATOR))
            assert status == 200

"""Fuzzing the platform endpoints: mangled Slack payloads and Teams activities, correctly signed.

Every example starts from a real payload of the conformance kit, breaks it (keys dropped, values of the
wrong type, random, empty or huge text, objects nested the wrong way), signs it as the platform would
and posts it to the running bot. Whatever arrives: the answer is never a 5xx, the worker logs no
unhandled exception, no event is left failing in the inbox, and a person we know who typed something
gets a clear answer, never the apology for something that went wrong.
(Chat text and command arguments are fuzzed in ``test_security.py``.)
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.http_exceptions import LineTooLong
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.slack.forms import FORM_CALLBACK
from adapters.slack.pacing import Pacer
from adapters.teams.pacing import Pacer as TeamsPacer
from bot.wording import say
from fake_slack import FakeSlack, form_body, payload
from fake_teams import FakeTeams
from storage.store import SqlStore
from storage.tables import InboxEventRow, OutboxMessageRow
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, fake_users
from test_slack_harness import seed as seed_slack
from test_teams_harness import APP_ID, TENANT, TeamsBot
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTEE as T_MENTEE
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import seed as seed_teams

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- breaking JSON --------------------------------------------------------------------------------------

HUGE = st.integers(100_000, 200_000).map(lambda n: "x" * n)
ODD_TEXT = HUGE | st.sampled_from(
    [
        "",
        " ",
        "\u0000",
        "null",
        "{}",
        "[]",
        "%s %(x)s {0}",
        "\U0001f600" * 40,
        "<!channel> <@W222> <#C1|x>",
        "U" * 300,
        "-1",
        "1e400",
        "\u202e",
        "a\r\nb",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    ODD_TEXT,
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)
HOW = st.sampled_from(["drop", "replace", "odd text", "wrap in list", "wrap in object", "empty object"])


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside ``value`` (keys of objects, positions of lists), outermost first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield (*prefix, key)
        yield from paths(inner, (*prefix, key))


def mangle(data: st.DataObject, value: Any, keep: tuple[str, ...] = ()) -> Any:
    """``value`` broken in one to three places (never under the keys in ``keep``)."""
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.sampled_from([1, 1, 1, 2, 2, 3]), label="mutations")):
        places = [p for p in paths(value) if p[0] not in keep]
        if not places:
            break
        where = data.draw(st.sampled_from(places), label="where")
        parent = value
        for key in where[:-1]:
            parent = parent[key]
        key, how = where[-1], data.draw(HOW, label="how")
        if how == "drop":
            del parent[key]
        elif how == "replace":
            parent[key] = data.draw(JSONISH, label="new value")
        elif how == "odd text":
            parent[key] = data.draw(ODD_TEXT, label="odd text")
        elif how == "wrap in list":
            parent[key] = [parent[key]]
        elif how == "wrap in object":
            parent[key] = {"value": parent[key]}
        else:
            parent[key] = {}
    return value


# -- what must hold after every example ---------------------------------------------------------------


class Errors(logging.Handler):
    """Every ERROR record, and any record carrying an exception, anywhere in the process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], LineTooLong):
            return  # the fake platform's server refusing a request line of 100 kB (a user id that long)
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def problems(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def last_ids(store: SqlStore) -> tuple[int, int]:
    with store.unit_of_work() as uow:
        inbox = uow.session.execute(select(func.max(InboxEventRow.id))).scalar_one() or 0
        outbox = uow.session.execute(select(func.max(OutboxMessageRow.id))).scalar_one() or 0
    return inbox, outbox


def check_outcome(
    store: SqlStore, errors: Errors, since: tuple[int, int], people: dict[tuple[str, str], int], sent: Any
) -> None:
    """No error logged; every new event handled at the first attempt; people we know who typed were answered."""
    assert errors.problems() == [], (errors.problems(), sent)
    apology = say("errors.gave_up")
    with store.unit_of_work() as uow:
        events = uow.session.execute(select(InboxEventRow).where(InboxEventRow.id > since[0])).scalars().all()
        messages = uow.session.execute(select(OutboxMessageRow).where(OutboxMessageRow.id > since[1])).scalars().all()
        event(f"{len(events)} event(s) accepted, {len(messages)} message(s) sent")
        for row in events:
            assert (row.status, row.attempts) == ("done", 0), (row.last_error, sent)
        for message in messages:
            # an activity may have uninstalled the app: its messages then wait for the next install
            held = message.status == "pending" and message.held_for_install
            assert message.status == "sent" or held, (message.status, message.last_error, sent)
            assert message.payload["text"].strip() and message.payload["text"] != apology, sent
        for row in events:
            who = people.get((row.tenant_key, row.user_key))
            if who is not None and row.payload.get("kind") in ("message", "command"):
                assert any(who in m.recipients for m in messages), (f"no answer to {row.user_key}", sent)


def person_ids(store: SqlStore, platform: str, tenant: str, users: list[str]) -> dict[tuple[str, str], int]:
    """(tenant, user id) -> person id of the people the harness seeded."""
    with store.unit_of_work() as uow:
        found = uow.tenants.find(platform, tenant)
        assert found is not None
        return {
            (tenant, user): uow.people.by_identity(found.id, platform, user).id  # type: ignore[union-attr]
            for user in users
        }


# -- Slack ----------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def slack(store: SqlStore) -> AsyncIterator[SlackBot]:
    """The Slack bot on ``store``; the coordinator is part-way through setting up a programme."""
    seed_slack(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            for deliverer in bot.worker.deliverers:  # hundreds of posts to one DM: no pacing in this test
                deliverer.pacer = Pacer(
                    1000.0,
                    channel_rate=1000.0,  # type: ignore[attr-defined]
                    channel_burst=1000.0,
                )
            await bot.dm("program new", COORDINATOR)
            await bot.dm("Fuzzed programme", COORDINATOR)
            await bot.work()
            bot.people = person_ids(store, "slack", TEAM, [COORDINATOR, MENTOR, MENTEE])  # type: ignore[attr-defined]
            yield bot


def slack_event(bot: SlackBot, base: str, user: str) -> dict[str, Any]:
    """A real event callback from the kit, addressed to our workspace, from ``user``, with a fresh id."""
    if base == "dm":
        return bot.dm_body("help", user)
    body = copy.deepcopy(payload(base))
    if body.get("type") == "event_callback":
        body.update(team_id=TEAM, event_id=bot.next_id("EvF"), event_time=int(time.time()))
        body["authorizations"][0]["team_id"] = TEAM
        body["event"].update(user=user, ts=f"{time.time():.6f}")
        if body["event"].get("type") == "app_mention":
            body["event"]["text"] = f"<@{bot.fake.bot_user}> status"
    return body


EVENT_BASES = st.sampled_from(
    [
        "dm",
        "event_callback_app_mention__authorizations.json",
        "event_callback_app_home_opened__home_tab.json",
        "url_verification.json",
    ]
)
USERS = st.sampled_from([COORDINATOR, MENTOR, MENTEE])


PRESETS = {  # breakages fuzzing found, kept as explicit examples
    "event is a list": lambda body: body.update(event=[body["event"]]),
    "user id of 300 characters": lambda body: body["event"].update(user="U" * 300),
    "NUL in the user id": lambda body: body["event"].update(user="W22\u00002"),
    "NUL in the text": lambda body: body["event"].update(text="program edit name a\u0000b"),
    "team id in a list": lambda body: body.update(team_id=[TEAM]),
    "home tab for a user in a list": lambda body: body["event"].update(user=[MENTOR]),
}


@FUZZ
@given(data=st.data(), base=EVENT_BASES, user=USERS, preset=st.none())
@example(data=None, base="dm", user=MENTOR, preset="event is a list")
@example(data=None, base="dm", user=MENTOR, preset="user id of 300 characters")
@example(data=None, base="dm", user=MENTOR, preset="NUL in the user id")
@example(data=None, base="dm", user=COORDINATOR, preset="NUL in the text")
@example(data=None, base="dm", user=MENTOR, preset="team id in a list")
@example(
    data=None, base="event_callback_app_home_opened__home_tab.json", user=MENTOR, preset="home tab for a user in a list"
)
async def test_any_event_callback_is_acknowledged_and_handled(
    slack: SlackBot, errors: Errors, data: Any, base: str, user: str, preset: str | None
) -> None:
    body = slack_event(slack, base, user)
    if preset is not None:
        PRESETS[preset](body)
    else:
        body = mangle(data, body)
    since = last_ids(slack.store)
    errors.records.clear()
    status, _ = await slack.post(json.dumps(body), "application/json")
    assert status < 500, body
    await slack.work()
    await slack.service.drain()
    check_outcome(slack.store, errors, since, slack.people, body)  # type: ignore[attr-defined]


def command_form(user: str, text: str, trigger: str) -> dict[str, Any]:
    fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
    fields.update(
        command="/mentoring", text=text, user_id=user, team_id=TEAM, channel_id=f"D{user}", trigger_id=trigger
    )
    return fields


@FUZZ
@given(data=st.data(), user=USERS, raw=st.one_of(st.none(), st.text(max_size=300)))
@example(
    data=None,
    user=COORDINATOR,
    raw=form_body(command_form(COORDINATOR, "program edit name Digital\u00002030", "trig.nul")),
).via("NUL in a programme's new name")
async def test_any_slash_command_form_gets_an_answer(
    slack: SlackBot, errors: Errors, data: Any, user: str, raw: str | None
) -> None:
    if raw is None:
        fields = mangle(data, command_form(user, "status", slack.next_id("trig.fuzz.")))
        raw = form_body({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})
    body = raw
    since = last_ids(slack.store)
    errors.records.clear()
    status, _ = await slack.post(body, "application/x-www-form-urlencoded")
    assert status < 500, body
    await slack.work()
    check_outcome(slack.store, errors, since, slack.people, body)  # type: ignore[attr-defined]


def interaction(bot: SlackBot, kind: str, user: str, action_id: str, value: str) -> dict[str, Any]:
    if kind == "block_actions":
        body = copy.deepcopy(payload("block_actions.json"))
        body["actions"][0].update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
        body.update(
            container={"type": "message", "message_ts": "1.2", "channel_id": f"D{user}"}, channel={"id": f"D{user}"}
        )
    else:
        body = copy.deepcopy(payload("view_submission.json"))
        body["view"].update(
            callback_id=FORM_CALLBACK,
            id=bot.next_id("VF"),
            private_metadata=json.dumps({"action": "flow.form", "value": "", "conversation": ""}),
        )
        body["view"]["state"]["values"] = {
            "focus": {"f": {"type": "static_select", "selected_option": {"value": value}}},
            "goal": {"g": {"type": "plain_text_input", "value": value}},
        }
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = bot.next_id("act.fuzz.")
    return body


@FUZZ
@given(
    data=st.data(),
    user=USERS,
    kind=st.sampled_from(["block_actions", "view_submission"]),
    action_id=st.sampled_from(
        [
            "a",
            "slack:answer|0",
            "slack:command|1",
            "slack:submit|0",
            "slack:pick|1",
            "slack:open_form",
            "consent|0",
            "flow.answer|2",
            "slot.pick|0",
        ]
    ),
    value=st.one_of(st.text(max_size=30), st.sampled_from(["help", "7:accept", "yes", "1|2030-03-04T10:00:00Z"])),
    not_json=st.booleans(),
)
@example(data=None, user=MENTOR, kind="block_actions", action_id="a", value="x", not_json=True).via("payload=garbage")
async def test_any_interaction_is_acknowledged_and_handled(
    slack: SlackBot, errors: Errors, data: Any, user: str, kind: str, action_id: str, value: str, not_json: bool
) -> None:
    body = interaction(slack, kind, user, action_id, value)
    if data is not None:
        body = mangle(data, body)
    form = urllib.parse.urlencode({"payload": "{not json" if not_json and data is None else json.dumps(body)})
    since = last_ids(slack.store)
    errors.records.clear()
    status, _ = await slack.post(form, "application/x-www-form-urlencoded")
    assert status < 500, body
    await slack.work()
    await slack.service.drain()
    check_outcome(slack.store, errors, since, slack.people, body)  # type: ignore[attr-defined]


# -- Teams ----------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def teams(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsBot]:
    """The Teams bot with Bot Framework authentication on (outbound token from a stand-in for Azure AD)."""
    import adapters.teams.auth as auth
    import adapters.teams.service as service

    monkeypatch.setattr(auth, "token_source", lambda settings: lambda: "fuzz-outbound-token")
    monkeypatch.setattr(service, "token_source", lambda settings: lambda: "fuzz-outbound-token")
    seed_teams(store)
    with FakeTeams() as fake:
        async with TeamsBot(
            store,
            fake,
            microsoft_app_id=APP_ID,
            microsoft_app_password="fuzz-password",
            teams_openid_metadata_url=fake.openid_url,
            teams_enabled=False,
        ) as bot:
            for deliverer in bot.worker.deliverers:
                deliverer.pacer = TeamsPacer(1000.0, windows=())  # type: ignore[attr-defined]
            people = [m.aad for m in (T_COORDINATOR, T_MENTOR, T_MENTEE)]
            bot.people = person_ids(store, "teams", TENANT, people)  # type: ignore[attr-defined]
            for member in (T_COORDINATOR, T_MENTOR, T_MENTEE):
                await signed(bot, bot.installed(member))
            await signed(bot, bot.personal(T_COORDINATOR, "program new"))
            await bot.work()
            yield bot


async def signed(bot: TeamsBot, activity: Any) -> int:
    """POST an activity with a token the Bot Framework would send for its service URL."""
    service_url = activity.get("serviceUrl") if isinstance(activity, dict) else None
    token = bot.fake.token(APP_ID, service_url if isinstance(service_url, str) else bot.fake.service_url)
    status, _ = await bot.post(activity, {"Authorization": f"Bearer {token}"})
    return status


def teams_activity(bot: TeamsBot, base: str, member: Any, text: str) -> dict[str, Any]:
    if base == "message":
        return bot.personal(member, text)
    if base == "channel":
        return bot.channel(member, text)
    if base == "install":
        return bot.installed(member, "installationUpdate")
    if base == "submit":
        return bot.submit(member, {"rmbot_action": "teams:answer", "rmbot_value": text, "rmbot_kind": "text"})
    if base == "execute":
        return bot.execute(
            member, {"rmbot_action": "consent", "rmbot_value": "1:accept", "rmbot_ref": "1", "rmbot_label": text}
        )
    return bot.submit(
        member,
        {
            "rmbot_action": "teams:form",
            "rmbot_form": "flow.form",
            "rmbot_fields": {"focus": "choice", "goal": "text"},
            "rmbot_f_goal": text,
        },
    )


TEAMS_PRESETS = {  # breakages fuzzing found, kept as explicit examples
    "channelData is a list": lambda activity: activity.update(channelData=[activity["channelData"]]),
    "an account id of 100,000 characters": lambda activity: activity["from"].update(id="29:" + "x" * 100_000),
    "a display name of 300 characters, someone new": lambda activity: activity.update(
        **{"from": {"id": "29:newcomer", "name": "N" * 300, "aadObjectId": "c0ffee00-0000-4000-8000-000000000300"}}
    ),
    "NUL in a flow's answer": lambda activity: activity.update(text="Fuzzed\u0000 programme"),
    "NUL in the installer's display name": lambda activity: activity["from"].update(name="Ama\u0000ra"),
}


@FUZZ
@given(
    data=st.data(),
    base=st.sampled_from(["message", "channel", "install", "submit", "execute", "form"]),
    who=st.sampled_from(["coordinator", "mentor", "mentee"]),
    text=st.text(max_size=60),
    preset=st.none(),
)
@example(data=None, base="message", who="mentor", text="help", preset="channelData is a list")
@example(data=None, base="message", who="mentor", text="help", preset="an account id of 100,000 characters")
@example(data=None, base="message", who="mentor", text="help", preset="a display name of 300 characters, someone new")
@example(data=None, base="message", who="coordinator", text="", preset="NUL in a flow's answer")
@example(data=None, base="install", who="coordinator", text="", preset="NUL in the installer's display name")
async def test_any_teams_activity_is_acknowledged_and_handled(
    teams: TeamsBot, errors: Errors, data: Any, base: str, who: str, text: str, preset: str | None
) -> None:
    member = {"coordinator": T_COORDINATOR, "mentor": T_MENTOR, "mentee": T_MENTEE}[who]
    activity = teams_activity(teams, base, member, text)
    if preset is not None:
        TEAMS_PRESETS[preset](activity)
    else:
        activity = mangle(data, activity, keep=("serviceUrl",))  # the token vouches for it
    since = last_ids(teams.store)
    errors.records.clear()
    status = await signed(teams, activity)
    assert status < 500, activity
    await teams.work()
    check_outcome(teams.store, errors, since, teams.people, activity)  # type: ignore[attr-defined]

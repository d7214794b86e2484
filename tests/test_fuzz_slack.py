"""Fuzzing the Slack endpoint: mangled event callbacks, slash command forms and interactions, correctly signed.

Every example starts from a real payload of the conformance kit, breaks it (keys dropped, values of the
wrong type, random, empty or huge text, objects nested the wrong way), signs it as Slack would and posts
it to the running bot; what must hold after it is in ``fuzz_support.py``.
(Chat text and command arguments are fuzzed in ``test_security.py``.)
"""

from __future__ import annotations

import copy
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.slack.forms import FORM_CALLBACK
from adapters.slack.pacing import Pacer
from fake_slack import FakeSlack, form_body, payload
from fuzz_support import FUZZ, Errors, check_outcome, last_ids, logged_errors, mangle, person_ids
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, fake_users
from test_slack_harness import seed as seed_slack


@pytest.fixture
def errors() -> Iterator[Errors]:
    with logged_errors() as handler:
        yield handler


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

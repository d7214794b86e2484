"""The Slack steps of the four-deliveries scenario: a bot on its own store and fake Slack, and each event type.

The steps build on each other: a coordinator's slash command, a consent button, intake answers typed,
picked and submitted in a modal, a mention, the App Home and its button, and an edited message.
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from typing import Any

from adapters.slack.forms import FORM_CALLBACK, form_view
from bot.flows.runner import FORM_ACTION
from bot.model import Form, FormField
from fake_slack import FakeSlack, form_body, interactive_body, payload
from fault_state import plain
from fault_steps import Send
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTOR, TEAM, SlackBot, buttons, fake_users
from test_slack_harness import seed as seed_slack

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
EVENT_TIME = 1_800_000_000
BOT_USER = "UBOT"


class SlackSide:
    """A Slack bot on a store, with its own fake Slack."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def __aenter__(self) -> SlackSide:
        self.programme = seed_slack(self.store)
        self.fake = FakeSlack(users=fake_users()).__enter__()
        self.bot = await SlackBot(self.store, self.fake).__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.__aexit__(*exc)
        self.fake.__exit__(*exc)

    async def settle(self) -> None:
        await self.bot.work()
        await self.bot.service.drain()

    def messages(self) -> list[Any]:
        views = [
            (
                "views." + c.method.split(".")[1],
                c.args.get("user_id") or c.args.get("trigger_id"),
                plain(c.args.get("view")),
            )
            for c in self.fake.calls
            if c.method in ("views.open", "views.publish")
        ]
        # A re-published home tab or a re-opened modal is the same view: count what differs, not repeats.
        distinct = [v for n, v in enumerate(views) if v not in views[:n]]
        return [(p["channel"], plain(p.get("text"))) for p in self.fake.posts()] + distinct

    def sender(self, body: str, content_type: str) -> Send:
        return lambda retry: self.bot.post(body, content_type, retry=retry)

    def last_post(self, user: str) -> dict[str, Any]:
        return self.fake.posts(self.fake.dm_channel(user))[-1]


def event_body(event: dict[str, Any], event_id: str) -> str:
    body = copy.deepcopy(payload("event_callback_message_im__top_level_dm.json"))
    body.update(team_id=TEAM, event_id=event_id, event_time=EVENT_TIME, event=event)
    body["authorizations"][0]["team_id"] = TEAM
    return json.dumps(body)


def action_body(
    user: str,
    action_id: str,
    value: str = "",
    *,
    trigger: str,
    selected: str | None = None,
    state: dict[str, Any] | None = None,
) -> str:
    """A ``block_actions`` payload: ``user`` pressed a button (or chose ``selected`` in a select)."""
    body = copy.deepcopy(payload("block_actions.json"))
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = trigger
    body["container"].update(channel_id=f"D{user}", is_ephemeral=False)
    body["channel"]["id"] = f"D{user}"
    action = body["actions"][0]
    action.update(action_id=action_id, value=value, action_ts=f"{EVENT_TIME}.000100")
    if selected is not None:
        action.pop("value")
        action.update(
            type="static_select", selected_option={"value": selected, "text": {"type": "plain_text", "text": selected}}
        )
    if state is not None:
        body["state"] = {"values": state}
    return interactive_body(body)


async def slash_command(side: SlackSide) -> Send:
    fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
    fields.update(
        command="/mentoring",
        text=f"invite <@{MENTOR}|arjun> as mentor",
        user_id=COORDINATOR,
        user_name="amara",
        channel_id="D0COORD",
        team_id=TEAM,
        trigger_id="trig.command",
    )
    return side.sender(form_body(fields), FORM)


async def consent_button(side: SlackSide) -> Send:
    action_id, value = buttons(side.last_post(MENTOR)["blocks"])["Yes, I'm in"]
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.consent"), FORM)


async def typed_answer(side: SlackSide) -> Send:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": MENTOR,
        "text": "yes",
        "channel": f"D{MENTOR}",
        "ts": f"{EVENT_TIME}.000200",
        "event_ts": f"{EVENT_TIME}.000200",
    }
    return side.sender(event_body(event, "EvTyped"), JSON)


def _picks(post: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A question's selects filled in (two topics of a multi-select, or places in a ranking) and its Send."""
    [picker] = [b for b in post["blocks"] if b.get("block_id") == "slack:pick"]
    *selects, send = picker["elements"]
    assert send["type"] == "button"
    state: dict[str, Any] = {}
    for place, select in enumerate(selects):
        if select["type"] == "multi_static_select":
            state[select["action_id"]] = {
                "type": select["type"],
                "selected_options": [{"value": o["value"]} for o in select["options"][:2]],
            }
        else:
            state[select["action_id"]] = {
                "type": select["type"],
                "selected_option": {"value": select["options"][place]["value"]},
            }
    return send["action_id"], send["value"], {"slack:pick": state}


async def pick_list(side: SlackSide) -> Send:
    action_id, value, state = _picks(side.last_post(MENTOR))
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.topics", state=state), FORM)


async def rank_select(side: SlackSide) -> Send:
    [picker] = [b for b in side.last_post(MENTOR)["blocks"] if b.get("block_id") == "slack:pick"]
    first = picker["elements"][0]
    return side.sender(
        action_body(MENTOR, first["action_id"], selected=first["options"][1]["value"], trigger="trig.place"), FORM
    )


async def rank_send(side: SlackSide) -> Send:
    action_id, value, state = _picks(side.last_post(MENTOR))
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.rank", state=state), FORM)


async def answer_button(side: SlackSide) -> Send:
    action_id, value = buttons(side.last_post(MENTOR)["blocks"])["Every 2 weeks"]
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.cadence"), FORM)


async def modal(side: SlackSide) -> Send:
    fields = [
        FormField(id="topics_detail", label="In your own words", kind="long_text"),
        FormField(id="goals", label="Goals", kind="long_text"),
    ]
    view = form_view(Form(action=FORM_ACTION, title="Your intake", fields=fields))
    body = copy.deepcopy(payload("view_submission.json"))
    body["user"].update(id=MENTOR, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = "trig.view"
    assert view["callback_id"] == FORM_CALLBACK
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        id="V-intake",
        blocks=view["blocks"],
        state={
            "values": {
                "topics_detail": {
                    "topics_detail": {"type": "plain_text_input", "value": "Prompt libraries and checking AI answers"}
                },
                "goals": {"goals": {"type": "plain_text_input", "value": "Learn how strategy decisions are made"}},
            }
        },
    )
    return side.sender(interactive_body(body), FORM)


async def mention(side: SlackSide) -> Send:
    event = {
        "type": "app_mention",
        "user": COORDINATOR,
        "text": f"<@{BOT_USER}> status",
        "channel": "C111",
        "ts": f"{EVENT_TIME}.000300",
        "event_ts": f"{EVENT_TIME}.000300",
    }
    return side.sender(event_body(event, "EvMention"), JSON)


async def home_opened(side: SlackSide) -> Send:
    event = {
        "type": "app_home_opened",
        "user": COORDINATOR,
        "channel": "D0COORD",
        "tab": "home",
        "event_ts": f"{EVENT_TIME}.000400",
    }
    return side.sender(event_body(event, "EvHome"), JSON)


async def home_button(side: SlackSide) -> Send:
    home = [c.args["view"] for c in side.fake.calls_to("views.publish") if c.args["user_id"] == COORDINATOR][-1]
    [status, *_] = [
        (action_id, value) for action_id, value in buttons(home["blocks"]).values() if value.startswith("status")
    ]
    return side.sender(action_body(COORDINATOR, *status, trigger="trig.home"), FORM)


async def edited_message(side: SlackSide) -> Send:
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel_type": "im",
        "channel": f"D{MENTOR}",
        "message": {"user": MENTOR, "text": "no", "ts": f"{EVENT_TIME}.000200"},
        "ts": f"{EVENT_TIME}.000500",
        "event_ts": f"{EVENT_TIME}.000500",
    }
    return side.sender(event_body(event, "EvEdited"), JSON)


SLACK_STEPS = [
    ("slash command (/mentoring invite)", slash_command),
    ("block_actions button (consent)", consent_button),
    ("DM message (typed intake answer)", typed_answer),
    ("block_actions multi-select with Send (topics)", pick_list),
    ("view_submission (intake modal)", modal),
    ("block_actions select alone (waits for Send)", rank_select),
    ("block_actions selects with Send (ranking)", rank_send),
    ("block_actions answer button (cadence)", answer_button),
    ("app_mention (status in a channel)", mention),
    ("app_home_opened (App Home published)", home_opened),
    ("block_actions App Home button (status)", home_button),
    ("message_changed (acknowledged, ignored)", edited_message),
]

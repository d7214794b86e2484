"""Shared helpers for the native-form tests: the mentor's intake answers, a Slack modal's state, and opening it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from fake_slack import FakeSlack
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_slack_harness import MENTOR, SlackBot, buttons

FORM_BUTTON = "Fill in the form"
MENTOR_ANSWERS: dict[str, Any] = {
    "profile_ok": "yes",
    "teach_topics": ["ai_tools", "generative_ai"],
    "goals": "Help senior colleagues use AI assistants with confidence",
    "priorities": ["perspective", "skills", "feedback"],
    "cadence": "14",
    "format": "video",
    "style_structure": "mix",
    "style_feedback": "direct",
    "style_pace": "deep",
    "languages": "English, Hindi",
    "diversity_ok": "no",
}


def element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """What Slack reports in ``view.state.values`` for an element holding ``value`` (None: left empty)."""
    kind = element["type"]
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": {"value": value} if value is not None else None}
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": [{"value": v} for v in value or []]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": value}


def initial(element: dict[str, Any]) -> Any:
    """What an element shows when the modal opens (answers given earlier are filled in)."""
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    return element.get("initial_value") or element.get("initial_date")


def modal_state(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The state of every input of ``view``: ``answers`` typed over what it showed when it opened."""
    state = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            value = answers[block["block_id"]] if block["block_id"] in answers else initial(element)
            state[block["block_id"]] = {element["action_id"]: element_state(element, value)}
    return state


def inbox_count(store: SqlStore) -> int:
    """How many inbound events the store has recorded."""
    with store.unit_of_work() as uow:
        return int(uow.session.execute(select(func.count()).select_from(InboxEventRow)).scalar_one())


def slack_form_button(fake: FakeSlack, user: str = MENTOR) -> tuple[str, str]:
    """The action and value of the latest "Fill in the form" button in ``user``'s direct messages."""
    for post in reversed(fake.posts(fake.dm_channel(user))):
        found = buttons(post["blocks"])
        if FORM_BUTTON in found:
            return found[FORM_BUTTON]
    raise AssertionError("no form was offered")


async def slack_open_modal(bot: SlackBot, trigger: str, user: str = MENTOR) -> dict[str, Any]:
    """Press "Fill in the form": the modal opens with this press's trigger."""
    opened = len(bot.fake.calls_to("views.open"))
    status, _ = await bot.press(user, *slack_form_button(bot.fake, user), trigger=trigger)
    assert status == 200
    await bot.work()
    calls = bot.fake.calls_to("views.open")
    assert len(calls) == opened + 1 and calls[-1].args["trigger_id"] == trigger
    view = calls[-1].args["view"]
    opened_view: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
    return opened_view

"""Which flow step comes next (bot/flows/definition.py): ``when`` conditions and the order of the steps."""

from __future__ import annotations

from typing import Any

from bot.flows.definition import Flow
from flow_support import FOCUS, step

# --- when conditions and flow order -------------------------------------------------------------------


def test_step_applies_with_value_and_list_conditions() -> None:
    always = step("text")
    assert always.applies({})
    detail = step("text", when={"focus": "custom"})
    assert detail.applies({"focus": "custom"})
    assert not detail.applies({"focus": "digital"})
    assert not detail.applies({})
    either = step("text", when={"focus": ["custom", "inclusion"]})
    assert either.applies({"focus": "inclusion"})
    assert not either.applies({"focus": "digital"})
    both = step("text", when={"focus": "custom", "role": ["mentor"]})
    assert both.applies({"focus": "custom", "role": "mentor"})
    assert not both.applies({"focus": "custom", "role": "mentee"})
    flag = step("text", when={"remote": True})
    assert flag.applies({"remote": True})
    assert not flag.applies({"remote": False})


def _flow() -> Flow:
    return Flow(
        id="f",
        version=1,
        title="F",
        steps=(
            step("text", id="name"),
            step("choice", id="focus", choices=FOCUS),
            step("text", id="focus_detail", when={"focus": "custom"}),
            step("yes_no", id="remote"),
            step("time_zone", id="zone", when={"remote": True}),
            step("yes_no", id="confirm"),
        ),
    )


def test_next_step_walks_the_flow_skipping_conditional_steps() -> None:
    flow = _flow()
    answers: dict[str, Any] = {}
    assert flow.next_step(None, answers).id == "name"
    answers["name"] = "X"
    assert flow.next_step("name", answers).id == "focus"
    answers["focus"] = "digital"
    assert flow.next_step("focus", answers).id == "remote"
    answers["remote"] = False
    assert flow.next_step("remote", answers).id == "confirm"
    answers["confirm"] = True
    assert flow.next_step("confirm", answers) is None


def test_next_step_asks_conditional_steps_when_they_apply() -> None:
    flow = _flow()
    answers = {"name": "X", "focus": "custom"}
    assert flow.next_step("focus", answers).id == "focus_detail"
    answers.update(focus_detail="AI", remote=True)
    assert flow.next_step("remote", answers).id == "zone"


def test_next_step_returns_to_earlier_unanswered_steps() -> None:
    flow = _flow()
    assert flow.next_step("remote", {"remote": False, "confirm": True}).id == "name"
    assert flow.next_step("unknown-step", {"name": "X"}).id == "focus"
    assert flow.step("zone").kind == "time_zone"
    assert flow.step("nope") is None

"""Flow steps as data (bot/flows/definition.py): parsing definitions, and the shipped ``program_new`` flow."""

from __future__ import annotations

from typing import Any

import pytest

from bot.flows.definition import FlowDefinitionError, StepChoice, load_flow, parse_flow
from bot.flows.inputs import parse_answer
from bot.markup import plain_text
from bot.wording import wording
from flow_support import TODAY

# --- flow definitions ---------------------------------------------------------------------------------


def _data(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"id": "f", "version": 2, "steps": list(steps)}


def test_parse_flow_defaults() -> None:
    flow = parse_flow(
        _data(
            {"id": "first_name", "prompt": "Name?"},
            {"id": "notes", "kind": "long_text", "prompt": "Notes?", "required": False},
            {"id": "pick", "kind": "choice", "prompt": "Pick", "choices": [{"value": 1, "label": "One"}]},
        )
    )
    assert (flow.id, flow.version, flow.title) == ("f", 2, "f")
    first, notes, pick = flow.steps
    assert (first.kind, first.label, first.required, first.min_length, first.max_length) == (
        "text",
        "first name",
        True,
        1,
        300,
    )
    assert (notes.max_length, notes.required) == (2000, False)
    assert pick.choices == (StepChoice("1", "One"),)


def test_parse_flow_rejects_unknown_kind() -> None:
    with pytest.raises(FlowDefinitionError, match="unknown kind"):
        parse_flow(_data({"id": "a", "kind": "colour", "prompt": "?"}))


def test_parse_flow_rejects_duplicate_step_id() -> None:
    with pytest.raises(FlowDefinitionError, match="twice"):
        parse_flow(_data({"id": "a", "prompt": "?"}, {"id": "a", "kind": "number", "prompt": "?"}))


@pytest.mark.parametrize("kind", ["choice", "multi_choice", "rank"])
def test_parse_flow_rejects_choice_steps_without_choices(kind: str) -> None:
    with pytest.raises(FlowDefinitionError, match="needs choices"):
        parse_flow(_data({"id": "a", "kind": kind, "prompt": "?"}))
    with pytest.raises(FlowDefinitionError, match="needs choices"):
        parse_flow(_data({"id": "a", "kind": kind, "prompt": "?", "choices": []}))


@pytest.mark.parametrize(
    "data",
    [
        {"version": 1, "steps": []},
        {"id": "f", "steps": []},
        {"id": "f", "version": 1},
        _data({"id": "a"}),
        _data({"prompt": "?"}),
        _data({"id": "a", "kind": "choice", "prompt": "?", "choices": [{"value": "x"}]}),
    ],
)
def test_parse_flow_rejects_missing_fields(data: dict[str, Any]) -> None:
    with pytest.raises(FlowDefinitionError):
        parse_flow(data)


REALISTIC_ANSWERS = {
    "name": "Digital *Reverse* Mentoring 2027",
    "focus": "custom",
    "focus_detail": "AI at work",
    "goal_metric": "mentees' team-rated digital confidence (1-10)",
    "goal_lower_better": True,
    "goal_baseline": 5.2,
    "goal_target": 6.5,
    "goal_date": "2027-12-31",
    "starts_on": "2027-01-15",
    "ends_on": "2027-07-15",
    "cadence": 14,
    "session_minutes": 45,
    "expectations": "Not a promotion track; one hour a month; what is said stays in the pair.",
    "confirm": True,
}


def test_program_new_loads_and_every_prompt_renders() -> None:
    flow = load_flow("program_new")
    assert flow.id == "program_new"
    ids = [s.id for s in flow.steps]
    assert set(ids) <= set(REALISTIC_ANSWERS)
    assert ids[0] == "name" and ids[-1] == "confirm"
    for the_step in flow.steps:
        rendered = wording().render_source(the_step.prompt, answers=REALISTIC_ANSWERS, context={})
        assert rendered.strip(), the_step.id
        if the_step.choices:
            assert len({c.value for c in the_step.choices}) == len(the_step.choices)
        if the_step.after and the_step.after != "today":
            assert the_step.after in ids[: ids.index(the_step.id)]
        for key in the_step.when:
            assert key in ids[: ids.index(the_step.id)]
    confirm = plain_text(wording().render_source(flow.step("confirm").prompt, answers=REALISTIC_ANSWERS, context={}))
    # the typed name is shown as typed, not turned into markup
    assert "Digital *Reverse* Mentoring 2027" in confirm
    assert "2027-01-15" in confirm and "2027-07-15" in confirm


def test_program_new_hints_are_valid_answers() -> None:
    flow = load_flow("program_new")
    answers: dict[str, Any] = {}
    for the_step in flow.steps:
        if the_step.hint and the_step.applies(answers):
            answers[the_step.id] = parse_answer(the_step, the_step.hint, answers, TODAY)
    assert answers["cadence"] == 14
    assert answers["session_minutes"] == 45

"""Flows declared as data: a questionnaire or a guided setup is a YAML file in ``prompts/flows``.

A flow has an id, a version and ordered steps. Each step has an id, an input kind, a prompt (a Jinja2
template), bounds, choices, whether it is required, and an optional ``when`` condition on earlier
answers that decides whether it is asked at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, get_args

from bot.model import FieldKind
from bot.wording import PROMPTS, read_yaml

FLOW_DIR = PROMPTS / "flows"
KINDS = {*get_args(FieldKind), "cadence", "ack"}
"""Every step kind: the form field kinds, plus a cadence (typed) and an acknowledgement."""
CHOICE_KINDS = {"choice", "multi_choice", "rank"}


@dataclass(frozen=True)
class StepChoice:
    value: str
    label: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    prompt: str
    label: str = ""
    hint: str = ""
    required: bool = True
    min_length: int = 1
    max_length: int = 500
    minimum: float | None = None
    maximum: float | None = None
    max_selected: int | None = None
    choices: tuple[StepChoice, ...] = ()
    when: dict[str, Any] = field(default_factory=dict)
    after: str | None = None
    """For dates: the answer must fall after this step's answer, or after ``today``."""
    check: str | None = None
    """Name of an extra validation the flow's owner registers (for example a unique name)."""
    choices_from: str | None = None
    """Name of a choice source the flow's owner registers (for example the programme's topic list)."""
    button: str = ""
    """For ``ack`` steps: the label of the button that moves on."""
    literal: bool = False
    """The prompt is text a coordinator typed: shown as typed, never rendered as a template."""
    form: str = ""
    """How the step fits a form (:mod:`bot.flows.forms`): ``""`` a field, ``submit`` answered yes by submitting
    the form (a final confirmation)."""

    def applies(self, answers: dict[str, Any], context: dict[str, Any] | None = None) -> bool:
        """Whether this step is asked, given the answers so far (``$key`` conditions read the context)."""
        for key, expected in self.when.items():
            actual = (context or {}).get(key[1:]) if key.startswith("$") else answers.get(key)
            if expected == "answered":
                if actual in (None, "", []):
                    return False
            elif isinstance(expected, list):
                if actual not in expected:
                    return False
            elif isinstance(expected, dict) and "below" in expected:  # {below: other_step}: a number under another
                other = answers.get(str(expected["below"]))
                if not isinstance(actual, (int, float)) or not isinstance(other, (int, float)) or actual >= other:
                    return False
            elif actual != expected:
                return False
        return True

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: str
    steps: tuple[Step, ...]
    done_message: str = ""
    form: bool = False
    """Offered as one form on platforms with dialogs (a Slack modal, a Teams card form)."""

    def step(self, step_id: str | None) -> Step | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def asked(self, answers: dict[str, Any], context: dict[str, Any] | None = None) -> list[Step]:
        """The steps that apply, given the answers so far and the flow's context."""
        return [step for step in self.steps if step.applies(answers, context)]

    def next_step(
        self, after: str | None, answers: dict[str, Any], context: dict[str, Any] | None = None
    ) -> Step | None:
        """The earliest applicable step without an answer (``after`` is the step just answered).

        Earliest, not merely later than ``after``: a question added to the flow part-way, or one
        that a changed answer made applicable, is asked before the flow can end."""
        for step in self.steps:
            if step.applies(answers, context) and step.id not in answers:
                return step
        return None


class FlowDefinitionError(ValueError):
    """A flow file that does not describe a valid flow."""


def parse_steps(raw_steps: list[dict[str, Any]], source: str, seen: set[str] | None = None) -> list[Step]:
    """Build and check steps from their YAML data (also used for questions coordinators add)."""
    seen = set() if seen is None else seen
    steps = []
    try:
        for raw in raw_steps:
            kind = raw.get("kind", "text")
            if kind not in KINDS:
                raise FlowDefinitionError(f"{source}: step {raw.get('id')!r} has unknown kind {kind!r}")
            if raw["id"] in seen:
                raise FlowDefinitionError(f"{source}: step id {raw['id']!r} is used twice")
            seen.add(raw["id"])
            choices = tuple(StepChoice(str(c["value"]), str(c["label"])) for c in raw.get("choices", []))
            if kind in CHOICE_KINDS and not choices and not raw.get("choices_from"):
                raise FlowDefinitionError(f"{source}: step {raw['id']!r} needs choices")
            steps.append(
                Step(
                    id=raw["id"],
                    kind=kind,
                    prompt=str(raw["prompt"]),
                    label=str(raw.get("label", raw["id"].replace("_", " "))),
                    hint=str(raw.get("hint", "")),
                    required=bool(raw.get("required", True)),
                    min_length=int(raw.get("min_length", 1)),
                    max_length=int(raw.get("max_length", 2000 if kind == "long_text" else 300)),
                    minimum=raw.get("minimum"),
                    maximum=raw.get("maximum"),
                    max_selected=raw.get("max_selected"),
                    choices=choices,
                    when=dict(raw.get("when", {})),
                    after=raw.get("after"),
                    check=raw.get("check"),
                    choices_from=raw.get("choices_from"),
                    button=str(raw.get("button", "")),
                    literal=bool(raw.get("literal", False)),
                    form=_form_role(raw, source),
                )
            )
    except FlowDefinitionError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise FlowDefinitionError(f"{source}: missing or malformed field {exc}") from exc
    return steps


def _form_role(raw: dict[str, Any], source: str) -> str:
    role = str(raw.get("form", ""))
    if role not in ("", "submit"):
        raise FlowDefinitionError(f"{source}: step {raw.get('id')!r} has unknown form role {role!r}")
    if role == "submit" and raw.get("kind") != "yes_no":
        raise FlowDefinitionError(f"{source}: step {raw.get('id')!r} is answered by submitting, so it must be yes_no")
    return role


def parse_flow(data: dict[str, Any], source: str = "<flow>") -> Flow:
    """Build a :class:`Flow` from its YAML data, checking every step."""
    try:
        return Flow(
            id=str(data["id"]),
            version=int(data["version"]),
            title=str(data.get("title", data["id"])),
            steps=tuple(parse_steps(data["steps"], source)),
            done_message=str(data.get("done_message", "")),
            form=bool(data.get("form", False)),
        )
    except FlowDefinitionError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise FlowDefinitionError(f"{source}: missing or malformed field {exc}") from exc


@cache
def load_flow(flow_id: str, directory: Path = FLOW_DIR) -> Flow:
    """Load ``prompts/flows/<flow_id>.yml``."""
    path = directory / f"{flow_id}.yml"
    return parse_flow(read_yaml(path), str(path))

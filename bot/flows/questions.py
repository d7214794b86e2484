"""How a flow step is put to a person: the form field of its question and the buttons that answer it."""

from __future__ import annotations

from typing import Any, get_args

from bot.flows.definition import Step
from bot.flows.values import AnswerValue
from bot.model import Choice, FieldKind, FormField
from bot.wording import say

ANSWER_ACTION = "flow.answer"
_FIELD_KINDS: dict[str, FieldKind] = {
    **{kind: kind for kind in get_args(FieldKind)},
    "cadence": "text",
    "ack": "yes_no",
}
"""The form field asking each kind of step (a cadence is typed; an acknowledgement is a yes)."""


def question_field(step: Step, answers: dict[str, Any]) -> FormField:
    """The step as a form field, with its current answer (if any) filled in."""
    return FormField(
        id=step.id,
        label=step.label,
        kind=_FIELD_KINDS[step.kind],
        required=step.required,
        hint=step.hint,
        choices=[Choice(label=c.label, action=ANSWER_ACTION, value=c.value) for c in step.choices],
        minimum=step.minimum,
        maximum=step.maximum,
        max_selected=step.max_selected,
        max_length=step.max_length if step.kind in ("text", "long_text") else None,
        current=answers.get(step.id),
    )


def answer_buttons(step: Step, instance: str) -> list[Choice]:
    """The buttons that answer the step (its choices, yes and no, or "next"), each naming the flow
    ``instance`` (``flow@instance``) they belong to; none for steps answered by typing."""

    def value(answer: str) -> str:
        return AnswerValue(instance, step.id, answer).encode()

    if step.kind == "choice":
        return [Choice(label=c.label, action=ANSWER_ACTION, value=value(c.value)) for c in step.choices]
    if step.kind == "yes_no":
        return [
            Choice(label=say("input.yes"), action=ANSWER_ACTION, value=value("yes"), style="primary"),
            Choice(label=say("input.no"), action=ANSWER_ACTION, value=value("no")),
        ]
    if step.kind == "ack":
        return [Choice(label=step.button or say("flow.next"), action=ANSWER_ACTION, value=value("ok"), style="primary")]
    return []

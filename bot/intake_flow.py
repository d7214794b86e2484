"""The intake questionnaire itself: its flow with a programme's own questions, its context, the questions
coordinators add, and the values of its buttons. :mod:`bot.intake` runs it; :mod:`bot.returning` offers
last term's answers. Both use this module, which uses neither.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from bot.context import Turn
from bot.domain import Participant, Programme
from bot.flows.definition import Flow, FlowDefinitionError, StepChoice, parse_steps
from bot.payloads import ActionPayload
from bot.values import ValueProblem
from bot.wording import PROMPTS

INTAKE = "intake"
REMINDER = "intake_reminder"
RESUME_ACTION = "intake.resume"
OPEN_ACTION = "intake.open"
EDIT_ACTION = "intake.edit"
PREVIOUS_ACTION = "intake.previous"
QUESTION_KINDS = ("text", "long_text", "integer", "number", "yes_no", "choice", "multi_choice", "date")
MAX_QUESTIONS = 10


@lru_cache(maxsize=1)
def topic_tags() -> list[dict[str, Any]]:
    """The topic tags people pick in the intake (``prompts/library/topic_tags.yml``)."""
    tags: list[dict[str, Any]] = yaml.safe_load((PROMPTS / "library" / "topic_tags.yml").read_text(encoding="utf-8"))
    return tags


def topics_for(programme: Programme | None) -> list[StepChoice]:
    """Topic choices, those of the programme's focus first (a stable order for numbered answers)."""
    focus = programme.focus.value if programme else ""
    tags = sorted(topic_tags(), key=lambda tag: focus not in tag.get("focus", []))
    return [StepChoice(tag["value"], tag["label"]) for tag in tags]


def intake_flow(base: Flow, programme: Programme | None) -> Flow:
    """The base questionnaire with the programme's own questions before the final submit step."""
    if programme is None or not programme.intake_questions:
        return base
    extra = programme.intake_questions
    steps = parse_steps(extra, f"programme {programme.slug} questions", seen={s.id for s in base.steps})
    checksum = zlib.crc32(repr(extra).encode()) % 1000
    return Flow(
        id=base.id,
        version=base.version * 1000 + checksum,
        title=base.title,
        steps=(*base.steps[:-1], *steps, base.steps[-1]),
        form=base.form,
    )


def intake_context(turn: Turn, participant: Participant, programme: Programme) -> dict[str, Any]:
    """The questionnaire's context: whose place it is, their role, what the directory already knows."""
    person = turn.uow.people.get(participant.person_id)
    assert person is not None
    return {
        "key": f"participant-{participant.id}",
        "participant_id": participant.id,
        "programme_id": programme.id,
        "role": participant.role.value,
        "seniority_known": person.seniority is not None,
        "threshold": programme.settings.anonymity_threshold,
        "profile": {
            "title": person.title,
            "department": person.department,
            "location": person.location,
            "time_zone": person.time_zone,
            "working_hours": person.working_hours,
            "seniority": person.seniority,
        },
    }


def question_from_spec(spec: dict[str, Any], number: int) -> dict[str, Any]:
    """Check a question a coordinator adds and turn it into a flow step (raises :class:`ValueProblem`)."""
    text = " ".join(str(spec.get("prompt", "")).split())
    kind = str(spec.get("kind", "text"))
    if not 5 <= len(text) <= 300:
        raise ValueProblem("intake.question_length", length=len(text))
    if kind not in QUESTION_KINDS:
        raise ValueProblem("intake.question_kind", given=kind, kinds=", ".join(QUESTION_KINDS))
    choices = [" ".join(str(c).split()) for c in spec.get("choices", []) if str(c).strip()]
    if kind in ("choice", "multi_choice") and not 2 <= len(choices) <= 12:
        raise ValueProblem("intake.question_choices")
    role = spec.get("role") or None
    if role not in (None, "both", "mentor", "mentee"):
        raise ValueProblem("intake.question_role", given=role)
    step: dict[str, Any] = {
        "id": f"extra_{number}",
        "label": text[:60],
        "kind": kind,
        "prompt": text,
        "literal": True,
        "required": bool(spec.get("required", False)),
    }
    if choices:
        step["choices"] = [{"value": f"c{i}", "label": label} for i, label in enumerate(choices, start=1)]
    if role in ("mentor", "mentee"):
        step["when"] = {"$role": role}
    try:
        parse_steps([step], "question")
    except FlowDefinitionError as exc:
        raise ValueProblem("intake.question_invalid", reason=str(exc)) from exc
    return step


def next_question_number(programme: Programme) -> int:
    """The number the next question a coordinator adds gets."""
    numbers = [int(q["id"].split("_")[1]) for q in programme.intake_questions]
    return max(numbers, default=0) + 1


@dataclass(frozen=True)
class ParticipantValue(ActionPayload):
    """A button about someone's place in a programme: "resume", or a programme picked to answer the intake of."""

    participant: int


@dataclass(frozen=True)
class EditIntakeValue(ActionPayload):
    """A "change" button of a finished intake: the person's place and the question to ask again."""

    participant: int
    step: str


@dataclass(frozen=True)
class PreviousValue(ActionPayload):
    """A button under last term's answers: the person's new place and ``keep`` or ``change``."""

    participant: int
    choice: str

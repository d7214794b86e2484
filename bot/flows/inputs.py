"""Turning a typed answer (or a button's value) into a validated value for a flow step."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.flows.definition import Step
from bot.values import (
    ValueProblem,
    describe_cadence,
    parse_cadence,
    parse_date,
    parse_number,
    parse_time_zone,
    parse_working_hours,
    parse_yes_no,
)
from bot.wording import escape, say


def _choice(step: Step, raw: str, typed: bool = True) -> str:
    """A choice by the number shown beside it (typed answers), or by its value or label."""
    text = raw.strip()
    lowered = text.lower()
    if typed and text.isdecimal() and 1 <= int(text) <= len(step.choices):
        return step.choices[int(text) - 1].value
    for choice in step.choices:
        if lowered in (choice.value.lower(), choice.label.lower()):
            return choice.value
    raise ValueProblem("input.bad_choice", given=raw, options=", ".join(c.label for c in step.choices))


def _choices(step: Step, raw: str, typed: bool = True) -> list[str]:
    parts = [p for p in (part.strip() for part in raw.replace(";", ",").split(",")) if p]
    values: list[str] = []
    for part in parts:
        value = _choice(step, part, typed)
        if value not in values:
            values.append(value)
    return values


def parse_answer(step: Step, raw: Any, answers: dict[str, Any], today: date, typed: bool = True) -> Any:
    """Validate ``raw`` for ``step``; returns a JSON-friendly value or raises :class:`ValueProblem`.

    ``typed`` answers pick choices by their shown number first; button and form answers carry values."""
    if step.kind == "ack":
        return True
    if isinstance(raw, list):
        raw = ", ".join(str(r) for r in raw)
    text = str(raw).strip()
    if not text:
        raise ValueProblem("input.empty")
    kind = step.kind
    if kind in ("text", "long_text"):
        if len(text) < step.min_length:
            raise ValueProblem("input.too_short", minimum=step.min_length)
        if len(text) > step.max_length:
            raise ValueProblem("input.too_long", maximum=step.max_length, length=len(text))
        return text
    if kind in ("integer", "number"):
        return parse_number(text, integer=kind == "integer", minimum=step.minimum, maximum=step.maximum)
    if kind == "date":
        value = parse_date(text)
        if step.after == "today" and value <= today:
            raise ValueProblem("input.date_not_future", given=text)
        if step.after and step.after != "today" and answers.get(step.after):
            earlier = date.fromisoformat(answers[step.after])
            if value <= earlier:
                raise ValueProblem("input.date_not_after", given=text, earlier=earlier.isoformat())
        return value.isoformat()
    if kind == "choice":
        return _choice(step, text, typed)
    if kind == "multi_choice":
        values = _choices(step, text, typed)
        if step.max_selected and len(values) > step.max_selected:
            raise ValueProblem("input.too_many", maximum=step.max_selected)
        return values
    if kind == "rank":
        values = _choices(step, text, typed)
        wanted = min(step.max_selected or 3, len(step.choices))
        if len(values) != wanted:
            raise ValueProblem("input.rank_count", wanted=wanted)
        return values
    if kind == "yes_no":
        return parse_yes_no(text)
    if kind == "time_zone":
        return parse_time_zone(text)
    if kind == "working_hours":
        return parse_working_hours(text)
    if kind == "cadence":
        return parse_cadence(text)
    raise ValueProblem("input.bad_kind", kind=kind)


def show_answer(step: Step, value: Any) -> str:
    """How an answer reads back in a review (neutral markdown: what people typed is escaped)."""
    if value is None:
        return say("input.no_answer")
    if step.kind == "choice":
        return escape(step.choice_label(str(value)))
    if step.kind in ("multi_choice", "rank"):
        return ", ".join(escape(step.choice_label(str(v))) for v in value)
    if step.kind in ("yes_no", "ack"):
        return say("input.yes" if value else "input.no")
    if step.kind == "cadence":
        return describe_cadence(int(value))
    return escape(value)

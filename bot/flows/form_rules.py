"""Checking a submitted form by the questionnaire's own declarative validators: pure, no store, no I/O.

A form built from a flow (:mod:`bot.flows.forms`) carries ``rules``: each field's step in a compact form
(kind, required, lengths, bounds, how many choices, ``after`` and ``when``). An adapter checks a submission
with :func:`check_form` before it is committed to the inbox, so a mistake is shown next to its field at once
(a Slack modal's ``response_action: errors``, a Teams card re-rendered) and nothing is stored; only a
submission without such mistakes is accepted, and the engine then validates it again in full (including the
checks that need the store, such as a unique programme name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.flows.definition import CHOICE_KINDS, KINDS, Step, StepChoice
from bot.flows.inputs import parse_answer
from bot.values import ValueProblem
from bot.wording import say

TEXT_KINDS = ("text", "long_text")
FORM_WORDING = {"input.empty": "flow.form_required", "input.bad_choice": "flow.form_bad_choice"}
"""Re-prompts written for typing in chat, and what a form says instead."""


class FormRulesError(ValueError):
    """Rules that do not describe fields (a form's rules are the bot's own: they never come from people)."""


@dataclass(frozen=True)
class FormCheck:
    """The outcome of checking a submission: the accepted answers, and a message per field that is wrong."""

    answers: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def rule_of(step: Step, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The compact rule of one step (only what differs from a plain required text field)."""
    rule: dict[str, Any] = {"id": step.id, "k": step.kind}
    if not step.required:
        rule["opt"] = 1
    if step.kind in TEXT_KINDS:
        if step.min_length != 1:
            rule["lo"] = step.min_length
        rule["hi"] = step.max_length
    for key, value in (("min", step.minimum), ("max", step.maximum), ("n", step.max_selected), ("a", step.after)):
        if value is not None:
            rule[key] = value
    if step.kind in CHOICE_KINDS:
        rule["c"] = [choice.value for choice in step.choices]
    when = {k: v for k, v in step.when.items() if not k.startswith("$")}  # the context is settled already
    if when:
        rule["w"] = when
    return rule


def step_of(rule: Mapping[str, Any]) -> Step:
    """The step a rule describes (raises :class:`FormRulesError` for anything else)."""
    try:
        kind = str(rule["k"])
        if kind not in KINDS:
            raise FormRulesError(f"unknown kind {kind!r}")
        when = rule.get("w", {})
        if not isinstance(when, dict):
            raise FormRulesError("a condition must be a mapping")
        return Step(
            id=str(rule["id"]),
            kind=kind,
            prompt="",
            required=not rule.get("opt"),
            min_length=int(rule.get("lo", 1)),
            max_length=int(rule.get("hi", 300)),
            minimum=_number(rule.get("min")),
            maximum=_number(rule.get("max")),
            max_selected=int(rule["n"]) if rule.get("n") is not None else None,
            after=str(rule["a"]) if rule.get("a") else None,
            choices=tuple(StepChoice(str(v), str(v)) for v in rule.get("c", [])),
            when=dict(when),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FormRulesError):
            raise
        raise FormRulesError(f"malformed rule: {exc}") from exc


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def blank(value: Any) -> bool:
    """Whether a submitted value is no answer at all (an empty text, selection or list)."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_form(rules: Sequence[Mapping[str, Any]], values: Mapping[str, Any], today: date) -> FormCheck:
    """Check ``values`` (field id to submitted value) against ``rules``, in the form's order.

    A field whose ``when`` does not hold, given the answers before it, is left out (whatever was typed in
    it); one that holds and is required needs an answer. Each answer is validated as if given in chat
    (:func:`~bot.flows.inputs.parse_answer`), but by value, not by the number shown beside an option."""
    if not isinstance(rules, Sequence) or not all(isinstance(rule, Mapping) for rule in rules):
        raise FormRulesError("rules must be a list of mappings")
    answers: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for step in (step_of(rule) for rule in rules):
        if not step.applies(answers):
            continue
        raw = values.get(step.id)
        if blank(raw):
            if step.required:
                key = "flow.form_needed" if step.when else "flow.form_required"
                problems[step.id] = say(key)
            continue
        try:
            answers[step.id] = parse_answer(step, raw, answers, today, typed=False)
        except ValueProblem as problem:
            problems[step.id] = say(FORM_WORDING.get(problem.key, problem.key), **problem.values)
    return FormCheck(answers, problems)

"""``program edit`` without a field, where forms can be shown: the programme's fields as one form, filled in.

The form's questions are those of ``program new`` (``prompts/flows/program_new.yml``), the name checked as
unique among the tenant's other programmes and the goal date allowed to have passed, then the last question
of ``prompts/flows/program_edit.yml``, answered by submitting. Submitted, every field is set at once
(:meth:`~bot.services.programmes.ProgrammeService.edit_fields`, checked together). In the console, and field
by field anywhere, ``program edit FIELD VALUE`` stays (:mod:`bot.commands.programmes`).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from bot.context import Turn
from bot.domain import Focus, Programme
from bot.errors import CommandError
from bot.flows.definition import Flow
from bot.flows.forms import FORM_PLATFORMS
from bot.handling import Handling, OnFlow
from bot.services.programmes import ProgrammeService
from bot.values import ValueProblem
from bot.wording import say

NEW_FLOW, EDIT_FLOW = "program_new", "program_edit"
NAME_CHECK = "other_programme_name"
_ATTRIBUTES = {"cadence": "cadence_days", "goal_lower_better": "goal_direction"}
"""Answers stored under another name than their step's."""


def build(turn: Turn, _context: dict[str, Any]) -> Flow:
    """``program new``'s questions (but its last) and ``program edit``'s own last question."""
    new, own = turn.flows.load(NEW_FLOW), turn.flows.load(EDIT_FLOW)
    steps = []
    for step in new.steps:
        if step.form == "submit":
            continue
        if step.check == "unique_programme_name":
            step = dataclasses.replace(step, check=NAME_CHECK)
        if step.after == "today":  # a goal date of a running programme may have passed
            step = dataclasses.replace(step, after=None)
        steps.append(step)
    return Flow(
        id=EDIT_FLOW, version=new.version * 100 + own.version, title=own.title, steps=(*steps, *own.steps), form=True
    )


def answers_of(programme: Programme) -> dict[str, Any]:
    """The programme's fields as the answers of its form (empty ones left out)."""
    answers: dict[str, Any] = {
        "name": programme.name,
        "focus": programme.focus.value,
        "focus_detail": programme.focus_detail,
        "goal_metric": programme.goal_metric,
        "goal_baseline": programme.goal_baseline,
        "goal_target": programme.goal_target,
        "goal_date": programme.goal_date.isoformat() if programme.goal_date else None,
        "starts_on": programme.starts_on.isoformat() if programme.starts_on else None,
        "ends_on": programme.ends_on.isoformat() if programme.ends_on else None,
        "cadence": programme.cadence_days,
        "session_minutes": programme.session_minutes,
        "expectations": programme.expectations,
    }
    baseline, target = programme.goal_baseline, programme.goal_target
    if baseline is not None and target is not None and target < baseline:
        answers["goal_lower_better"] = programme.settings.goal_direction == "lower"
    return {step: value for step, value in answers.items() if value not in (None, "")}


def edit_as_form(turn: Turn, programme: Programme) -> bool:
    """Open the programme's edit form (False where forms cannot be shown: ``program edit FIELD VALUE`` there)."""
    if turn.tenant.platform not in FORM_PLATFORMS:
        return False
    ProgrammeService.of(turn.uow).coordinated(programme.id, turn.me.id)
    context = {"key": f"programme-{programme.id}", "programme_id": programme.id, "programme_name": programme.name}
    turn.flows.start(turn, EDIT_FLOW, context, answers=answers_of(programme))
    turn.flows.send_form(turn)
    return True


def other_name(turn: Turn, value: Any, _answers: dict[str, Any]) -> None:
    """The ``other_programme_name`` check: no other programme of the tenant has this name."""
    programme_id = turn.state.context.get("programme_id") if turn.state else None
    ProgrammeService.of(turn.uow).check_unique_name(turn.tenant.id, str(value), exclude=programme_id)


def save(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The form is in: set every field at once and say which changed."""
    service = ProgrammeService.of(turn.uow)
    programme = service.coordinated(int(context["programme_id"]), turn.me.id)
    if not answers.get("confirm"):
        turn.reply(say("programme.edit_form_dropped", programme=programme))
        return
    baseline, target = float(answers["goal_baseline"]), float(answers["goal_target"])
    direction = programme.settings.goal_direction if baseline == target else "lower" if target < baseline else "higher"
    changes: dict[str, Any] = {
        "name": answers["name"],
        "focus": Focus(answers["focus"]),
        "focus_detail": answers.get("focus_detail") or "",
        "goal_metric": answers["goal_metric"],
        "goal_baseline": baseline,
        "goal_target": target,
        "goal_direction": direction,
        "goal_date": date.fromisoformat(answers["goal_date"]),
        "starts_on": date.fromisoformat(answers["starts_on"]),
        "ends_on": date.fromisoformat(answers["ends_on"]),
        "cadence_days": answers["cadence"],
        "session_minutes": answers["session_minutes"],
        "expectations": answers.get("expectations") or programme.expectations,
    }
    try:
        changed = service.edit_fields(programme, changes)
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    flow = build(turn, context)
    labels = {_ATTRIBUTES.get(step.id, step.id): step.label for step in flow.steps}
    edited = service.coordinated(programme.id, turn.me.id)
    turn.reply(say("programme.edited_form", programme=edited, fields=[labels.get(a, a) for a in changed]))


HANDLERS: tuple[Handling, ...] = (OnFlow(EDIT_FLOW, save, checks={NAME_CHECK: other_name}, builder=build),)

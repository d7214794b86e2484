"""Every handler the engine runs, gathered from the modules that declare them, and checked at start-up.

Each handler module exports ``HANDLERS`` (see :mod:`bot.handling`). :func:`default_handlers` lists them
in one place; :func:`validate` checks them against the vocabulary and the questionnaires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot import commitment, feedback, grants, intake, returning, team_rating
from bot.commands import calendars as calendar_commands
from bot.commands import (
    clone,
    general,
    invitations,
    matching,
    programme_form,
    programmes,
    rematch,
    reports,
    sessions,
    support,
)
from bot.commands import intake as intake_commands
from bot.flows.definition import FLOW_DIR, load_flow
from bot.handling import HandlerProblem, Handling, OnAction, OnCommand, OnDue, OnFlow
from bot.reports import releases
from bot.sessions import calendar_results, followup, offers

if TYPE_CHECKING:
    from bot.commands.registry import Registry
    from bot.flows.runner import FlowRunner


def default_handlers() -> tuple[Handling, ...]:
    """The handlers of every module of this version, in one tuple."""
    modules = (
        general,
        programmes,
        programme_form,
        intake,
        returning,
        intake_commands,
        invitations,
        matching,
        rematch,
        sessions,
        followup,
        offers,
        calendar_results,
        calendar_commands,
        support,
        feedback,
        team_rating,
        commitment,
        reports,
        releases,
        clone,
        grants,
    )
    return tuple(handling for module in modules for handling in getattr(module, "HANDLERS", ()))


def validate(handlers: Sequence[Handling], registry: Registry, flows: FlowRunner) -> None:
    """Refuse handlers that do not fit: a verb not declared in ``commands.yml`` or declared without a handler,
    a verb, action, job or questionnaire handled twice, or a questionnaire without a handler to complete it
    or with a step naming a check or a choice source that no handler provides. Raises
    :class:`HandlerProblem` listing every problem."""
    problems: list[str] = []
    seen: dict[str, set[str]] = {"verb": set(), "action": set(), "job": set(), "flow": set()}

    def once(kind: str, name: str) -> None:
        if name in seen[kind]:
            problems.append(f"the {kind} {name!r} is handled twice")
        seen[kind].add(name)

    for handling in handlers:
        match handling:
            case OnCommand(verb=verb):
                once("verb", verb)
                if registry.lookup(verb) is None:
                    problems.append(f"the verb {verb!r} has a handler but is not declared in commands.yml")
            case OnAction(action=action):
                once("action", action)
            case OnDue(job=job):
                once("job", job)
            case OnFlow(flow=flow):
                once("flow", flow)
    problems += [
        f"the verb {verb.name!r} is declared in commands.yml but nothing handles it"
        for verb in registry.verbs.values()
        if verb.handler is None
    ]
    for path in sorted(FLOW_DIR.glob("*.yml")):
        if path.stem not in flows.completions:
            problems.append(f"the questionnaire {path.stem!r} ({path.name}) has no handler to complete it")
        for step in load_flow(path.stem).steps:
            if step.check and step.check not in flows.checks:
                problems.append(f"{path.name}: step {step.id!r} names the check {step.check!r}, which nothing provides")
            if step.choices_from and step.choices_from not in flows.sources:
                problems.append(
                    f"{path.name}: step {step.id!r} takes its choices from {step.choices_from!r}, which nothing provides"
                )
    if problems:
        raise HandlerProblem("; ".join(problems))

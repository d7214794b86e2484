"""Handlers declared as data: which verb, button action, scheduled job or questionnaire each function handles.

Every handler module exports ``HANDLERS``, a tuple of these declarations; ``bot.handlers`` gathers them
and the :class:`~bot.engine.Engine` checks them at start-up against the vocabulary in
``prompts/commands.yml`` and the questionnaires in ``prompts/flows/`` (see :func:`bot.handlers.validate`),
so a verb without a handler, an action declared twice or a questionnaire naming a check nobody provides
stops ``rmbot serve`` at once instead of failing a person later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.commands.registry import Args
    from bot.context import Turn
    from bot.domain import Programme
    from bot.flows.definition import Flow, StepChoice
    from bot.model import Action

CommandRun = Callable[["Turn", "Args", "Programme | None"], None]
"""A verb's handler: the turn, the parsed words and options, and the programme a coordinator acts on."""
ActionRun = Callable[["Turn", "Action"], None]
DueRun = Callable[["Turn", dict[str, Any]], None]
Completion = Callable[["Turn", dict[str, Any], dict[str, Any]], None]
"""Called with (turn, answers, flow context) when a questionnaire's last step is answered."""
Check = Callable[["Turn", Any, dict[str, Any]], None]
"""An extra validation named by a step's ``check:``: raises ``ValueProblem`` to ask the step again."""
Builder = Callable[["Turn", dict[str, Any]], "Flow"]
ChoiceSource = Callable[["Turn", dict[str, Any]], "list[StepChoice]"]


@dataclass(frozen=True)
class OnCommand:
    """``verb`` (as declared in ``prompts/commands.yml``) is handled by ``run``."""

    verb: str
    run: CommandRun


@dataclass(frozen=True)
class OnAction:
    """A press of a button whose action id is ``action`` is handled by ``run``."""

    action: str
    run: ActionRun


@dataclass(frozen=True)
class OnDue:
    """A scheduled job of kind ``job`` falling due is handled by ``run``."""

    job: str
    run: DueRun


@dataclass(frozen=True)
class OnFlow:
    """The questionnaire ``flow`` (``prompts/flows/<flow>.yml``, or built by ``builder``) is completed by
    ``complete``; the checks and choice sources its steps name are provided here."""

    flow: str
    complete: Completion
    checks: Mapping[str, Check] = field(default_factory=dict)
    sources: Mapping[str, ChoiceSource] = field(default_factory=dict)
    builder: Builder | None = None


Handling = OnCommand | OnAction | OnDue | OnFlow


class HandlerProblem(RuntimeError):
    """The declared handlers do not fit the vocabulary or the questionnaires (found at start-up)."""

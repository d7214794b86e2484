"""How an answer to the open question is taken: parsed, checked and stored, or the question asked again
with the specific reason; and what is kept when a flow's definition changed under someone part-way."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from bot.context import Turn
from bot.flows.definition import Flow, Step, StepChoice
from bot.flows.forms import FlowForms
from bot.flows.inputs import parse_answer
from bot.flows.questions import question_field
from bot.model import FormField
from bot.values import ValueProblem
from bot.wording import say


class FlowAnswers(FlowForms):
    """Answers to the open flow's questions; :class:`~bot.flows.runner.FlowRunner` builds on it."""

    checks: dict[str, Callable[[Turn, Any, dict[str, Any]], None]]
    sources: dict[str, Callable[[Turn, dict[str, Any]], list[StepChoice]]]

    def _is_current(self, turn: Turn, flow_id: str, step_id: str) -> bool:
        state = turn.state
        if state and state.flow == flow_id and state.step == step_id:
            return True
        turn.outdated = True
        turn.reply(say("flow.stale_answer"))
        if self.active(turn):
            self.ask(turn)
        return False

    def _flow(self, turn: Turn) -> Flow:
        state = turn.state
        assert state is not None and state.flow
        flow = self.build(turn, state.flow, state.context)
        if flow.version != state.flow_version:
            self._migrate(turn, flow)
        return flow

    def _resolved(self, turn: Turn, step: Step) -> Step:
        """The step with its choices filled in from its choice source, when it has one."""
        if not step.choices_from:
            return step
        state = turn.state
        choices = self.sources[step.choices_from](turn, state.context if state else {})
        return dataclasses.replace(step, choices=tuple(choices))

    def _migrate(self, turn: Turn, flow: Flow) -> None:
        """The flow changed under someone part-way through: keep what still fits, say what must be re-asked."""
        state = turn.state
        assert state is not None
        kept = {k: v for k, v in state.answers.items() if flow.step(k) is not None}
        dropped = [k for k in state.answers if k not in kept]
        state.answers, state.history = kept, [h for h in state.history if h in kept]
        state.flow_version = flow.version
        current = flow.step(state.step)
        if current is None or current.id in kept:
            nxt = flow.next_step(None, kept, state.context)
            state.step = nxt.id if nxt else None
        turn.save_state()
        turn.reply(say("flow.version_changed", title=flow.title, dropped=len(dropped)))

    def _answer(self, turn: Turn, raw: Any, typed: bool = True) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        step = flow.step(state.step)
        if step is None:
            self._finish(turn, flow)
            return
        self._accept(turn, flow, self._resolved(turn, step), raw, ask_next=True, typed=typed)

    def _accept(self, turn: Turn, flow: Flow, step: Step, raw: Any, ask_next: bool, typed: bool = True) -> bool:
        """Validate and store one answer; re-ask with the specific reason when it cannot be accepted."""
        state = turn.state
        assert state is not None
        try:
            value = parse_answer(step, raw, state.answers, turn.now.date(), typed=typed)
            if step.check:
                self.checks[step.check](turn, value, state.answers)
        except ValueProblem as problem:
            turn.reply(
                say(problem.key, **problem.values),
                question=self._question(step, state.answers),
                context=[say("flow.retry_hint", example=step.hint)] if step.hint else [],
            )
            return False
        state.answers[step.id] = value
        if step.id in state.history:
            state.history.remove(step.id)
        state.history.append(step.id)
        for later in flow.steps:  # answers to steps that no longer apply are dropped
            if later.id in state.answers and not later.applies(state.answers, state.context):
                del state.answers[later.id]
        nxt = flow.next_step(step.id, state.answers, state.context)
        state.step = nxt.id if nxt else None
        turn.save_state()
        if ask_next:
            self._finish(turn, flow) if nxt is None else self.ask(turn)
        return True

    @staticmethod
    def _question(step: Step, answers: dict[str, Any]) -> FormField:
        return question_field(step, answers)

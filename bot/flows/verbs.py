"""What people can type inside any questionnaire: ``back``, ``skip`` (optional steps), ``review`` (every
answer, each with a button to change it) and ``cancel`` (the flow stops, answers kept, and resumes where it
stopped when run again); and the label/value summary of answers that ``review`` and the intake show."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.context import Turn
from bot.flows.definition import Flow, StepChoice
from bot.flows.inputs import show_answer
from bot.flows.queue import FlowQueue, flow_key, instance_of
from bot.flows.values import EditValue
from bot.model import Choice, Section
from bot.wording import escape, say

FLOW_VERBS = {"back", "skip", "review", "cancel"}
EDIT_ACTION = "flow.edit"


class FlowVerbs(FlowQueue):
    """The verbs of an open questionnaire; :class:`~bot.flows.runner.FlowRunner` builds on it."""

    def _flow(self, turn: Turn) -> Flow:
        raise NotImplementedError

    def _finish(self, turn: Turn, flow: Flow) -> None:
        raise NotImplementedError

    def _suspend(self, turn: Turn) -> None:
        raise NotImplementedError

    def choice_lists(self, turn: Turn, flow: Flow, context: dict[str, Any]) -> dict[str, list[StepChoice]]:
        raise NotImplementedError

    def run_verb(self, turn: Turn, verb: str) -> None:
        """Act on ``verb`` (one of :data:`FLOW_VERBS`) for the open questionnaire."""
        {"back": self._verb_back, "skip": self._verb_skip, "review": self._verb_review, "cancel": self._verb_cancel}[
            verb
        ](turn)

    def _verb_back(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        self._flow(turn)
        if not state.history:
            turn.reply(say("flow.nothing_to_go_back_to"))
        else:
            previous = state.history.pop()
            state.answers.pop(previous, None)
            state.step = previous
            turn.save_state()
        self.ask(turn)

    def _verb_skip(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        step = flow.step(state.step)
        if step is None or step.required:
            turn.reply(say("flow.cannot_skip"))
            self.ask(turn)
            return
        state.answers[step.id] = None
        if step.id not in state.history:
            state.history.append(step.id)
        nxt = flow.next_step(step.id, state.answers, state.context)
        state.step = nxt.id if nxt else None
        turn.save_state()
        self._finish(turn, flow) if nxt is None else self.ask(turn)

    def _verb_review(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        facts = answers_summary(flow, state.answers, state.context, self.choice_lists(turn, flow, state.context))
        instance = instance_of(flow_key(flow.id, state.context))
        edits = [
            Choice(
                label=say("flow.change", label=step.label),
                action=EDIT_ACTION,
                value=EditValue(f"{flow.id}@{instance}", step.id).encode(),
            )
            for step in flow.asked(state.answers, state.context)
            if step.id in state.answers and step.kind != "ack"
        ]
        turn.reply(
            say("flow.review", title=flow.title, count=len(facts)), sections=[Section(fields=facts)], choices=edits
        )
        self.ask(turn)

    def _verb_cancel(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        title = self._flow(turn).title
        self._suspend(turn)
        turn.reply(say("flow.cancelled", title=title))
        self.open_next(turn)


def answers_summary(
    flow: Flow,
    answers: dict[str, Any],
    context: dict[str, Any] | None = None,
    sources: dict[str, list[StepChoice]] | None = None,
) -> list[tuple[str, str]]:
    """Label/value pairs for every answered step, in flow order."""
    facts = []
    for step in flow.steps:
        if step.id in answers and step.kind != "ack" and step.applies(answers, context):
            if step.choices_from and sources and step.choices_from in sources:
                step = dataclasses.replace(step, choices=tuple(sources[step.choices_from]))
            facts.append((escape(step.label), show_answer(step, answers[step.id])))
    return facts

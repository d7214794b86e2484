"""Runs a flow one question at a time, storing progress after every answer.

Progress lives in the person's :class:`~bot.ports.ConversationState` (flow id, version, current step,
answers, the order they were given), saved in the same transaction as the answer, so a restart, a
redeploy or another device resumes at the same question. Inside a flow people can type ``back``,
``skip`` (optional steps), ``review`` and ``cancel``.
"""

from __future__ import annotations

from typing import Any, Callable

from bot.context import Turn
from bot.flows.definition import Flow, Step, load_flow
from bot.flows.inputs import parse_answer, show_answer
from bot.model import Action, Choice, FormField, Section
from bot.values import ValueProblem
from bot.wording import say, wording

Check = Callable[[Turn, Any, dict[str, Any]], None]
"""An extra validation: raises :class:`ValueProblem` to re-ask the step."""
Completion = Callable[[Turn, dict[str, Any], dict[str, Any]], None]
"""Called with (turn, answers, flow context) when the last step is answered."""

FLOW_VERBS = {"back", "skip", "review", "cancel"}
ANSWER_ACTION = "flow.answer"


class FlowRunner:
    """Asks the steps of declared flows and hands complete answers to the flow's owner."""

    def __init__(self, loader: Callable[[str], Flow] = load_flow) -> None:
        self._load = loader
        self.checks: dict[str, Check] = {}
        self.completions: dict[str, Completion] = {}

    def register(self, flow_id: str, completion: Completion, checks: dict[str, Check] | None = None) -> None:
        self.completions[flow_id] = completion
        self.checks.update(checks or {})

    @staticmethod
    def active(turn: Turn) -> bool:
        return bool(turn.state and turn.state.flow)

    def start(self, turn: Turn, flow_id: str, context: dict[str, Any] | None = None,
              answers: dict[str, Any] | None = None, resume: bool = True) -> None:
        """Begin ``flow_id`` for the person in ``turn``, or resume it where they cancelled it."""
        flow = self._load(flow_id)
        state = turn.state
        assert state is not None
        paused = state.context.get("paused") if not state.flow else None
        if resume and paused and paused.get("flow") == flow_id and paused.get("context") == (context or {}):
            state.flow, state.flow_version, state.step = flow_id, paused["version"], paused["step"]
            state.answers, state.history, state.context = paused["answers"], paused["history"], paused["context"]
            turn.save_state()
            turn.reply(say("flow.resumed", title=flow.title, count=len(state.answers)))
            self.ask(turn)
            return
        state.flow, state.flow_version = flow.id, flow.version
        state.answers, state.history = dict(answers or {}), []
        state.context = dict(context or {})
        first = flow.next_step(None, state.answers)
        state.step = first.id if first else None
        turn.save_state()
        self.ask(turn, intro=True)

    def handle_text(self, turn: Turn, text: str) -> None:
        """An answer, or one of the flow verbs, typed while a flow is open."""
        verb = text.strip().lower()
        if verb in FLOW_VERBS:
            getattr(self, f"_verb_{verb}")(turn)
            return
        self._answer(turn, text)

    def handle_action(self, turn: Turn, action: Action) -> None:
        """A button or select answer: ``value`` is ``flow:step:answer``."""
        flow_id, _, rest = action.value.partition(":")
        step_id, _, raw = rest.partition(":")
        state = turn.state
        if not state or state.flow != flow_id or state.step != step_id:
            turn.reply(say("flow.stale_answer"))
            if self.active(turn):
                self.ask(turn)
            return
        self._answer(turn, raw if raw or not action.values else action.values.get(step_id, ""))

    def _flow(self, turn: Turn) -> Flow:
        state = turn.state
        assert state is not None and state.flow
        flow = self._load(state.flow)
        if flow.version != state.flow_version:
            self._migrate(turn, flow)
        return flow

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
            nxt = flow.next_step(None, kept)
            state.step = nxt.id if nxt else None
        turn.save_state()
        turn.reply(say("flow.version_changed", title=flow.title, dropped=len(dropped)))

    def _answer(self, turn: Turn, raw: Any) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        step = flow.step(state.step)
        if step is None:
            self._finish(turn, flow)
            return
        try:
            value = parse_answer(step, raw, state.answers, turn.now.date())
            if step.check:
                self.checks[step.check](turn, value, state.answers)
        except ValueProblem as problem:
            turn.reply(say(problem.key, **problem.values), question=self._question(step, state.answers),
                       context=[say("flow.retry_hint", example=step.hint)] if step.hint else [])
            return
        state.answers[step.id] = value
        if step.id in state.history:
            state.history.remove(step.id)
        state.history.append(step.id)
        # Answers to later steps that no longer apply (their condition changed) are dropped.
        for later in flow.steps:
            if later.id in state.answers and not later.applies(state.answers):
                del state.answers[later.id]
        nxt = flow.next_step(step.id, state.answers)
        state.step = nxt.id if nxt else None
        turn.save_state()
        if nxt is None:
            self._finish(turn, flow)
        else:
            self.ask(turn)

    def _finish(self, turn: Turn, flow: Flow) -> None:
        state = turn.state
        assert state is not None
        answers, context = dict(state.answers), dict(state.context)
        state.flow, state.step, state.answers, state.history, state.context = None, None, {}, [], {}
        turn.save_state()
        self.completions[flow.id](turn, answers, context)

    def ask(self, turn: Turn, intro: bool = False) -> None:
        """Send the current step's question."""
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        step = flow.step(state.step)
        if step is None:
            self._finish(turn, flow)
            return
        asked = [s for s in flow.steps if s.applies(state.answers)]
        position = next((i for i, s in enumerate(asked, start=1) if s.id == step.id), len(asked))
        text = wording().render_source(step.prompt, answers=state.answers, context=state.context)
        if intro:
            text = say("flow.intro", title=flow.title, count=len(asked)) + "\n\n" + text
        choices = [Choice(label=c.label, action=ANSWER_ACTION, value=f"{flow.id}:{step.id}:{c.value}")
                   for c in step.choices] if step.kind == "choice" else []
        if step.kind == "yes_no":
            choices = [Choice(label=say("input.yes"), action=ANSWER_ACTION, value=f"{flow.id}:{step.id}:yes",
                              style="primary"),
                       Choice(label=say("input.no"), action=ANSWER_ACTION, value=f"{flow.id}:{step.id}:no")]
        hints = [say("flow.progress", position=position, total=len(asked), optional=not step.required)]
        turn.reply(text, choices=choices, question=self._question(step, state.answers), context=hints)

    @staticmethod
    def _question(step: Step, answers: dict[str, Any]) -> FormField:
        kind = step.kind if step.kind != "cadence" else "text"
        return FormField(id=step.id, label=step.label, kind=kind, required=step.required, hint=step.hint,
                         choices=[Choice(label=c.label, action=ANSWER_ACTION, value=c.value) for c in step.choices],
                         minimum=step.minimum, maximum=step.maximum, max_selected=step.max_selected,
                         current=answers.get(step.id))

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
        state.history.append(step.id)
        nxt = flow.next_step(step.id, state.answers)
        state.step = nxt.id if nxt else None
        turn.save_state()
        if nxt is None:
            self._finish(turn, flow)
        else:
            self.ask(turn)

    def _verb_review(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        facts = answers_summary(flow, state.answers)
        turn.reply(say("flow.review", title=flow.title, count=len(facts)), sections=[Section(fields=facts)])
        self.ask(turn)

    def _verb_cancel(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        paused = {"flow": flow.id, "version": state.flow_version, "step": state.step, "answers": state.answers,
                  "history": state.history, "context": state.context}
        state.flow, state.step, state.answers, state.history = None, None, {}, []
        state.context = {"paused": paused}
        turn.save_state()
        turn.reply(say("flow.cancelled", title=flow.title))


def answers_summary(flow: Flow, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """Label/value pairs for every answered step, in flow order."""
    return [(s.label, show_answer(s, answers[s.id])) for s in flow.steps if s.id in answers]


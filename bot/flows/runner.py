"""Runs a flow one question at a time, storing progress after every answer.

Progress lives in the person's :class:`~bot.ports.ConversationState` (flow id, version, current step,
answers, the order they were given), saved in the same transaction as the answer, so a restart, a
redeploy or another device resumes at the same question. Inside a flow people can type ``back``,
``skip`` (optional steps), ``review`` (every answer, each with a button to change it) and ``cancel``
(the flow stops, answers kept, and resumes where it stopped when run again): ``bot/flows/verbs.py``.

One questionnaire is open at a time. One the bot opens while another is open waits in the person's
queue (``ConversationState.waiting``) and opens by itself when the current one ends; one the person asks
for opens at once and the current one waits at the front of the queue. A waiting questionnaire whose
``expires_at`` passes is closed with a notice. Buttons name their flow instance, so a button always
answers the questionnaire its message belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.context import Turn
from bot.flows.answering import FlowAnswers
from bot.flows.definition import Flow, StepChoice, load_flow
from bot.flows.forms import FORM_ACTION
from bot.flows.inputs import parse_answer
from bot.flows.questions import ANSWER_ACTION, answer_buttons
from bot.flows.queue import EXPIRY_JOB, flow_key, instance_of
from bot.flows.values import AnswerValue, EditValue
from bot.flows.verbs import FLOW_VERBS
from bot.model import Action, Form
from bot.values import ValueProblem
from bot.wording import say

__all__ = ["ANSWER_ACTION", "FORM_ACTION", "Builder", "Check", "ChoiceSource", "Completion", "FlowRunner"]

Check = Callable[[Turn, Any, dict[str, Any]], None]
"""An extra validation: raises :class:`ValueProblem` to re-ask the step."""
Completion = Callable[[Turn, dict[str, Any], dict[str, Any]], None]
"""Called with (turn, answers, flow context) when the last step is answered."""
Builder = Callable[[Turn, dict[str, Any]], Flow]
"""Builds the flow for a context (for example a programme's intake with its own added questions)."""
ChoiceSource = Callable[[Turn, dict[str, Any]], list[StepChoice]]


class FlowRunner(FlowAnswers):
    """Asks the steps of declared flows and hands complete answers to the flow's owner."""

    def __init__(self, loader: Callable[[str], Flow] = load_flow) -> None:
        self.load = loader
        self.checks: dict[str, Check] = {}
        self.completions: dict[str, Completion] = {}
        self.builders: dict[str, Builder] = {}
        self.sources: dict[str, ChoiceSource] = {}

    def register(
        self,
        flow_id: str,
        completion: Completion,
        checks: dict[str, Check] | None = None,
        builder: Builder | None = None,
        sources: dict[str, ChoiceSource] | None = None,
    ) -> None:
        """Declare who completes ``flow_id`` and the checks, builder and choice sources it uses."""
        self.completions[flow_id] = completion
        self.checks.update(checks or {})
        self.sources.update(sources or {})
        if builder is not None:
            self.builders[flow_id] = builder

    def build(self, turn: Turn, flow_id: str, context: dict[str, Any]) -> Flow:
        builder = self.builders.get(flow_id)
        return builder(turn, context) if builder else self.load(flow_id)

    def start(
        self,
        turn: Turn,
        flow_id: str,
        context: dict[str, Any] | None = None,
        answers: dict[str, Any] | None = None,
        at_step: str | None = None,
        nudge: bool = False,
        expires_at: datetime | None = None,
    ) -> None:
        """Begin ``flow_id`` (or resume it where it stopped); ``at_step`` re-asks one answer.

        ``nudge``: the bot opens it, so it waits its turn behind an open questionnaire; otherwise the
        person asked for it and it opens at once, the open one waiting at the front of the queue.
        ``expires_at``: when it closes unanswered (with a notice to the person)."""
        state = turn.state
        assert state is not None
        context = dict(context or {})
        if expires_at is not None:
            context["expires_at"] = expires_at.isoformat()
        key = flow_key(flow_id, context)
        if expires_at is not None:
            turn.uow.schedule.add(
                turn.tenant.id,
                EXPIRY_JOB,
                expires_at,
                {"person_id": turn.me.id, "key": key},
                key=f"flow-expiry:{turn.me.id}:{key}"[:300],
            )
        if state.flow and self.current_key(turn) != key:
            if nudge:
                self._enqueue(turn, flow_id, context)
                return
            self._wait_current(turn)
        elif state.flow:
            self._suspend(turn)
        self._open(turn, flow_id, context, answers, at_step, kind="nudge" if nudge else "reply")

    def _open(
        self,
        turn: Turn,
        flow_id: str,
        context: dict[str, Any],
        answers: dict[str, Any] | None,
        at_step: str | None,
        kind: str,
        ask: bool = True,
    ) -> None:
        """Make ``flow_id`` the open flow: resumed from the queue or from ``cancel``, or new."""
        state = turn.state
        assert state is not None
        key = flow_key(flow_id, context)
        flow = self.build(turn, flow_id, context)
        saved = state.suspended.pop(key, None) or self._take_waiting(turn, key)
        if saved and saved.get("version") is None:  # it waited without being opened yet
            context, saved = {**saved.get("context", {}), **context}, None
        if saved and answers is None:
            context = {**saved.get("context", {}), **context}
            state.flow, state.flow_version, state.step = flow_id, saved["version"], saved["step"]
            state.answers, state.history, state.context = saved["answers"], saved["history"], context
            turn.save_state()
            if at_step is None:
                turn.reply(say("flow.resumed", title=flow.title, count=len(state.answers)))
        else:
            state.flow, state.flow_version, state.context = flow.id, flow.version, context
            state.answers, state.history = dict(answers or {}), []
            first = flow.next_step(None, state.answers, context)
            state.step = first.id if first else None
        if at_step is not None and flow.step(at_step) is not None:
            state.step = at_step
        turn.save_state()
        if ask:
            self.ask(turn, intro=not saved and answers is None, kind=kind, offer=bool(saved) and answers is None)

    def _suspend(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None and state.flow
        self.put_aside(turn, state.flow, state.context, state.answers, state.step, state.history, state.flow_version)
        self._close_current(turn)

    def put_aside(
        self,
        turn: Turn,
        flow_id: str,
        context: dict[str, Any],
        answers: dict[str, Any],
        step: str | None,
        history: list[str] | None = None,
        version: int | None = None,
    ) -> None:
        """Keep a flow's answers so that starting it again resumes at ``step``."""
        state = turn.state
        assert state is not None
        if version is None:
            version = self.build(turn, flow_id, context).version
        state.suspended[flow_key(flow_id, context)] = {
            "version": version,
            "step": step,
            "answers": answers,
            "history": history or list(answers),
            "context": context,
        }
        turn.save_state()

    def suspended(self, turn: Turn, flow_id: str, context: dict[str, Any]) -> dict[str, Any] | None:
        """The put-aside progress of a flow, if any."""
        return turn.state.suspended.get(flow_key(flow_id, context)) if turn.state else None

    def offers(self, turn: Turn, text: str) -> bool:
        """True when ``text`` picks one of the options the open question shows (so it is an answer)."""
        return self.would_take(turn, text, kinds=("choice", "multi_choice", "rank", "yes_no"))

    def would_take(self, turn: Turn, text: str, kinds: tuple[str, ...] | None = None) -> bool:
        """True when the open question (of one of ``kinds``, if given) would accept ``text`` as its answer;
        free text takes anything."""
        state = turn.state
        if not state or not state.flow:
            return False
        step = self._flow(turn).step(state.step)
        if step is None or (kinds is not None and step.kind not in kinds):
            return False
        try:
            parse_answer(self._resolved(turn, step), text, state.answers, turn.now.date())
        except ValueProblem:
            return False
        return True

    def handle_text(self, turn: Turn, text: str) -> None:
        """An answer, or one of the flow verbs, typed while a flow is open."""
        verb = text.strip().lower()
        if verb in FLOW_VERBS:
            self.run_verb(turn, verb)
            return
        self._answer(turn, text)

    def handle_action(self, turn: Turn, action: Action) -> None:
        """A button or select answer (:class:`AnswerValue`)."""
        pressed = AnswerValue.decode(action.value)
        flow_id, _, instance = pressed.flow.partition("@")
        step_id, raw = pressed.step, pressed.answer
        key = self.current_key(turn)
        if instance and (key is None or instance_of(key) != instance):
            self.switch_to(turn, instance, ask=False)
        if not self._is_current(turn, flow_id, step_id):
            return
        self._answer(turn, raw if raw or not action.values else action.values.get(step_id, ""), typed=False)

    def handle_edit(self, turn: Turn, action: Action) -> None:
        """A "change this answer" button from ``review``: ask that step again."""
        pressed = EditValue.decode(action.value)
        flow_id, _, instance = pressed.flow.partition("@")
        step_id = pressed.step
        key = self.current_key(turn)
        if instance and (key is None or instance_of(key) != instance):
            self.switch_to(turn, instance, ask=False)
        state = turn.state
        assert state is not None
        flow = self._flow(turn) if state.flow == flow_id else None
        if flow is None or flow.step(step_id) is None:
            turn.outdated = True
            turn.reply(say("flow.stale_answer"))
            if self.active(turn):
                self.ask(turn)
            return
        state.step = step_id
        turn.save_state()
        self.ask(turn)

    def handle_form(self, turn: Turn, action: Action) -> None:
        """Several answers at once (a dialog): each is validated in order; the first bad one is re-asked."""
        state = turn.state
        if not self.active(turn) or state is None or (action.value and state.flow != action.value):
            turn.outdated = True
            turn.reply(say("flow.stale_answer"))
            return
        flow = self._flow(turn)
        for step in flow.asked(state.answers, state.context):
            if step.id not in action.values or step.id in state.answers:
                continue
            state.step = step.id
            if not self._accept(
                turn, flow, self._resolved(turn, step), action.values[step.id], ask_next=False, typed=False
            ):
                return
        nxt = flow.next_step(None, state.answers, state.context)
        state.step = nxt.id if nxt else None
        turn.save_state()
        self._finish(turn, flow) if nxt is None else self.ask(turn)

    def as_form(self, turn: Turn) -> Form:
        """Every question still open in the current flow, as one form (for platforms with dialogs)."""
        state = turn.state
        assert state is not None and state.flow
        flow = self._flow(turn)
        fields = [
            self._question(self._resolved(turn, step), state.answers)
            for step in flow.asked(state.answers, state.context)
            if step.id not in state.answers and step.kind != "ack"
        ]
        return Form(action=FORM_ACTION, title=flow.title, fields=fields, submit_label=say("flow.submit"))

    def choice_lists(self, turn: Turn, flow: Flow, context: dict[str, Any]) -> dict[str, list[StepChoice]]:
        """The choices of every choice source the flow uses, resolved for this context."""
        names = {step.choices_from for step in flow.steps if step.choices_from}
        return {name: self.sources[name](turn, context) for name in names}

    def _finish(self, turn: Turn, flow: Flow) -> None:
        state = turn.state
        assert state is not None
        answers, context = dict(state.answers), dict(state.context)
        self._close_current(turn)
        self.completions[flow.id](turn, answers, context)
        self.open_next(turn)

    def ask(self, turn: Turn, intro: bool = False, kind: str = "reply", offer: bool = False) -> None:
        """Send the current step's question (after the offer of a form, when it opens or ``offer``)."""
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        step = flow.step(state.step)
        if step is None:
            self._finish(turn, flow)
            return
        step = self._resolved(turn, step)
        asked = flow.asked(state.answers, state.context)
        position = next((i for i, s in enumerate(asked, start=1) if s.id == step.id), len(asked))
        text = self.prompt_of(turn, step)
        if intro:
            lessons = all(s.kind == "ack" for s in asked)
            text = (
                say("flow.lessons_intro" if lessons else "flow.intro", title=flow.title, count=len(asked))
                + "\n\n"
                + text
            )
        instance = f"{flow.id}@{instance_of(flow_key(flow.id, state.context))}"
        choices = answer_buttons(step, instance)
        if intro or offer:
            self.offer_form(turn, flow, kind)
        hints = (
            []
            if step.kind == "ack"
            else [say("flow.progress", position=position, total=len(asked), optional=not step.required)]
        )
        turn.reply(text, choices=choices, question=self._question(step, state.answers), context=hints, kind=kind)

"""A questionnaire as one form, on platforms with dialogs (a Slack modal, a Teams card form).

A flow declared with ``form: true`` (the intake, ``program new``) is offered as a form when it opens or
resumes there: a "Fill in the form" button next to the first question. Pressing it sends the form: every
question that applies to the person (conditions on answers shown as optional fields that become needed),
the answers already given in chat filled in, and the fields' declarative validators as ``rules`` so the
adapter checks a submission before accepting it (:mod:`bot.flows.form_rules`). The step declared
``form: submit`` (the final "submit?" question) is answered yes by submitting.

A submission is taken whole: checked again with the same rules and the flow's own checks (those that need
the store), then every answer is stored at once and the flow completes as it would in chat. Should
something still be wrong (a name taken meanwhile), the good answers are kept and the first bad one is asked
in chat, with its reason. The console, and anyone who prefers it, answers one question at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.context import Turn
from bot.flows.definition import Flow, Step
from bot.flows.form_rules import blank, check_form, rule_of
from bot.flows.queue import flow_key, instance_of
from bot.flows.verbs import FlowVerbs
from bot.model import Action, Choice, Form, FormField, Platform
from bot.payloads import ActionPayload
from bot.values import ValueProblem, describe_cadence
from bot.wording import escape, say, wording

FORM_ACTION = "flow.form"
OPEN_FORM_ACTION = "flow.open_form"
FORM_PLATFORMS = frozenset({Platform.SLACK.value, Platform.TEAMS.value})
"""Platforms that show a form as a dialog or a card form; elsewhere (the console) questions come one by one."""


@dataclass(frozen=True)
class FormValue(ActionPayload):
    """A "Fill in the form" button: the questionnaire instance (``flow@instance``) to send as a form."""

    instance: str


def _context_applies(step: Step, context: dict[str, Any]) -> bool:
    """Whether the step's conditions on the flow's context (``$role``...) hold; answers are not looked at."""
    own = {k: v for k, v in step.when.items() if k.startswith("$")}
    return dataclasses.replace(step, when=own).applies({}, context)


class FlowForms(FlowVerbs):
    """Forms of declared flows; :class:`~bot.flows.runner.FlowRunner` builds on it."""

    checks: dict[str, Callable[[Turn, Any, dict[str, Any]], None]]

    def _resolved(self, turn: Turn, step: Step) -> Step:
        raise NotImplementedError

    def _question(self, step: Step, answers: dict[str, Any]) -> FormField:
        raise NotImplementedError

    def _accept(self, turn: Turn, flow: Flow, step: Step, raw: Any, ask_next: bool, typed: bool = True) -> bool:
        raise NotImplementedError

    def handle_form(self, turn: Turn, action: Action) -> None:
        raise NotImplementedError

    @staticmethod
    def prompt_of(turn: Turn, step: Step) -> str:
        """A step's question as shown (a coordinator's own text literally; else its template, rendered)."""
        state = turn.state
        assert state is not None
        if step.literal:
            return escape(step.prompt)
        return wording().render_source(step.prompt, answers=state.answers, context=state.context)

    def _instance(self, turn: Turn, flow: Flow) -> str:
        assert turn.state is not None
        return f"{flow.id}@{instance_of(flow_key(flow.id, turn.state.context))}"

    def offer_form(self, turn: Turn, flow: Flow, kind: str = "reply") -> None:
        """Offer the open flow as a form, when it is declared as one and the platform shows forms."""
        if not flow.form or turn.tenant.platform not in FORM_PLATFORMS or turn.state is None:
            return
        answered = sum(1 for step in self._form_steps(turn, flow) if turn.state.answers.get(step.id) is not None)
        turn.reply(
            say("flow.form_offer", title=flow.title, answered=answered),
            choices=[
                Choice(
                    label=say("flow.form_button"),
                    action=OPEN_FORM_ACTION,
                    value=FormValue(self._instance(turn, flow)).encode(),
                    style="primary",
                )
            ],
            kind="nudge" if kind == "nudge" else "reply",
        )

    def _form_steps(self, turn: Turn, flow: Flow) -> list[Step]:
        """The steps a form shows: those whose context conditions hold, but acknowledgements and ``submit``."""
        assert turn.state is not None
        return [
            step
            for step in flow.steps
            if step.kind != "ack" and step.form != "submit" and _context_applies(step, turn.state.context)
        ]

    def form_of(self, turn: Turn) -> Form:
        """The open flow as one form: its questions, the answers given so far, and their rules."""
        state = turn.state
        assert state is not None and state.flow
        flow = self._flow(turn)
        fields: list[FormField] = []
        rules: list[dict[str, Any]] = []
        for step in self._form_steps(turn, flow):
            resolved = self._resolved(turn, step)
            field = self._question(resolved, state.answers)
            if step.kind == "cadence" and isinstance(field.current, int):  # typed, so shown as words it reads
                field = field.model_copy(update={"current": describe_cadence(field.current)})
            if any(not key.startswith("$") for key in step.when):  # needed only with some answers
                field = field.model_copy(update={"required": False})
            elif step.kind == "yes_no":  # its label alone says too little (what the directory has, what is asked)
                field = field.model_copy(update={"hint": self.prompt_of(turn, resolved)})
            fields.append(field)
            rules.append(rule_of(resolved))
        return Form(
            action=FORM_ACTION,
            title=flow.title,
            fields=fields,
            submit_label=say("flow.submit"),
            value=self._instance(turn, flow),
            rules=rules,
        )

    def handle_open_form(self, turn: Turn, action: Action) -> None:
        """The "Fill in the form" button: send the questionnaire it belongs to as a form."""
        if self._bring_up(turn, FormValue.decode(action.value).instance):
            self.send_form(turn)

    def send_form(self, turn: Turn) -> None:
        """Send the open flow as a form (a Slack modal opens with the event's trigger; a Teams card form)."""
        form = self.form_of(turn)
        answered = sum(1 for f in form.fields if f.current is not None)
        turn.reply(say("flow.form_sent", title=form.title, answered=answered), form=form)

    def _bring_up(self, turn: Turn, instance: str) -> bool:
        """Make the flow ``instance`` (``flow@instance``) the open one; False (and said) when it is gone."""
        flow_id, _, short = instance.partition("@")
        key = self.current_key(turn)
        if key is None or instance_of(key) != short:
            self.switch_to(turn, short, ask=False)
        key = self.current_key(turn)
        state = turn.state
        if state is not None and state.flow == flow_id and key is not None and instance_of(key) == short:
            return True
        turn.reply(say("flow.stale_answer"))
        if self.active(turn):
            self.ask(turn)
        return False

    def handle_submitted(self, turn: Turn, action: Action) -> None:
        """A submitted form: every answer checked and stored at once, then the flow completes."""
        if "@" not in action.value:  # a form naming only its flow: its answers are taken one by one
            self.handle_form(turn, action)
            return
        if not self._bring_up(turn, action.value):
            return
        state = turn.state
        assert state is not None
        flow = self._flow(turn)
        form = self.form_of(turn)
        checked = check_form(form.rules, action.values, turn.now.date())
        answers = {k: v for k, v in state.answers.items() if flow.step(k) is not None}
        steps = {step.id: step for step in self._form_steps(turn, flow)}
        for step_id, step in steps.items():
            answers.pop(step_id, None)
            if step_id in checked.answers:
                answers[step_id] = checked.answers[step_id]
            elif step_id not in checked.problems and not step.required and step.applies(checked.answers, state.context):
                answers[step_id] = None  # left blank: skipped
        problems = dict(checked.problems)
        for step_id, value in checked.answers.items():
            check = steps[step_id].check
            if check and step_id not in problems:
                try:
                    self.checks[check](turn, value, answers)
                except ValueProblem as problem:
                    problems[step_id] = say(problem.key, **problem.values)
                    answers.pop(step_id, None)
        if problems:
            self._fix_in_chat(turn, flow, answers, action, next(iter(problems)))
            return
        for step in flow.steps:
            if step.form == "submit" and step.applies(answers, state.context):
                answers[step.id] = True
        state.answers = answers
        state.history = [step.id for step in flow.steps if step.id in answers]
        nxt = flow.next_step(None, answers, state.context)
        state.step = nxt.id if nxt else None
        turn.save_state()
        turn.reply(say("flow.form_taken", title=flow.title))
        self._finish(turn, flow) if nxt is None else self.ask(turn)

    def _fix_in_chat(self, turn: Turn, flow: Flow, answers: dict[str, Any], action: Action, first: str) -> None:
        """Keep the good answers of a form and ask its first bad one in chat, with the reason."""
        state = turn.state
        assert state is not None
        state.answers = answers
        state.history = [step.id for step in flow.steps if step.id in answers]
        state.step = first
        turn.save_state()
        turn.reply(say("flow.form_fix_in_chat", title=flow.title))
        step = flow.step(first)
        assert step is not None
        raw = action.values.get(first)
        self._accept(turn, flow, self._resolved(turn, step), "" if blank(raw) else raw, ask_next=True, typed=False)

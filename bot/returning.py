"""Returning people: someone who answered the intake of the programme a clone came from confirms it.

When a participant of a cloned programme says yes, and they completed the intake of the programme it was
cloned from (or of an earlier one in the chain), they are shown last term's answers, only to them, as a
review, with two buttons: "These are still right" (the answers are kept; only questions that are new for
this programme or their role are asked) and "Change some" (every answer with a button to change it, then
submit: only the answers they change are asked). Answers that no longer hold (an "available from" date
that has passed) are not carried. Someone who was forgotten (``forget-me``) left no answers and is not
returning; a new person with the same email is a newcomer.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, Protocol

from bot.context import Turn
from bot.domain import Participant, ParticipantStatus, Programme
from bot.errors import CommandError, Outdated
from bot.flows.definition import Flow
from bot.flows.queue import flow_key, instance_of
from bot.flows.values import EditValue
from bot.flows.verbs import EDIT_ACTION, answers_summary
from bot.handling import OnAction
from bot.intake_flow import INTAKE, PREVIOUS_ACTION, PreviousValue, intake_context
from bot.model import Action, Choice, Section
from bot.ports import UnitOfWork
from bot.wording import say


class IntakeSteps(Protocol):
    """What returning needs of the intake: its questionnaire for a context, opening it, completing it."""

    def build(self, turn: Turn, context: dict[str, Any]) -> Flow: ...

    def open(self, turn: Turn, participant: Participant, programme: Programme) -> None: ...

    def complete(self, turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None: ...


KEEP, CHANGE = "keep", "change"
MAX_CHAIN = 50


@dataclasses.dataclass(frozen=True)
class Previous:
    """Where a returning person answered the intake before: the programme and their place in it."""

    source: Programme
    place: Participant


def previous_place(uow: UnitOfWork, participant: Participant, programme: Programme) -> Previous | None:
    """The latest programme up the clone chain whose intake this person completed (None: a newcomer)."""
    person = uow.people.get(participant.person_id)
    if person is None or person.opted_out:
        return None
    source_id, seen = programme.cloned_from_id, {programme.id}
    while source_id is not None and source_id not in seen and len(seen) < MAX_CHAIN:
        seen.add(source_id)
        source = uow.programmes.get(source_id)
        if source is None or source.tenant_id != programme.tenant_id:
            return None
        place = uow.participants.find(source.id, person.id)
        if place is not None and place.intake_completed_at is not None and place.intake:
            return Previous(source, place)
        source_id = source.cloned_from_id
    return None


def carried_answers(flow: Flow, earlier: dict[str, Any], context: dict[str, Any], today: date) -> dict[str, Any]:
    """Last term's answers that still fit this intake: its steps, this role, dates still ahead."""
    answers: dict[str, Any] = {}
    for step in flow.steps:
        if step.id == "submit" or step.id not in earlier or not step.applies(answers, context):
            continue
        value = earlier[step.id]
        if step.kind == "date" and step.after == "today" and value and date.fromisoformat(str(value)) <= today:
            if step.required:
                continue  # asked again
            value = None  # it has passed: no longer a constraint
        answers[step.id] = value
    return answers


def missing_steps(flow: Flow, answers: dict[str, Any], context: dict[str, Any]) -> list[str]:
    """The questions that apply and have no carried answer (new for this programme or this role)."""
    return [s.id for s in flow.asked(answers, context) if s.id not in answers and s.id != "submit"]


def carry_onboarding(uow: UnitOfWork, participant: Participant, context: dict[str, Any], now: datetime) -> None:
    """A returning person in the same role read the introduction last term: they need not read it again."""
    earlier = uow.participants.get(int(context.get("returning_from") or 0))
    if (
        earlier is not None
        and earlier.person_id == participant.person_id
        and earlier.role == participant.role
        and earlier.onboarded_at is not None
    ):
        participant.onboarded_at = now


def in_progress(turn: Turn, key: str) -> bool:
    """Whether this intake is already open, waiting its turn, or stopped with ``cancel``."""
    state = turn.state
    if state is None:
        return False
    current = flow_key(state.flow, state.context) if state.flow else None
    return current == key or key in state.suspended or any(entry.get("key") == key for entry in state.waiting)


class Returning:
    """Offers last term's answers and handles the two buttons, for the intake."""

    def __init__(self, intake: IntakeSteps) -> None:
        self.intake = intake

    def handlers(self) -> tuple[OnAction, ...]:
        """The two buttons under last term's answers."""
        return (OnAction(PREVIOUS_ACTION, self._answer),)

    def offer(self, turn: Turn, participant: Participant, programme: Programme, previous: Previous) -> None:
        """Show the person (only them) last term's answers, with "still right" and "change some"."""
        context = {**intake_context(turn, participant, programme), "returning_from": previous.place.id}
        flow, answers = self._carried(turn, context, previous)
        turn.reply(
            say(
                "intake.returning",
                programme=programme,
                source=previous.source,
                profile=context["profile"],
                new=len(missing_steps(flow, answers, context)),
            ),
            sections=[Section(fields=self._facts(turn, flow, answers, context))],
            choices=[
                Choice(
                    label=say("intake.returning_keep"),
                    action=PREVIOUS_ACTION,
                    value=PreviousValue(participant.id, KEEP).encode(),
                    style="primary",
                ),
                Choice(
                    label=say("intake.returning_change"),
                    action=PREVIOUS_ACTION,
                    value=PreviousValue(participant.id, CHANGE).encode(),
                ),
            ],
        )

    def _carried(self, turn: Turn, context: dict[str, Any], previous: Previous) -> tuple[Flow, dict[str, Any]]:
        flow = self.intake.build(turn, context)
        return flow, carried_answers(flow, previous.place.intake, context, turn.now.date())

    def _facts(self, turn: Turn, flow: Flow, answers: dict[str, Any], context: dict[str, Any]) -> list[tuple[str, str]]:
        lists = turn.flows.choice_lists(turn, flow, context)
        return answers_summary(flow, answers, context, lists)

    def _answer(self, turn: Turn, action: Action) -> None:
        pressed = PreviousValue.decode(action.value)
        choice = pressed.choice
        participant = turn.uow.participants.get(pressed.participant)
        if participant is None or participant.person_id != turn.me.id or choice not in (KEEP, CHANGE):
            raise CommandError("consent.not_yours")
        programme = turn.uow.programmes.get(participant.programme_id)
        assert programme is not None
        flows = turn.flows
        context = intake_context(turn, participant, programme)
        if participant.intake_completed_at is not None:  # an old button: the answers were confirmed already
            raise Outdated("intake.returning_answered", programme=programme)
        if participant.status == ParticipantStatus.ACTIVE and in_progress(turn, flow_key(INTAKE, context)):
            raise Outdated("intake.returning_in_progress", programme=programme)  # one of the two was pressed
        previous = previous_place(turn.uow, participant, programme)
        if (
            participant.status != ParticipantStatus.ACTIVE
            or previous is None  # forgotten since: the whole intake
            or in_progress(turn, flow_key(INTAKE, context))
        ):
            self.intake.open(turn, participant, programme)
            return
        context["returning_from"] = previous.place.id
        flow, answers = self._carried(turn, context, previous)
        missing = missing_steps(flow, answers, context)
        if choice == KEEP and not missing:
            self.intake.complete(turn, {**answers, "submit": True}, context)
            return
        if choice == KEEP:
            turn.reply(say("intake.returning_new_questions", count=len(missing)))
        else:
            instance = instance_of(flow_key(INTAKE, context))
            edits = [
                Choice(
                    label=say("flow.change", label=step.label),
                    action=EDIT_ACTION,
                    value=EditValue(f"{INTAKE}@{instance}", step.id).encode(),
                )
                for step in flow.asked(answers, context)
                if step.id in answers and step.kind != "ack"
            ]
            turn.reply(
                say("intake.returning_pick", programme=programme, new=len(missing)),
                sections=[Section(fields=self._facts(turn, flow, answers, context))],
                choices=edits,
            )
        flows.start(turn, INTAKE, context, answers=answers)

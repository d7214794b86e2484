"""The intake questionnaire and the onboarding that follows it, per participant.

The questionnaire is ``prompts/flows/intake.yml`` plus the questions a programme's coordinators add;
the onboarding is ``prompts/flows/onboarding_<role>.yml``. Answers are stored on the participant when
submitted; unfinished intakes are reminded inside the person's working hours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.context import Turn
from bot.domain import Participant, ParticipantStatus, Programme, Role
from bot.flows.definition import Flow, StepChoice
from bot.flows.queue import flow_key
from bot.flows.verbs import answers_summary
from bot.handling import Handling, OnAction, OnDue, OnFlow
from bot.intake_flow import (
    EDIT_ACTION,
    INTAKE,
    REMINDER,
    RESUME_ACTION,
    EditIntakeValue,
    ParticipantValue,
    intake_context,
    intake_flow,
    topics_for,
)
from bot.model import Action, Address, Choice, Section
from bot.returning import Returning, carry_onboarding, in_progress, previous_place
from bot.timing import next_working_moment
from bot.values import describe_cadence
from bot.wording import say


class Intake:
    """Starts, completes and reminds intakes and onboarding. It keeps no state: one instance, ``INTAKE_SERVICE``,
    serves every turn (the questionnaires come from ``turn.flows``)."""

    def __init__(self) -> None:
        self.returning = Returning(self)

    def handlers(self) -> tuple[Handling, ...]:
        """What the intake handles: its questionnaire, the onboarding of each role, reminders, resume buttons."""
        return (
            OnFlow(INTAKE, self.complete, builder=self.build, sources={"topics": self._topics}),
            *(OnFlow(f"onboarding_{role.value}", self._onboarded) for role in Role),
            OnDue(REMINDER, self._remind),
            OnAction(RESUME_ACTION, self._resume),
            *self.returning.handlers(),
        )

    def build(self, turn: Turn, context: dict[str, Any]) -> Flow:
        """The intake of the context's programme: the base questionnaire and the programme's own questions."""
        programme = turn.uow.programmes.get(context.get("programme_id", 0))
        return intake_flow(turn.flows.load(INTAKE), programme)

    def _topics(self, turn: Turn, context: dict[str, Any]) -> list[StepChoice]:
        return topics_for(turn.uow.programmes.get(context.get("programme_id", 0)))

    def start(self, turn: Turn, participant: Participant, programme: Programme) -> None:
        """Open (or resume) the participant's intake in their chat; a returning person is first shown
        last term's answers to confirm (:mod:`bot.returning`)."""
        context = intake_context(turn, participant, programme)
        if not in_progress(turn, flow_key(INTAKE, context)):
            previous = previous_place(turn.uow, participant, programme)
            if previous is not None:
                self.returning.offer(turn, participant, programme, previous)
                return
        turn.flows.start(turn, INTAKE, context)

    def edit(self, turn: Turn, participant: Participant, programme: Programme, step: str) -> None:
        """Re-ask one answer of a submitted intake; the change is saved as soon as it is answered."""
        answers = {**participant.intake, "submit": True}
        turn.flows.start(turn, INTAKE, intake_context(turn, participant, programme), answers=answers, at_step=step)

    def schedule_reminder(self, turn: Turn, participant: Participant, programme: Programme, number: int) -> None:
        if number > programme.settings.intake_reminders:
            return
        person = turn.uow.people.get(participant.person_id)
        assert person is not None
        due = next_working_moment(
            turn.now + timedelta(days=programme.settings.intake_reminder_days), person.time_zone, person.working_hours
        )
        turn.uow.schedule.add(
            turn.tenant.id,
            REMINDER,
            due,
            {"participant_id": participant.id, "number": number},
            key=f"intake-reminder:{participant.id}:{number}",
        )

    def nudge(self, turn: Turn, participant: Participant, programme: Programme, key: str) -> None:
        """Send an intake reminder with a button to carry on."""
        turn.message(
            Address.person(participant.person_id),
            say(key, programme=programme),
            choices=[
                Choice(
                    label=say("intake.continue_label"),
                    action=RESUME_ACTION,
                    value=ParticipantValue(participant.id).encode(),
                    style="primary",
                )
            ],
            programme_id=programme.id,
            kind="nudge",
        )

    def _remind(self, turn: Turn, payload: dict[str, Any]) -> None:
        participant = turn.uow.participants.get(int(payload.get("participant_id", 0)))
        if participant is None or participant.status != ParticipantStatus.ACTIVE or participant.intake_completed_at:
            return
        programme = turn.uow.programmes.get(participant.programme_id)
        assert programme is not None
        self.nudge(turn, participant, programme, "intake.reminder")
        participant.intake_reminders += 1
        turn.uow.participants.save(participant)
        self.schedule_reminder(turn, participant, programme, int(payload.get("number", 1)) + 1)

    def _resume(self, turn: Turn, action: Action) -> None:
        participant = turn.uow.participants.get(ParticipantValue.decode(action.value).participant)
        if participant is None or participant.person_id != turn.me.id:
            turn.reply(say("consent.not_yours"))
            return
        programme = turn.uow.programmes.get(participant.programme_id)
        assert programme is not None
        self.open(turn, participant, programme)

    def open(self, turn: Turn, participant: Participant, programme: Programme) -> None:
        """``intake`` for one programme: resume it, or show the submitted answers with change buttons."""
        if participant.status != ParticipantStatus.ACTIVE:
            turn.reply(say("intake.not_active", programme=programme, status=participant.status.value))
            return
        if not participant.intake_completed_at:
            self.start(turn, participant, programme)
            return
        flows = turn.flows
        context = intake_context(turn, participant, programme)
        flow = self.build(turn, context)
        facts = answers_summary(flow, participant.intake, context, flows.choice_lists(turn, flow, context))
        changes = [
            Choice(
                label=say("flow.change", label=step.label),
                action=EDIT_ACTION,
                value=EditIntakeValue(participant.id, step.id).encode(),
            )
            for step in flow.asked(participant.intake, context)
            if step.id in participant.intake and step.kind not in ("ack",) and step.id != "submit"
        ]
        turn.reply(
            say("intake.submitted_answers", programme=programme, count=len(facts)),
            sections=[Section(fields=facts)],
            choices=changes,
        )

    def complete(self, turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        """The intake's answers are in: store them (or keep them unsubmitted), then the onboarding if needed."""
        participant = turn.uow.participants.get(context["participant_id"])
        programme = turn.uow.programmes.get(context["programme_id"])
        assert participant is not None and programme is not None
        if not answers.get("submit"):
            turn.flows.put_aside(
                turn, INTAKE, context, {k: v for k, v in answers.items() if k != "submit"}, step="submit"
            )
            turn.reply(say("intake.not_submitted", programme=programme))
            return
        first_time = participant.intake_completed_at is None
        participant.intake = {k: v for k, v in answers.items() if k != "submit"}
        participant.intake_version = self.build(turn, context).version
        participant.intake_completed_at = participant.intake_completed_at or turn.now
        if first_time and participant.onboarded_at is None:
            carry_onboarding(turn.uow, participant, context, turn.now)
        turn.uow.participants.save(participant)
        self._update_person(turn, participant, answers)
        turn.uow.schedule.cancel(f"intake-reminder:{participant.id}:")
        if not first_time:
            turn.reply(say("intake.updated", programme=programme))
            return
        ready = participant.onboarded_at is not None
        turn.reply(say("intake.done", programme=programme, role=participant.role.value, ready=ready))
        if not ready:
            self.start_onboarding(turn, participant, programme)

    def start_onboarding(self, turn: Turn, participant: Participant, programme: Programme) -> None:
        """Open the role's onboarding in the participant's chat (after the intake, or after an import)."""
        turn.flows.start(
            turn,
            f"onboarding_{participant.role.value}",
            {
                "key": f"participant-{participant.id}",
                "participant_id": participant.id,
                "minutes": programme.session_minutes,
                "cadence": describe_cadence(programme.cadence_days),
            },
        )

    def _update_person(self, turn: Turn, participant: Participant, answers: dict[str, Any]) -> None:
        """What the person corrected about themselves in the intake goes back to their record."""
        person = turn.uow.people.get(participant.person_id)
        assert person is not None
        for field in ("time_zone", "working_hours", "seniority"):
            if answers.get(field) is not None:
                setattr(person, field, answers[field])
        gender = answers.get("gender")
        if gender and gender != "prefer_not":
            person.gender = answers.get("gender_words") or gender if gender == "self_describe" else gender
        turn.uow.people.save(person)

    def _onboarded(self, turn: Turn, _answers: dict[str, Any], context: dict[str, Any]) -> None:
        participant = turn.uow.participants.get(context["participant_id"])
        assert participant is not None
        programme = turn.uow.programmes.get(participant.programme_id)
        participant.onboarded_at = participant.onboarded_at or turn.now
        turn.uow.participants.save(participant)
        turn.reply(say("intake.onboarded", programme=programme, role=participant.role.value))


INTAKE_SERVICE = Intake()
"""The intake, as every handler and the recruitment use it."""
HANDLERS = INTAKE_SERVICE.handlers()

"""Pulses after sessions, midpoint and final surveys, and coordinator check-ins: the conversations.

Pulse and survey answers reach coordinators only as aggregates (see the reports); a comment is shown
with its author's consent only. Check-in answers go to the coordinator by name, and people are told so.
The use cases live in :class:`bot.services.feedback.FeedbackService`; these handlers open the
questionnaires, store what they collect through it, and answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import Outdated
from bot.handling import Handling, OnAction, OnCommand, OnDue, OnFlow
from bot.model import Action, Address, Choice
from bot.payloads import ActionPayload
from bot.services.feedback import (
    CHECKIN,
    CHECKIN_JOB,
    PULSE,
    PULSE_REMINDER,
    SURVEY,
    SURVEY_JOB,
    Asked,
    FeedbackService,
    closes,
)
from bot.sessions.circles import Circle
from bot.wording import say

__all__ = [
    "CHECKIN_JOB",
    "HANDLERS",
    "PULSE_ACTION",
    "PULSE_REMINDER",
    "SURVEY_JOB",
    "PulseValue",
    "remind_pulses",
    "schedule_pulse_reminders",
    "send_pulse_reminder",
    "start_pulse",
]

PULSE_ACTION = "pulse.start"


@dataclass(frozen=True)
class PulseValue(ActionPayload):
    """The "Give feedback" button: the session to rate."""

    session: int


def start_pulse(turn: Turn, circle: Circle, session_id: int, nudge: bool = False) -> None:
    """Open the pulse for ``session_id`` with the acting person, unless they have given it."""
    me = turn.me
    if FeedbackService.of(turn.uow).pulse_given(me.id, session_id):
        return
    turn.flows.start(
        turn,
        PULSE,
        {
            "key": f"pulse-{session_id}",
            "session_id": session_id,
            "circle": circle.key,
            "others": ", ".join(o.name for o in circle.others(me.id)),
        },
        nudge=nudge,
    )


def schedule_pulse_reminders(turn: Turn, circle: Circle, session_id: int) -> None:
    """One reminder for an unanswered pulse, two days after the follow-up."""
    FeedbackService.of(turn.uow).schedule_pulse_reminders(circle, session_id, turn.now)


def send_pulse_reminder(turn: Turn, person_id: int, session_id: int, programme_id: int) -> None:
    """A nudge with a button that opens the pulse for ``session_id``."""
    button = Choice(
        label=say("feedback.pulse_label"), action=PULSE_ACTION, value=PulseValue(session_id).encode(), style="primary"
    )
    turn.message(
        Address.person(person_id),
        say("feedback.pulse_reminder"),
        choices=[button],
        programme_id=programme_id,
        kind="nudge",
    )


def remind_pulses(turn: Turn, programme: Programme) -> int:
    """``remind pulse``: nudge each active participant who owes a pulse (once, for their latest held session)."""
    owed = FeedbackService.of(turn.uow).owed_pulses(programme)
    for person_id, session_id in owed.items():
        send_pulse_reminder(turn, person_id, session_id, programme.id)
    return len(owed)


def pulse_button(turn: Turn, action: Action) -> None:
    """The "Give feedback" button: open the pulse of its session, if it is the person's to give."""
    value = PulseValue.decode(action.value)
    service = FeedbackService.of(turn.uow)
    circle, session = service.session_to_rate(turn.me.id, value.session)
    if service.pulse_given(turn.me.id, session.id):
        raise Outdated("feedback.already_given")
    start_pulse(turn, circle, session.id)


def feedback_verb(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``feedback``: the pulse of the latest held session not rated yet."""
    circle, session_id = FeedbackService.of(turn.uow).pulse_owed(turn.me.id, turn.tenant.id)
    start_pulse(turn, circle, session_id)


def pulse_reminder(turn: Turn, payload: dict[str, Any]) -> None:
    """The reminder job: nudge once more if the pulse is still owed."""
    person_id = int(payload.get("person_id", 0))
    session = FeedbackService.of(turn.uow).reminder_owed(person_id, int(payload.get("session_id", 0)))
    if session is not None:
        send_pulse_reminder(turn, person_id, session.id, session.programme_id)


def _open_for_each(turn: Turn, asked: Asked, flow: str, context: dict[str, Any], expires: datetime | None) -> None:
    """Open ``flow`` for each person asked (each with their role in the context), as a nudge."""
    for participant, person in asked.people:
        turn.flows.start(
            turn.as_person(person),
            flow,
            {**context, "role": participant.role.value},
            nudge=True,
            expires_at=expires,
        )


def survey_due(turn: Turn, payload: dict[str, Any]) -> None:
    """The midpoint or final survey falls due: open it for everyone taking part who has not answered."""
    subject = str(payload.get("subject"))
    asked = FeedbackService.of(turn.uow).survey_due(int(payload.get("programme_id", 0)), subject)
    if asked is None:
        return
    programme = asked.programme
    context = {
        "key": f"survey-{programme.id}-{subject}",
        "programme_id": programme.id,
        "subject": subject,
        "metric": programme.goal_metric or programme.name,
        "intro": say(f"feedback.survey_intro_{subject}", programme=programme),
    }
    _open_for_each(turn, asked, SURVEY, context, closes(programme))


def checkin_due(turn: Turn, payload: dict[str, Any]) -> None:
    """A check-in falls due: open it for everyone taking part (the next one is scheduled)."""
    number = int(payload.get("number", 1))
    asked = FeedbackService.of(turn.uow).checkin_due(int(payload.get("programme_id", 0)), number, turn.now)
    if asked is None:
        return
    programme = asked.programme
    context = {
        "key": f"checkin-{programme.id}-{number}",
        "programme_id": programme.id,
        "subject": f"checkin-{number}",
        "programme": programme.name,
    }
    _open_for_each(turn, asked, CHECKIN, context, turn.now + timedelta(days=programme.settings.checkin_days))


def save_pulse(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The pulse is answered."""
    FeedbackService.of(turn.uow).record_pulse(turn.me.id, answers, context)
    turn.reply(say("feedback.pulse_thanks"))


def save_survey(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """A survey is answered."""
    FeedbackService.of(turn.uow).record_survey(turn.me.id, answers, context)
    turn.reply(say("feedback.survey_thanks"))


def save_checkin(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """A check-in is answered: its coordinators read it, by name."""
    programme, coordinators = FeedbackService.of(turn.uow).record_checkin(turn.me.id, answers, context)
    for person_id in coordinators:
        turn.message(
            Address.person(person_id),
            say("feedback.checkin_to_coordinator", name=turn.me.name, programme=programme, answers=answers),
            about=[turn.me.id],
        )
    turn.reply(say("feedback.checkin_thanks"))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("feedback", feedback_verb),
    OnAction(PULSE_ACTION, pulse_button),
    OnDue(PULSE_REMINDER, pulse_reminder),
    OnDue(SURVEY_JOB, survey_due),
    OnDue(CHECKIN_JOB, checkin_due),
    OnFlow(PULSE, save_pulse),
    OnFlow(SURVEY, save_survey),
    OnFlow(CHECKIN, save_checkin),
)

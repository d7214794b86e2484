"""Around each session: the agenda, the reminder, and afterwards what happened, action items and goals.

The scheduled jobs are handled here (``HANDLERS``); the buttons the follow-up offers are read in
:mod:`bot.commands.sessions`, and an answer is recorded by :class:`bot.services.sessions.SessionsService`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.context import Turn
from bot.domain import PairStatus
from bot.feedback import schedule_pulse_reminders, start_pulse
from bot.handling import Handling, OnDue
from bot.model import Address, Choice
from bot.ports import SessionsRepository
from bot.sessions.agenda import send_agenda
from bot.sessions.buttons import NEXT_ACTION, OUTCOME_ACTION, NextSessionValue, OutcomeValue
from bot.sessions.circles import Circle, circle_by_key, circle_now
from bot.sessions.model import Session, SessionStatus
from bot.sessions.scheduling import JOBS, offer_slots, offer_state
from bot.sessions.slots import local_moment
from bot.wording import say

AGENDA_JOB, REMINDER_JOB, FOLLOWUP_JOB = JOBS
ACTION_ITEMS_FLOW = "action_items"
GOALS_FLOW = "pair_goals"
OUTCOMES = ("held", "moved", "cancelled_me", "cancelled_them", "no_show")


def _live(turn: Turn, payload: dict[str, Any]) -> tuple[Session, Circle] | None:
    """The session a job is about, if it is still scheduled at the time the job was made for."""
    session = turn.uow.sessions.get(int(payload.get("session_id", 0)))
    if session is None or session.status != SessionStatus.SCHEDULED:
        return None
    if int(payload.get("version", -1)) != session.ics_sequence:
        return None
    circle = circle_by_key(turn.uow, session.circle)
    return (session, circle) if circle else None


def next_session(
    sessions: SessionsRepository, circle: Circle, now: datetime, after: Session | None = None
) -> Session | None:
    """The circle's next session still scheduled and ahead (after ``after``, when given)."""
    upcoming = [
        s
        for s in sessions.of_circle(circle.key)
        if s.status == SessionStatus.SCHEDULED and s.starts_at > now and (after is None or s.sequence > after.sequence)
    ]
    return upcoming[0] if upcoming else None


def carry_on(turn: Turn, circle: Circle, last: Session) -> None:
    """No session follows ``last`` but the term has room for one: the pair is offered times for the next
    (once; an offer already open stands), and confirming one carries the series on to the term's end."""
    programme = circle.programme
    room = (
        programme.ends_on is None or last.starts_at.date() + timedelta(days=programme.cadence_days) <= programme.ends_on
    )
    active = all(p.status == PairStatus.ACTIVE for p in circle.pairs)
    if room and active and not offer_state(circle):
        offer_slots(turn, circle, carry_on=True)


def on_agenda(turn: Turn, payload: dict[str, Any]) -> None:
    """The agenda job: the agenda to the mentor and the preparation to the mentees."""
    found = _live(turn, payload)
    if found:
        send_agenda(turn, found[1], found[0])


def on_reminder(turn: Turn, payload: dict[str, Any]) -> None:
    """The reminder job: everyone in the circle is reminded, in their own time zone."""
    found = _live(turn, payload)
    if not found:
        return
    session, circle = found
    for member in circle.members:
        person = circle.person(member)
        turn.message(
            Address.person(person.id),
            say(
                "sessions.reminder",
                others=[o.name for o in circle.others(person.id)],
                when=local_moment(session.starts_at, person.time_zone),
                minutes=session.minutes,
            ),
            programme_id=circle.programme.id,
        )


def on_followup(turn: Turn, payload: dict[str, Any]) -> None:
    """The follow-up job: everyone is asked what happened, and the pulse reminders are scheduled."""
    found = _live(turn, payload)
    if not found:
        return
    session, circle = found
    for member in circle.members:
        person = circle.person(member)
        turn.message(
            Address.person(person.id),
            say(
                "sessions.followup",
                others=[o.name for o in circle.others(person.id)],
                when=local_moment(session.starts_at, person.time_zone),
            ),
            choices=[
                Choice(
                    label=say(f"sessions.outcome_{o}"),
                    action=OUTCOME_ACTION,
                    value=OutcomeValue(session.id, o).encode(),
                )
                for o in OUTCOMES
            ],
            programme_id=circle.programme.id,
        )

    schedule_pulse_reminders(turn, circle, session.id)


def pulse(turn: Turn, circle_key: str, session_id: int) -> None:
    """The pulse about session ``session_id`` to the person in ``turn``, if they are still in its circle."""

    circle = circle_now(turn.uow, circle_key, turn.me.id, turn.tenant.id)
    if circle is not None:
        start_pulse(turn, circle, session_id)


def offer_next(turn: Turn, circle_key: str, session: Session) -> None:
    """After ``session``: the person in ``turn`` keeps or moves the next one, or, with none ahead, the pair is
    offered times to carry on."""
    circle = circle_now(turn.uow, circle_key, turn.me.id, turn.tenant.id)
    upcoming = next_session(turn.uow.sessions, circle, turn.now, session) if circle else None
    if upcoming is None:
        if circle is not None:
            carry_on(turn, circle, session)
        return
    turn.reply(
        say("sessions.next_is", when=local_moment(upcoming.starts_at, turn.me.time_zone)),
        choices=[
            Choice(
                label=say("sessions.keep_label"),
                action=NEXT_ACTION,
                value=NextSessionValue(upcoming.id, "keep").encode(),
                style="primary",
            ),
            Choice(
                label=say("sessions.move_label"),
                action=NEXT_ACTION,
                value=NextSessionValue(upcoming.id, "move").encode(),
            ),
        ],
    )


def resolve(answers: list[tuple[str, str]]) -> SessionStatus:
    """The session's status from every member's current answer (side, answer).

    The rule: a cancellation (either side says it was cancelled) wins; otherwise "held" if anyone says
    it happened; otherwise "missed" if anyone says the other didn't show up. "We moved it" leaves the
    session scheduled (a new time is being agreed)."""
    said = {answer for _side, answer in answers}
    if said & {"cancelled_me", "cancelled_them"}:
        return SessionStatus.CANCELLED
    if "held" in said:
        return SessionStatus.HELD
    if "no_show" in said:
        return SessionStatus.MISSED
    return SessionStatus.SCHEDULED


def conflicting(answers: dict[str, str]) -> bool:
    """Whether the people of a session disagree on whether it happened (answers by person id)."""
    said = set(answers.values())
    return "held" in said and bool(said & {"cancelled_me", "cancelled_them", "no_show"})


def uncertain_side(circle: Circle, my_side: str, answer: str) -> bool:
    """Whether an answer about the others may name the wrong side: a mentee in a group saying "they"."""
    return answer in ("cancelled_them", "no_show") and my_side == "mentee" and len(circle.mentees) > 1


def tell_conflicts(turn: Turn, circle: Circle) -> None:
    """Coordinators see how many sessions have disagreeing answers: a count, never who said what."""
    count = sum(1 for s in turn.uow.sessions.of_programme(circle.programme.id) if conflicting(s.outcome))
    for person_id in turn.uow.coordinators.of_programme(circle.programme.id):
        turn.message(
            Address.person(person_id),
            say("sessions.outcome_conflicts", programme=circle.programme, count=count),
        )


HANDLERS: tuple[Handling, ...] = (
    OnDue(AGENDA_JOB, on_agenda),
    OnDue(REMINDER_JOB, on_reminder),
    OnDue(FOLLOWUP_JOB, on_followup),
)

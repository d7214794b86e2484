"""Pulses after sessions, midpoint and final surveys, and coordinator check-ins.

Pulse and survey answers reach coordinators only as aggregates (see the reports); a comment is shown
with its author's consent only. Check-in answers go to the coordinator by name, and people are told so.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.context import Turn
from bot.domain import PairStatus, ParticipantStatus, Programme
from bot.errors import CommandError, required
from bot.model import Action, Address, Choice
from bot.reports.releases import schedule_next
from bot.sessions.circles import Circle, circle_by_key, circles_of, circles_of_person
from bot.sessions.model import NewFeedback, SessionStatus
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

PULSE, SURVEY, CHECKIN, TEAM = "pulse", "survey", "checkin", "team_rating"
TEAM_JOB = "team_survey"
PULSE_ACTION = "pulse.start"
PULSE_REMINDER, SURVEY_JOB, CHECKIN_JOB = "pulse_reminder", "programme_survey", "programme_checkin"


def target_turn(turn: Turn, person_id: int) -> Turn:
    """A turn for someone other than the actor (the bot starting a conversation with them)."""
    return Turn(
        event=turn.event,
        uow=turn.uow,
        tenant=turn.tenant,
        now=turn.now,
        flows=turn.flows,
        commands=turn.commands,
        person=turn.uow.people.get(person_id),
        state=turn.uow.conversations.load(turn.tenant.id, person_id),
        sent=turn.sent,
    )


def start_pulse(engine: Engine, turn: Turn, circle: Circle, session_id: int, nudge: bool = False) -> None:
    me = turn.me
    if turn.uow.feedback.exists(me.id, PULSE, f"session:{session_id}"):
        return
    engine.flows.start(
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


def schedule_programme_rhythm(turn: Turn, programme: Programme) -> None:
    """Midpoint and final surveys and the first check-in, once per programme (idempotent by key)."""
    if programme.starts_on and programme.ends_on:
        middle = programme.starts_on + (programme.ends_on - programme.starts_on) / 2
        final = programme.ends_on - timedelta(days=3)
        for subject, day in (("midpoint", middle), ("final", final)):
            moment = datetime.combine(day, time(9, 0), UTC)
            if moment > turn.now:
                turn.uow.schedule.add(
                    turn.tenant.id,
                    SURVEY_JOB,
                    moment,
                    {"programme_id": programme.id, "subject": subject},
                    key=f"survey:{programme.id}:{subject}",
                )
    turn.uow.schedule.add(
        turn.tenant.id,
        TEAM_JOB,
        turn.now,
        {"programme_id": programme.id, "phase": "baseline"},
        key=f"team:{programme.id}:baseline",
    )
    if programme.ends_on:
        end = datetime.combine(programme.ends_on - timedelta(days=3), time(9, 0), UTC)
        if end > turn.now:
            turn.uow.schedule.add(
                turn.tenant.id,
                TEAM_JOB,
                end,
                {"programme_id": programme.id, "phase": "end"},
                key=f"team:{programme.id}:end",
            )
    schedule_next(turn.uow, programme, turn.now)  # figures are released at fixed points from now on
    first = turn.now + timedelta(days=programme.settings.checkin_days)
    turn.uow.schedule.add(
        turn.tenant.id, CHECKIN_JOB, first, {"programme_id": programme.id, "number": 1}, key=f"checkin:{programme.id}:1"
    )


def install(engine: Engine) -> None:
    def save_pulse(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        # The pulse belongs to its session: the circle may have changed since (a member's place ended).
        session = required(turn.uow.sessions.get(int(context["session_id"])), "session", context["session_id"])
        me = turn.me
        mentor = turn.uow.participants.get(session.mentor_id)
        role = "mentor" if mentor is not None and mentor.person_id == me.id else "mentee"
        turn.uow.feedback.add(
            NewFeedback(
                programme_id=session.programme_id,
                person_id=me.id,
                role=role,
                kind=PULSE,
                subject=f"session:{context['session_id']}",
                session_id=context["session_id"],
                answers=answers,
                share_comment=bool(answers.get("share")),
            )
        )
        turn.reply(say("feedback.pulse_thanks"))

    def save_survey(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        turn.uow.feedback.add(
            NewFeedback(
                programme_id=context["programme_id"],
                person_id=turn.me.id,
                role=context["role"],
                kind=context["subject"],
                subject=context["subject"],
                answers=answers,
                share_comment=bool(answers.get("share")),
            )
        )
        turn.reply(say("feedback.survey_thanks"))

    def save_checkin(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        programme = turn.uow.programmes.get(context["programme_id"])
        assert programme is not None
        turn.uow.feedback.add(
            NewFeedback(
                programme_id=programme.id,
                person_id=turn.me.id,
                role=context["role"],
                kind=CHECKIN,
                subject=context["subject"],
                answers=answers,
                share_comment=True,
            )
        )
        for person_id in turn.uow.coordinators.of_programme(programme.id):
            turn.message(
                Address.person(person_id),
                say("feedback.checkin_to_coordinator", name=turn.me.name, programme=programme, answers=answers),
                about=[turn.me.id],
            )
        turn.reply(say("feedback.checkin_thanks"))

    def save_team_rating(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        turn.uow.feedback.add(
            NewFeedback(
                programme_id=context["programme_id"],
                person_id=turn.me.id,
                role="team",
                kind=f"team_{context['phase']}",
                subject=f"{context['phase']}:{context['mentee']}",
                answers={"rating": answers["rating"]},
            )
        )
        turn.reply(say("feedback.team_thanks"))

    engine.flows.register(TEAM, save_team_rating)
    engine.flows.register(PULSE, save_pulse)
    engine.flows.register(SURVEY, save_survey)
    engine.flows.register(CHECKIN, save_checkin)

    @engine.on_action(PULSE_ACTION)
    def pulse_button(turn: Turn, action: Action) -> None:
        session = turn.uow.sessions.get(int(action.value)) if action.value.isdigit() else None
        circle = circle_by_key(turn.uow, session.circle) if session else None
        if session is None or circle is None or turn.me.id not in {m.person_id for m in circle.members}:
            raise CommandError("sessions.not_your_session")
        if turn.uow.feedback.exists(turn.me.id, PULSE, f"session:{session.id}"):
            turn.reply(say("feedback.already_given"))
            return
        start_pulse(engine, turn, circle, session.id)

    @engine.registry.handles("feedback")
    def feedback_verb(turn: Turn, _args: Any, _programme: Programme | None) -> None:
        for circle in circles_of_person(turn.uow, turn.me.id, turn.tenant.id):
            held = [s for s in turn.uow.sessions.of_circle(circle.key) if s.status == SessionStatus.HELD]
            for session in reversed(held):
                if not turn.uow.feedback.exists(turn.me.id, PULSE, f"session:{session.id}"):
                    start_pulse(engine, turn, circle, session.id)
                    return
        raise CommandError("feedback.nothing_to_rate")

    @engine.on_due(PULSE_REMINDER)
    def pulse_reminder(turn: Turn, payload: dict[str, Any]) -> None:
        session = turn.uow.sessions.get(int(payload.get("session_id", 0)))
        person_id = int(payload.get("person_id", 0))
        if session is None or session.status != SessionStatus.HELD:
            return
        if turn.uow.feedback.exists(person_id, PULSE, f"session:{session.id}"):
            return
        send_pulse_reminder(turn, person_id, session.id, session.programme_id)

    @engine.on_due(SURVEY_JOB)
    def survey(turn: Turn, payload: dict[str, Any]) -> None:
        programme = turn.uow.programmes.get(int(payload.get("programme_id", 0)))
        if programme is None:
            return
        subject = str(payload.get("subject"))
        for participant in taking_part(turn, programme):
            if turn.uow.feedback.exists(participant.person_id, subject, subject):
                continue
            engine.flows.start(
                target_turn(turn, participant.person_id),
                SURVEY,
                {
                    "key": f"survey-{programme.id}-{subject}",
                    "programme_id": programme.id,
                    "subject": subject,
                    "role": participant.role.value,
                    "metric": programme.goal_metric or programme.name,
                    "intro": say(f"feedback.survey_intro_{subject}", programme=programme),
                },
                nudge=True,
                expires_at=closes(programme),
            )

    @engine.on_due(CHECKIN_JOB)
    def checkin(turn: Turn, payload: dict[str, Any]) -> None:
        programme = turn.uow.programmes.get(int(payload.get("programme_id", 0)))
        if programme is None or (programme.ends_on and turn.now.date() > programme.ends_on):
            return
        number = int(payload.get("number", 1))
        subject = f"checkin-{number}"
        for participant in taking_part(turn, programme):
            engine.flows.start(
                target_turn(turn, participant.person_id),
                CHECKIN,
                {
                    "key": f"checkin-{programme.id}-{number}",
                    "programme_id": programme.id,
                    "subject": subject,
                    "role": participant.role.value,
                    "programme": programme.name,
                },
                nudge=True,
                expires_at=turn.now + timedelta(days=programme.settings.checkin_days),
            )
        turn.uow.schedule.add(
            turn.tenant.id,
            CHECKIN_JOB,
            turn.now + timedelta(days=programme.settings.checkin_days),
            {"programme_id": programme.id, "number": number + 1},
            key=f"checkin:{programme.id}:{number + 1}",
        )

    from bot import team_rating  # the team rating builds on this module's helpers

    team_rating.install(engine)


def closes(programme: Programme) -> datetime | None:
    """Surveys and team ratings close when the programme's term ends (a day after its last day)."""
    return datetime.combine(programme.ends_on + timedelta(days=1), time(0, 0), UTC) if programme.ends_on else None


def taking_part(turn: Turn, programme: Programme) -> list[Any]:
    """Active participants who are in a live pair (surveys and check-ins are for people being mentored)."""
    paired = {
        m.id
        for circle in circles_of(turn.uow, programme)
        for m in circle.members
        if all(p.status == PairStatus.ACTIVE for p in circle.pairs)
    }
    return [
        p
        for p in turn.uow.participants.in_programme(programme.id)
        if p.status == ParticipantStatus.ACTIVE and p.id in paired
    ]


def send_pulse_reminder(turn: Turn, person_id: int, session_id: int, programme_id: int) -> None:
    """A nudge with a button that opens the pulse for ``session_id``."""
    turn.message(
        Address.person(person_id),
        say("feedback.pulse_reminder"),
        choices=[
            Choice(label=say("feedback.pulse_label"), action=PULSE_ACTION, value=str(session_id), style="primary")
        ],
        programme_id=programme_id,
        kind="nudge",
    )


def remind_pulses(turn: Turn, programme: Programme) -> int:
    """``remind pulse``: nudge each active participant who owes a pulse (once, for their latest held session)."""
    active = {
        p.person_id for p in turn.uow.participants.in_programme(programme.id) if p.status == ParticipantStatus.ACTIVE
    }
    owed: dict[int, int] = {}
    for circle in circles_of(turn.uow, programme):
        held = [s for s in turn.uow.sessions.of_circle(circle.key) if s.status == SessionStatus.HELD]
        for session in held:
            for member in circle.members:
                person_id = member.person_id
                if person_id in active and not turn.uow.feedback.exists(person_id, PULSE, f"session:{session.id}"):
                    owed[person_id] = session.id
    for person_id, session_id in owed.items():
        send_pulse_reminder(turn, person_id, session_id, programme.id)
    return len(owed)


def schedule_pulse_reminders(turn: Turn, circle: Circle, session_id: int) -> None:
    """One reminder for an unanswered pulse, two days after the follow-up."""
    for member in circle.members:
        turn.uow.schedule.add(
            turn.tenant.id,
            PULSE_REMINDER,
            turn.now + timedelta(days=2),
            {"session_id": session_id, "person_id": member.person_id},
            key=f"pulse-reminder:{session_id}:{member.person_id}",
        )

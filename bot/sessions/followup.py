"""Around each session: the agenda, the reminder, and afterwards what happened, action items and goals."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.context import Turn
from bot.domain import PairStatus
from bot.errors import CommandError
from bot.model import Action, Address, Choice
from bot.sessions.agenda import send_agenda
from bot.sessions.circles import Circle, circle_by_key, circle_now
from bot.sessions.model import NewSessionEvent, Session, SessionStatus, Side
from bot.sessions.slots import local_label
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

OUTCOME_ACTION = "session.outcome"
NEXT_ACTION = "session.next"
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


def next_session(turn: Turn, circle: Circle, after: Session | None = None) -> Session | None:
    upcoming = [
        s
        for s in turn.uow.sessions.of_circle(circle.key)
        if s.status == SessionStatus.SCHEDULED
        and s.starts_at > turn.now
        and (after is None or s.sequence > after.sequence)
    ]
    return upcoming[0] if upcoming else None


def carry_on(turn: Turn, circle: Circle, last: Session) -> None:
    """No session follows ``last`` but the term has room for one: the pair is offered times for the next
    (once; an offer already open stands), and confirming one carries the series on to the term's end."""
    from bot.sessions.scheduling import offer_slots, offer_state

    programme = circle.programme
    room = (
        programme.ends_on is None or last.starts_at.date() + timedelta(days=programme.cadence_days) <= programme.ends_on
    )
    active = all(p.status == PairStatus.ACTIVE for p in circle.pairs)
    if room and active and not offer_state(circle):
        offer_slots(turn, circle, carry_on=True)


def install(engine: Engine) -> None:
    @engine.on_due("session_agenda")
    def agenda(turn: Turn, payload: dict[str, Any]) -> None:
        found = _live(turn, payload)
        if found:
            send_agenda(turn, found[1], found[0])

    @engine.on_due("session_reminder")
    def reminder(turn: Turn, payload: dict[str, Any]) -> None:
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
                    when=local_label(session.starts_at, person.time_zone),
                    minutes=session.minutes,
                ),
                programme_id=circle.programme.id,
            )

    @engine.on_due("session_followup")
    def followup(turn: Turn, payload: dict[str, Any]) -> None:
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
                    when=local_label(session.starts_at, person.time_zone),
                ),
                choices=[
                    Choice(label=say(f"sessions.outcome_{o}"), action=OUTCOME_ACTION, value=f"{session.id}:{o}")
                    for o in OUTCOMES
                ],
                programme_id=circle.programme.id,
            )
        from bot.feedback import schedule_pulse_reminders

        schedule_pulse_reminders(turn, circle, session.id)

    @engine.on_action(OUTCOME_ACTION)
    def outcome(turn: Turn, action: Action) -> None:
        session_id, _, answer = action.value.partition(":")
        session = turn.uow.sessions.get(int(session_id)) if session_id.isdigit() else None
        circle = circle_by_key(turn.uow, session.circle) if session else None
        if (
            session is None
            or circle is None
            or answer not in OUTCOMES
            or turn.me.id not in {m.person_id for m in circle.members}
        ):
            raise CommandError("sessions.not_your_session")
        record_outcome(engine, turn, circle, session, answer)

    @engine.on_action(NEXT_ACTION)
    def next_choice(turn: Turn, action: Action) -> None:
        session_id, _, answer = action.value.partition(":")
        session = turn.uow.sessions.get(int(session_id)) if session_id.isdigit() else None
        circle = circle_by_key(turn.uow, session.circle) if session else None
        if session is None or circle is None or turn.me.id not in {m.person_id for m in circle.members}:
            raise CommandError("sessions.not_your_session")
        if answer == "keep":
            turn.reply(say("sessions.kept", when=local_label(session.starts_at, turn.me.time_zone)))
            return
        from bot.sessions.scheduling import offer_slots

        offer_slots(turn, circle, session, asked_by=turn.me.id)

    def save_action_items(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        session = turn.uow.sessions.get(context["session_id"])
        assert session is not None
        text = answers.get("items") or ""
        session.action_items = [line.strip(" -•*") for line in text.splitlines() if line.strip(" -•*")]
        turn.uow.sessions.save(session)
        turn.reply(say("sessions.action_items_saved", count=len(session.action_items)))
        _offer_next(turn, context["circle"], session)
        _pulse(turn, context["circle"], session.id)

    def save_goals(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        circle = circle_now(turn.uow, context["circle"], turn.me.id, turn.tenant.id)
        if circle is None:
            raise CommandError("sessions.not_your_session")  # their place ended while they typed
        goals = [answers[k] for k in ("goal_1", "goal_2") if answers.get(k)]
        for pair in circle.pairs:
            pair.goals = [*pair.goals, *({"text": g, "by": turn.me.id, "done": False} for g in goals)]
            turn.uow.matching.save_pair(pair)
        turn.reply(say("sessions.goals_saved", count=len(goals)))
        if context.get("session_id"):
            _pulse(turn, circle.key, context["session_id"])

    def _pulse(turn: Turn, circle_key: str, session_id: int) -> None:
        from bot.feedback import start_pulse

        circle = circle_now(turn.uow, circle_key, turn.me.id, turn.tenant.id)
        if circle is not None:
            start_pulse(engine, turn, circle, session_id)

    engine.sessions_pulse = _pulse

    engine.flows.register(ACTION_ITEMS_FLOW, save_action_items)
    engine.flows.register(GOALS_FLOW, save_goals)

    def _offer_next(turn: Turn, circle_key: str, session: Session) -> None:
        circle = circle_now(turn.uow, circle_key, turn.me.id, turn.tenant.id)
        upcoming = next_session(turn, circle, session) if circle else None
        if upcoming is None:
            if circle is not None:
                carry_on(turn, circle, session)
            return
        turn.reply(
            say("sessions.next_is", when=local_label(upcoming.starts_at, turn.me.time_zone)),
            choices=[
                Choice(
                    label=say("sessions.keep_label"), action=NEXT_ACTION, value=f"{upcoming.id}:keep", style="primary"
                ),
                Choice(label=say("sessions.move_label"), action=NEXT_ACTION, value=f"{upcoming.id}:move"),
            ],
        )

    engine.sessions_offer_next = _offer_next


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


def record_outcome(engine: Engine, turn: Turn, circle: Circle, session: Session, answer: str) -> None:
    """What one member says happened, once the session is over: one answer per person, a later one
    replaces it (recorded as a correction); the session's status follows the rule in ``resolve``."""
    me = turn.me
    ends = session.starts_at + timedelta(minutes=session.minutes)
    if turn.now < ends:
        raise CommandError("sessions.outcome_too_early", when=local_label(ends, me.time_zone))
    if session.status == SessionStatus.CANCELLED and not session.outcome:
        raise CommandError("sessions.outcome_cancelled")
    previous = session.outcome.get(str(me.id))
    if previous == answer:
        turn.reply(say("sessions.outcome_already", answer=answer))
        return
    my_side = circle.side_of(me.id)
    other_side = "mentee" if my_side == "mentor" else "mentor"
    before_status = session.status
    was_conflict = conflicting(session.outcome)
    session.outcome = {**session.outcome, str(me.id): answer}
    answers = [(circle.side_of(int(k)), v) for k, v in session.outcome.items()]
    kind, side = {
        "held": ("held", my_side),
        "moved": ("moved", my_side),
        "cancelled_me": ("cancelled", my_side),
        "cancelled_them": ("cancelled", other_side),
        "no_show": ("no_show", other_side),
    }[answer]
    session.status = resolve(answers)
    turn.uow.sessions.save(session)
    turn.uow.sessions.record(
        NewSessionEvent(
            circle=circle.key,
            programme_id=circle.programme.id,
            session_id=session.id,
            kind=kind,
            side=Side(side),
            person_id=me.id,
            at=turn.now,
            detail={
                **({"correction": True, "replaces": previous} if previous else {}),
                **({"first_hand": True} if answer == "cancelled_me" else {}),
                # a group member's "they cancelled" / "they didn't show up" may mean another member
                **({"uncertain": True} if uncertain_side(circle, my_side, answer) else {}),
            },
        )
    )
    turn.reply(say("sessions.outcome_corrected" if previous else "sessions.outcome_thanks", answer=answer))
    if not was_conflict and conflicting(session.outcome):
        _tell_conflicts(turn, circle)
    if session.status != before_status or kind == "moved":  # once per session: never a second nudge
        from bot.commitment import after_outcome

        after_outcome(turn, circle, session, kind, side)
    if kind != "moved" and next_session(turn, circle, session) is None:
        carry_on(turn, circle, session)
    context = {"key": f"session-{session.id}", "session_id": session.id, "circle": circle.key}
    if kind == "held" and me.id == circle.mentor.person_id:
        engine.flows.start(turn, ACTION_ITEMS_FLOW, context)
        return
    if kind == "held" and session.sequence == 1 and not any(p.goals for p in circle.pairs):
        engine.flows.start(
            turn, GOALS_FLOW, {"key": f"goals-{circle.key}", "circle": circle.key, "session_id": session.id}
        )
        return
    if kind == "moved":
        from bot.sessions.scheduling import offer_slots

        session.status = SessionStatus.SCHEDULED
        offer_slots(turn, circle, session, asked_by=me.id)
        return
    engine.sessions_offer_next(turn, circle.key, session)
    if kind == "held":
        engine.sessions_pulse(turn, circle.key, session.id)


def _tell_conflicts(turn: Turn, circle: Circle) -> None:
    """Coordinators see how many sessions have disagreeing answers: a count, never who said what."""
    count = sum(1 for s in turn.uow.sessions.of_programme(circle.programme.id) if conflicting(s.outcome))
    for person_id in turn.uow.coordinators.of_programme(circle.programme.id):
        turn.message(
            Address.person(person_id),
            say("sessions.outcome_conflicts", programme=circle.programme, count=count),
        )

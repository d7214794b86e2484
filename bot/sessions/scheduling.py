"""Agreeing a time: proposals in each reader's own time zone, picks, confirmation, the series, moves.

The state of an open proposal lives on the circle's first pair (``MatchPair.scheduling``): the slots
offered, what the first session or the moved session is, and which member accepted which time.
Once every member accepted the same time, the series (or the moved session) is confirmed, the
calendar invites go out, and the agenda, reminder and follow-up are scheduled.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Turn
from bot.domain import Person
from bot.errors import CommandError, Outdated, required
from bot.model import Address, Choice
from bot.ports import Busy
from bot.sessions.agenda import send_agenda
from bot.sessions.buttons import OTHER_ACTION, PICK_ACTION, SlotOtherValue, SlotPickValue
from bot.sessions.calendar import country_of, first_day
from bot.sessions.calendar_sync import fell_back_note, wait_for_free_busy, write_event
from bot.sessions.circles import Circle
from bot.sessions.ics import invite_attachment
from bot.sessions.model import NewSession, NewSessionEvent, Session, SessionStatus, Side
from bot.sessions.slots import Availability, local_label, local_moment, propose_slots, series
from bot.wording import say

JOBS = ("session_agenda", "session_reminder", "session_followup")
OFFER_REMINDER = "session_offer_reminder"
OFFER_REMINDER_DAYS = (2, 3)
"""Days after an unanswered offer that it is made again."""
NO_TIME_DAYS = 3
"""Days after the last reminder that a pair still without a time is marked at risk, and its coordinators told."""
NO_TIME = "no_time"
NO_COMMON_TIME = "no_common_time"
"""At risk because no time inside everyone's working hours could be offered (and none was proposed)."""


def availability(circle: Circle, busy: Busy | None = None) -> list[Availability]:
    """Everyone's hours and meeting days: the term, their own start, and public holidays if the programme
    takes them; with ``busy``, the times their calendars show as busy."""
    programme = circle.programme
    found = []
    for member in circle.members:
        person = circle.person(member)
        found.append(
            Availability(
                person.time_zone,
                person.working_hours,
                first_day=first_day(programme, member.intake),
                last_day=programme.ends_on,
                holiday_country=country_of(person) if programme.settings.public_holidays else None,
                busy=tuple(busy.intervals.get(person.id, ())) if busy else (),
            )
        )
    return found


def closed_days(circle: Circle) -> frozenset[date]:
    """The programme's non-working days."""
    return frozenset(circle.programme.settings.non_working_days)


def offer_state(circle: Circle) -> dict[str, Any]:
    """The open offer of times of ``circle`` (empty when none is open)."""
    return dict(circle.pairs[0].scheduling)


def save_state(turn: Turn, circle: Circle, state: dict[str, Any]) -> None:
    """Keep ``state`` as the open offer of ``circle``."""
    pair = circle.pairs[0]
    pair.scheduling = state
    turn.uow.matching.save_pair(pair)


def offer_again(turn: Turn, circle: Circle, state: dict[str, Any], reminder: int, busy: Busy | None = None) -> bool:
    """Offer times anew for what the circle's open offer (``state``) is for: a session to move, a resume, the
    next stretch, or the first session."""
    target = state.get("target")
    session = turn.uow.sessions.get(int(target)) if isinstance(target, int) else None
    return offer_slots(
        turn,
        circle,
        session,
        state.get("asked_by"),
        resume=target == "resume",
        carry_on=target == "next",
        reminder=reminder,
        busy=busy,
    )


def offer_slots(
    turn: Turn,
    circle: Circle,
    session: Session | None = None,
    asked_by: int | None = None,
    *,
    resume: bool = False,
    carry_on: bool = False,
    reminder: int = 0,
    busy: Busy | None = None,
) -> bool:
    """Propose three times that fit everyone, each shown in the reader's own time zone.

    Without ``session`` the times are for the first session, or with ``resume`` for the first after a
    pause, or with ``carry_on`` for the next when the series stopped short of the term's end: confirming
    one creates the rest of the series. ``reminder`` counts the times this offer was
    made again because nobody answered (:mod:`bot.sessions.offers`). When the programme reads calendars and
    ``busy`` is not given yet, the offer waits for free/busy (:mod:`bot.sessions.calendar_sync`)."""
    after = max(turn.now, session.starts_at - timedelta(days=3)) if session else turn.now
    minutes = session.minutes if session else circle.programme.session_minutes
    state: dict[str, Any] = {
        "target": session.id if session else ("resume" if resume else "next" if carry_on else "first"),
        "slots": [],
        "accepted": {},
        "asked_by": asked_by,
        "offered_at": turn.now.isoformat(),
        "reminders": reminder,
    }
    people = [circle.person(m) for m in circle.members]
    if busy is None and (waiting := wait_for_free_busy(turn, circle.programme, people, circle.key, after)):
        save_state(turn, circle, {**state, "calendar": waiting})
        return True
    slots = propose_slots(availability(circle, busy), after, minutes, closed=closed_days(circle))
    if session is not None:
        slots = [s for s in slots if s != session.starts_at][:3]
    state["slots"] = [s.isoformat() for s in slots]
    save_state(turn, circle, state)
    unread = [p for p in people if busy and p.id in busy.unread]
    schedule_offer_reminder(turn, circle, state)  # with no time to offer: the coordinators hear of it then
    key = "sessions.offer_" + ("move" if session else "resume" if resume else "next" if carry_on else "first")
    other = SlotOtherValue.of(circle).encode()
    for member in circle.members:
        person = circle.person(member)
        others = [p.name for p in circle.others(person.id)]
        note = fell_back_note(person, unread)
        if not slots:
            turn.message(
                Address.person(person.id),
                " ".join(filter(None, [say("sessions.no_common_time", others=others), note])),
                choices=[Choice(label=say("sessions.propose_other"), action=OTHER_ACTION, value=other)],
                programme_id=circle.programme.id,
                circle=circle.key,
            )
            continue
        choices = [
            Choice(
                label=local_label(s, person.time_zone), action=PICK_ACTION, value=SlotPickValue.of(circle, s).encode()
            )
            for s in slots
        ]
        choices.append(Choice(label=say("sessions.propose_other"), action=OTHER_ACTION, value=other))
        offer = say(
            key,
            others=others,
            programme=circle.programme,
            minutes=minutes,
            zone=person.time_zone,
            when=local_moment(session.starts_at, person.time_zone) if session else "",
            reminder=bool(reminder),
        )
        turn.message(
            Address.person(person.id),
            " ".join(filter(None, [offer, note])),
            choices=choices,
            programme_id=circle.programme.id,
            kind="nudge" if reminder else "reply",
            circle=circle.key,
        )
    return bool(slots)


def schedule_offer_reminder(turn: Turn, circle: Circle, state: dict[str, Any]) -> None:
    """The next reminder of the open offer in ``state`` (``OFFER_REMINDER_DAYS``), then the last look at it
    (``NO_TIME_DAYS``)."""
    done = int(state.get("reminders", 0))
    if done > len(OFFER_REMINDER_DAYS):
        return
    days = OFFER_REMINDER_DAYS[done] if done < len(OFFER_REMINDER_DAYS) else NO_TIME_DAYS
    turn.uow.schedule.add(
        turn.tenant.id,
        OFFER_REMINDER,
        turn.now + timedelta(days=days),
        {"circle": circle.key, "offered_at": state["offered_at"]},
        key=f"offer:{circle.key}:{state['offered_at']}:{done}",
    )


def pick(turn: Turn, circle: Circle, when: datetime) -> None:
    """The person in ``turn`` accepts ``when``; confirm once every member accepted the same time."""
    state = offer_state(circle)
    if not state:  # the offer was settled (confirmed, or moved on): an old button
        raise Outdated("sessions.nothing_to_pick")
    me = turn.me
    if not all(
        person.fits(when, circle.programme.session_minutes, closed_days(circle)) for person in availability(circle)
    ):
        raise CommandError("sessions.time_does_not_fit", when=local_moment(when, me.time_zone))
    if when <= turn.now:
        raise CommandError("sessions.time_in_past")
    accepted = {k: v for k, v in state.get("accepted", {}).items() if v == when.isoformat()}
    accepted[str(me.id)] = when.isoformat()
    state["accepted"] = accepted
    save_state(turn, circle, state)
    side = circle.side_of(me.id)
    if all(str(m.person_id) in accepted for m in circle.members):
        _confirm(turn, circle, state, when, side)
        return
    for other in circle.others(me.id):
        if str(other.id) not in accepted:
            ask_to_confirm(turn, circle, other, me.name, when)
    turn.reply(
        say(
            "sessions.waiting_for",
            others=[o.name for o in circle.others(me.id) if str(o.id) not in accepted],
            when=local_moment(when, me.time_zone),
        )
    )


def ask_to_confirm(
    turn: Turn, circle: Circle, other: Person, proposer: str, when: datetime, *, reminder: bool = False
) -> None:
    """Ask ``other`` to confirm the time ``proposer`` picked (again, as a reminder, when nobody answered)."""
    turn.message(
        Address.person(other.id),
        say("sessions.confirm_request", name=proposer, when=local_moment(when, other.time_zone), reminder=reminder),
        choices=[
            Choice(
                label=say("sessions.confirm_label"),
                action=PICK_ACTION,
                value=SlotPickValue.of(circle, when).encode(),
                style="primary",
            ),
            Choice(label=say("sessions.propose_other"), action=OTHER_ACTION, value=SlotOtherValue.of(circle).encode()),
        ],
        programme_id=circle.programme.id,
        kind="nudge" if reminder else "reply",
        circle=circle.key,
    )


def _confirm(turn: Turn, circle: Circle, state: dict[str, Any], when: datetime, side: str) -> None:
    save_state(turn, circle, {})
    for pair in circle.pairs:
        if pair.risk_reason in (NO_TIME, NO_COMMON_TIME):  # a time is agreed at last
            pair.at_risk, pair.risk_reason = False, ""
            turn.uow.matching.save_pair(pair)
    programme = circle.programme
    if state.get("target") in ("first", "resume", "next"):
        resuming = state.get("target") in ("resume", "next")  # numbered after the sessions there were
        starts = series(
            when,
            circle.anchor_zone,
            programme.cadence_days,
            programme.ends_on,
            people=availability(circle),
            minutes=programme.session_minutes,
            closed=closed_days(circle),
        )
        existing = {s.sequence for s in turn.uow.sessions.of_circle(circle.key)}
        offset = max(existing, default=0) if resuming else 0
        created = []
        for number, start in enumerate(starts, start=offset + 1):
            if number in existing:
                continue
            created.append(
                turn.uow.sessions.add(
                    NewSession(
                        programme_id=programme.id,
                        circle=circle.key,
                        mentor_id=circle.mentor.id,
                        mentee_ids=[m.id for m in circle.mentees],
                        sequence=number,
                        starts_at=start,
                        minutes=programme.session_minutes,
                        anchor_time_zone=circle.anchor_zone,
                        uid=f"{uuid.uuid4()}@rmbot",
                    )
                )
            )
        for session in created:
            schedule_jobs(turn, session, circle)
            write_event(turn, session, "create")
        turn.uow.sessions.record(
            NewSessionEvent(
                circle=circle.key,
                programme_id=programme.id,
                kind="resumed" if resuming else "confirmed",
                side=Side(side),
                person_id=turn.me.id,
                at=turn.now,
                session_id=created[0].id if created else None,
            )
        )
        announced = {"first": "confirmed", "resume": "resumed", "next": "continued"}[str(state.get("target"))]
        _announce(turn, circle, created, f"sessions.series_{announced}")
        return
    session = required(turn.uow.sessions.get(int(state["target"])), "session", state["target"])
    old = session.starts_at
    session.starts_at, session.ics_sequence = when, session.ics_sequence + 1
    session = turn.uow.sessions.save(session)
    cancel_jobs(turn, session)
    schedule_jobs(turn, session, circle)
    write_event(turn, session, "update")
    asked_by = state.get("asked_by")
    turn.uow.sessions.record(
        NewSessionEvent(
            circle=circle.key,
            programme_id=programme.id,
            session_id=session.id,
            kind="rescheduled",
            side=Side(circle.side_of(asked_by) if asked_by else side),
            person_id=asked_by,
            at=turn.now,
            detail={"from": old.isoformat(), "to": when.isoformat()},
        )
    )
    _announce(turn, circle, [session], "sessions.moved")


def _announce(turn: Turn, circle: Circle, sessions: list[Session], key: str) -> None:
    if not sessions:
        return
    title = say("sessions.invite_title", programme=circle.programme)
    for member in circle.members:
        person = circle.person(member)
        others = [p.name for p in circle.others(person.id)]
        description = say("sessions.invite_description", others=others, programme=circle.programme)
        turn.message(
            Address.person(person.id),
            say(
                key,
                others=others,
                first=local_moment(sessions[0].starts_at, person.time_zone),
                count=len(sessions),
                minutes=sessions[0].minutes,
            ),
            attachments=[invite_attachment(sessions, title, description)],
            programme_id=circle.programme.id,
        )


def schedule_jobs(turn: Turn, session: Session, circle: Circle | None = None) -> None:
    """The agenda before the session, the reminder, and the follow-up after it.

    A session confirmed nearer than the agenda lead time gets its agenda at once (with ``circle``)."""
    settings = required(turn.uow.programmes.get(session.programme_id), "programme", session.programme_id).settings
    moments = {
        "session_agenda": session.starts_at - timedelta(hours=settings.agenda_hours_before),
        "session_reminder": session.starts_at - timedelta(minutes=settings.reminder_minutes_before),
        "session_followup": session.starts_at + timedelta(minutes=session.minutes + settings.followup_minutes_after),
    }
    if circle is not None and moments["session_agenda"] <= turn.now < session.starts_at:
        send_agenda(turn, circle, session)
    for kind, due in moments.items():
        if due > turn.now or kind == "session_followup":
            turn.uow.schedule.add(
                turn.tenant.id,
                kind,
                max(due, turn.now),
                {"session_id": session.id, "version": session.ics_sequence},
                key=f"session:{session.id}:{session.ics_sequence}:{kind}",
            )


def cancel_jobs(turn: Turn, session: Session) -> None:
    """Cancel every job scheduled for ``session`` (all its versions)."""
    turn.uow.schedule.cancel(f"session:{session.id}:")


def cancel_circle(turn: Turn, circle_sessions: list[Session]) -> None:
    """Stop everything scheduled for a circle's future sessions (the pair ended or paused)."""
    for session in circle_sessions:
        if session.status == SessionStatus.SCHEDULED and session.starts_at > turn.now:
            cancel_jobs(turn, session)
            session.status = SessionStatus.CANCELLED
            turn.uow.sessions.save(session)
            write_event(turn, session, "cancel")

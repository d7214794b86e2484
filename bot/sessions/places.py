"""Pausing, resuming and ending a pair's meetings; in group programmes, one mentee's place alone.

A whole circle paused or ended loses its future sessions; resumed, it is offered times to *resume*
and confirming one creates the rest of the series. In a group (a mentor meeting several mentees), a
mentee who pauses, leaves or is forgotten leaves only their own place: the group's future sessions
go on for the others (they are moved to the smaller circle), and a mentee who resumes rejoins them.
"""

from __future__ import annotations

from bot.context import Turn
from bot.domain import PairStatus
from bot.model import Address
from bot.sessions.circles import Circle, circle_key, circles_of
from bot.sessions.ics import invite_attachment
from bot.sessions.model import SessionStatus
from bot.sessions.scheduling import cancel_circle, offer_slots
from bot.sessions.slots import local_label
from bot.wording import say


def is_place(circle: Circle, participant_id: int | None) -> bool:
    """Whether a change by ``participant_id`` concerns only their place in a group."""
    return (
        participant_id is not None
        and circle.programme.settings.group_sessions
        and participant_id in {m.id for m in circle.mentees}
    )


def set_circle(turn: Turn, circle: Circle, status: PairStatus, reason: str, who: int | None = None) -> None:
    """Pause, resume or end a circle (or, in a group, only ``who``'s place); every scheduled message
    stops or restarts with it."""
    if is_place(circle, who) and who is not None:
        remaining = [m for m in circle.mentees if m.id != who]
        if status == PairStatus.ACTIVE:
            _rejoin(turn, circle, who)
            return
        if remaining:
            _leave(turn, circle, who, status, reason)
            return
    if status in (PairStatus.PAUSED, PairStatus.ENDED):
        cancel_circle(turn, turn.uow.sessions.of_circle(circle.key))
        circle.pairs[0].scheduling = {}
    for pair in circle.pairs:
        pair.status = status
        if status == PairStatus.ENDED:
            pair.ended_at, pair.end_reason = turn.now, reason
        turn.uow.matching.save_pair(pair)
    if status == PairStatus.ACTIVE:
        offer_slots(turn, circle, resume=bool(turn.uow.sessions.of_circle(circle.key)))


def _move_sessions(turn: Turn, old_key: str, new_key: str, mentee_ids: list[int]) -> list[int]:
    """Future sessions of ``old_key`` now belong to the circle ``new_key``; returns their ids."""
    moved = []
    for session in turn.uow.sessions.of_circle(old_key):
        if session.status == SessionStatus.SCHEDULED and session.starts_at > turn.now:
            session.circle, session.mentee_ids = new_key, mentee_ids
            moved.append(turn.uow.sessions.save(session).id)
    return moved


def _leave(turn: Turn, circle: Circle, who: int, status: PairStatus, reason: str) -> None:
    remaining = [m for m in circle.mentees if m.id != who]
    open_proposal = bool(circle.pairs[0].scheduling)
    for pair in circle.pairs:
        pair.scheduling = {}
        if pair.mentee_id == who:
            pair.status = status
            if status == PairStatus.ENDED:
                pair.ended_at, pair.end_reason = turn.now, reason
        turn.uow.matching.save_pair(pair)
    new_key = circle_key(circle.mentor.id, [m.id for m in remaining])
    _move_sessions(turn, circle.key, new_key, [m.id for m in remaining])
    if open_proposal:
        group = next((c for c in circles_of(turn.uow, circle.programme) if c.key == new_key), None)
        if group is not None:
            offer_slots(turn, group, resume=bool(turn.uow.sessions.of_circle(new_key)))


def _rejoin(turn: Turn, circle: Circle, who: int) -> None:
    for pair in circle.pairs:
        if pair.mentee_id == who:
            pair.status = PairStatus.ACTIVE
            turn.uow.matching.save_pair(pair)
    group = next(
        c
        for c in circles_of(turn.uow, circle.programme)
        if who in {m.id for m in c.mentees} and c.pairs[0].status == PairStatus.ACTIVE
    )
    old_key = circle_key(group.mentor.id, [m.id for m in group.mentees if m.id != who])
    moved = _move_sessions(turn, old_key, group.key, [m.id for m in group.mentees])
    if not moved:
        for pair in group.pairs:
            pair.scheduling = {}
            turn.uow.matching.save_pair(pair)
        offer_slots(turn, group, resume=bool(turn.uow.sessions.of_circle(group.key)))
        return
    sessions = [s for s in turn.uow.sessions.of_circle(group.key) if s.id in moved]
    member = next(m for m in group.mentees if m.id == who)
    person = group.person(member)
    others = [p.name for p in group.others(person.id)]
    turn.message(
        Address.person(person.id),
        say(
            "sessions.series_resumed",
            others=others,
            first=local_label(sessions[0].starts_at, person.time_zone),
            count=len(sessions),
            minutes=sessions[0].minutes,
        ),
        attachments=[
            invite_attachment(
                sessions,
                say("sessions.invite_title", programme=group.programme),
                say("sessions.invite_description", others=others, programme=group.programme),
            )
        ],
        programme_id=group.programme.id,
    )

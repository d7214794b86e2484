"""Pausing, resuming and ending a pair's meetings; in group programmes, one mentee's place alone.

A whole circle paused or ended loses its future sessions; resumed, it is offered times to *resume*
and confirming one creates the rest of the series. In a group (a mentor meeting several mentees), a
mentee who pauses, leaves or is forgotten leaves only their own place: the group's future sessions
go on for the others (they are moved to the smaller circle), the one who left gets a calendar
cancellation for them, and a mentee who resumes rejoins them.

A pair resumes only when neither of its two people has paused their own participation. Someone who
paused is sent nothing they did not ask for: news of a pause or a resume is not sent to them at all,
and news that a pairing ended is held and given when they resume (:func:`tell`, :func:`give_held`).
"""

from __future__ import annotations

from bot.context import Turn
from bot.domain import PairStatus, Participant, ParticipantStatus
from bot.model import Address, Attachment
from bot.sessions.calendar_sync import write_event
from bot.sessions.circles import Circle, circle_key, circles_of
from bot.sessions.ics import invite_attachment
from bot.sessions.model import Session, SessionStatus
from bot.sessions.scheduling import (
    availability,
    cancel_circle,
    cancel_jobs,
    closed_days,
    offer_slots,
    schedule_jobs,
)
from bot.sessions.slots import local_moment
from bot.wording import say

HELD_NOTICES = "held_while_paused"
"""Key in a participant's ``notices``: messages kept for them until they resume."""


def is_place(circle: Circle, participant_id: int | None) -> bool:
    """Whether a change by ``participant_id`` concerns only their place in a group."""
    return (
        participant_id is not None
        and circle.programme.settings.group_sessions
        and participant_id in {m.id for m in circle.mentees}
    )


def is_paused(turn: Turn, participant_id: int) -> bool:
    """Whether the participant has paused their own participation."""
    participant = turn.uow.participants.get(participant_id)
    return participant is not None and participant.status == ParticipantStatus.PAUSED


def tell(turn: Turn, participant_id: int, text: str, *, hold: bool = True, programme_id: int | None = None) -> None:
    """Send ``text`` to a participant; if they paused, keep it for their resume (``hold``) or drop it."""
    participant = turn.uow.participants.get(participant_id)
    if participant is None:
        return
    if participant.status != ParticipantStatus.PAUSED:
        turn.message(Address.person(participant.person_id), text, programme_id=programme_id)
        return
    if hold:
        participant.notices = {**participant.notices, HELD_NOTICES: [*participant.notices.get(HELD_NOTICES, []), text]}
        turn.uow.participants.save(participant)


def give_held(turn: Turn, participant_id: int) -> None:
    """Give a participant who resumed what was held for them while they were paused, in order."""
    participant = turn.uow.participants.get(participant_id)
    if participant is None or not participant.notices.get(HELD_NOTICES):
        return
    held = participant.notices[HELD_NOTICES]
    participant.notices = {k: v for k, v in participant.notices.items() if k != HELD_NOTICES}
    turn.uow.participants.save(participant)
    for text in held:
        turn.message(Address.person(participant.person_id), str(text), programme_id=participant.programme_id)


def set_circle(turn: Turn, circle: Circle, status: PairStatus, reason: str, who: int | None = None) -> bool:
    """Pause, resume or end a circle (or, in a group, only ``who``'s place); every scheduled message
    stops or restarts with it. Returns False when nothing could resume (someone in it paused themselves)."""
    if status == PairStatus.ACTIVE:
        return _resume(turn, circle, who)
    if is_place(circle, who) and who is not None and any(m.id != who for m in circle.mentees):
        _leave(turn, circle, who, status, reason)
        return True
    cancel_circle(turn, turn.uow.sessions.of_circle(circle.key))
    circle.pairs[0].scheduling = {}
    for pair in circle.pairs:
        pair.status = status
        if status == PairStatus.ENDED:
            pair.ended_at, pair.end_reason = turn.now, reason
        turn.uow.matching.save_pair(pair)
    return True


def _resume(turn: Turn, circle: Circle, who: int | None) -> bool:
    """Resume the circle's pairs (or ``who``'s place) whose two people are both taking part."""
    ready = [p for p in circle.pairs if not is_paused(turn, p.mentor_id) and not is_paused(turn, p.mentee_id)]
    if is_place(circle, who):
        if not any(p.mentee_id == who for p in ready):
            return False
        assert who is not None
        _rejoin(turn, circle, who)
        return True
    if not ready:
        return False
    for pair in ready:
        pair.status, pair.scheduling = PairStatus.ACTIVE, {}
        turn.uow.matching.save_pair(pair)
    group = next(
        c
        for c in circles_of(turn.uow, circle.programme)
        if ready[0].mentee_id in {m.id for m in c.mentees} and c.pairs[0].status == PairStatus.ACTIVE
    )
    for pair in group.pairs:
        pair.scheduling = {}
        turn.uow.matching.save_pair(pair)
    met = bool(turn.uow.sessions.of_circle(circle.key) or turn.uow.sessions.of_circle(group.key))
    offer_slots(turn, group, resume=met)
    return True


def _move_sessions(turn: Turn, old_key: str, new_key: str, mentee_ids: list[int]) -> list[Session]:
    """Future sessions of ``old_key`` now belong to the circle ``new_key``, each as a new version of its
    calendar event (its scheduled messages follow). A session whose number ``new_key`` already has (from an
    earlier stretch of that circle) takes the next free number after the circle's last."""
    moved = []
    taken = {s.sequence for s in turn.uow.sessions.of_circle(new_key)}
    for session in sorted(turn.uow.sessions.of_circle(old_key), key=lambda s: s.starts_at):
        if session.status == SessionStatus.SCHEDULED and session.starts_at > turn.now:
            cancel_jobs(turn, session)
            if session.sequence in taken:
                session.sequence = max(taken) + 1
            taken.add(session.sequence)
            session.circle, session.mentee_ids = new_key, mentee_ids
            session.ics_sequence += 1
            saved = turn.uow.sessions.save(session)
            schedule_jobs(turn, saved)
            write_event(turn, saved, "update")  # the calendars' event follows: who is invited changed
            moved.append(saved)
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
    moved = _move_sessions(turn, circle.key, new_key, [m.id for m in remaining])
    if moved:
        _send_cancellation(turn, circle, who, moved)
    if open_proposal:
        group = next((c for c in circles_of(turn.uow, circle.programme) if c.key == new_key), None)
        if group is not None:
            offer_slots(turn, group, resume=bool(turn.uow.sessions.of_circle(new_key)))


def _send_cancellation(turn: Turn, circle: Circle, who: int, sessions: list[Session]) -> None:
    """The one who left the group gets the calendar cancellation (.ics CANCEL) of the sessions they no
    longer attend."""
    person = circle.person(next(m for m in circle.mentees if m.id == who))
    turn.message(
        Address.person(person.id),
        say("sessions.place_cancelled", programme=circle.programme, count=len(sessions)),
        attachments=[_cancellation(circle, person.id, sessions)],
        programme_id=None,  # part of what they asked for (or were told): sent even to someone who just paused
    )


def _cancellation(circle: Circle, person_id: int, sessions: list[Session]) -> Attachment:
    """The calendar update (.ics CANCEL) that takes ``sessions`` out of one member's calendar."""
    return invite_attachment(
        sessions,
        say("sessions.invite_title", programme=circle.programme),
        say(
            "sessions.invite_description", others=[p.name for p in circle.others(person_id)], programme=circle.programme
        ),
        filename="cancelled.ics",
        cancelled=True,
    )


def _coming(turn: Turn, key: str) -> list[Session]:
    """The sessions of circle ``key`` still scheduled and ahead."""
    return [
        s for s in turn.uow.sessions.of_circle(key) if s.status == SessionStatus.SCHEDULED and s.starts_at > turn.now
    ]


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
    if not _suits_everyone(turn, group, old_key):
        _retime(turn, group, old_key)
        return
    sessions = _move_sessions(turn, old_key, group.key, [m.id for m in group.mentees])
    if not sessions:
        for pair in group.pairs:
            pair.scheduling = {}
            turn.uow.matching.save_pair(pair)
        offer_slots(turn, group, resume=bool(turn.uow.sessions.of_circle(group.key)))
        return
    _send_series(turn, group, next(m for m in group.mentees if m.id == who), sessions, "sessions.series_resumed")


def join_group(turn: Turn, circle: Circle, newcomers: set[int]) -> bool:
    """Mentees were just matched into a mentor's group that already meets: the group's coming sessions become the
    bigger group's (each newcomer gets the series' invite) when their times suit everyone, otherwise the group is
    offered new times that do (as when someone comes back). False when the rest of the group has no coming
    sessions: the circle is then offered times like any new one."""
    staying = [m.id for m in circle.mentees if m.id not in newcomers]
    if not staying or len(staying) == len(circle.mentees):
        return False
    old_key = circle_key(circle.mentor.id, staying)
    if not _coming(turn, old_key):
        return False
    if not _suits_everyone(turn, circle, old_key):
        _retime(turn, circle, old_key, "sessions.group_retimed_joined")
        return True
    sessions = _move_sessions(turn, old_key, circle.key, [m.id for m in circle.mentees])
    for member in circle.mentees:
        if member.id in newcomers:
            _send_series(turn, circle, member, sessions, "sessions.series_joined")
    return True


def _send_series(turn: Turn, group: Circle, member: Participant, sessions: list[Session], key: str) -> None:
    """The group's coming sessions, with their calendar invite, to a member who (re)joined them."""
    person = group.person(member)
    others = [p.name for p in group.others(person.id)]
    turn.message(
        Address.person(person.id),
        say(
            key,
            others=others,
            first=local_moment(sessions[0].starts_at, person.time_zone),
            count=len(sessions),
            minutes=sessions[0].minutes,
            programme=group.programme,
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


def _suits_everyone(turn: Turn, group: Circle, old_key: str) -> bool:
    """Whether every coming session of the others fits the hours and days of the whole group, the one coming
    back included (their hours may have changed while they were away)."""
    people, closed = availability(group), closed_days(group)
    return all(all(person.fits(s.starts_at, s.minutes, closed) for person in people) for s in _coming(turn, old_key))


def _retime(turn: Turn, group: Circle, old_key: str, notice: str = "sessions.group_retimed") -> None:
    """The others' times do not suit the one coming back (or joining): their coming sessions are taken out of
    their calendars, and the whole group is offered times that fit everyone (as after a pause)."""
    coming = _coming(turn, old_key)
    cancel_circle(turn, coming)
    for member in group.members:
        if not any(member.id in (s.mentor_id, *s.mentee_ids) for s in coming):
            continue
        person = group.person(member)
        turn.message(
            Address.person(person.id),
            say(notice, programme=group.programme, count=len(coming)),
            attachments=[_cancellation(group, person.id, coming)],
            programme_id=group.programme.id,
        )
    for pair in group.pairs:
        pair.scheduling = {}
        turn.uow.matching.save_pair(pair)
    offer_slots(turn, group, resume=True)

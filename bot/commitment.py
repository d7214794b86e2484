"""Commitment by side: nudging whoever slipped, escalating repeated mentee cancellations and long gaps
privately to coordinators, and keeping the junior mentor's hours inside their allowance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.context import Turn
from bot.domain import PairStatus, Programme
from bot.handling import Handling, OnDue
from bot.model import Address
from bot.sessions.circles import Circle, circle_by_key, circles_of
from bot.sessions.model import Session, SessionStatus
from bot.sessions.slots import local_moment
from bot.wording import say

GAP_CHECK = "pair_gap_check"


def alert_coordinators(turn: Turn, programme: Programme, key: str, about: Sequence[int], **values: Any) -> None:
    """A private message to every coordinator of the programme about the people ``about`` (who see it in
    ``my-data``)."""
    for person_id in turn.uow.coordinators.of_programme(programme.id):
        turn.message(Address.person(person_id), say(key, programme=programme, **values), about=about)


def nudge_slipper(turn: Turn, circle: Circle, session: Session, kind: str, side: str) -> None:
    """A polite, specific nudge to the side that cancelled, moved or missed: never to the other side."""
    slippers = [circle.mentor] if side == "mentor" else circle.mentees
    for participant in slippers:
        person = circle.person(participant)
        turn.message(
            Address.person(person.id),
            say(
                f"commitment.nudge_{side}",
                kind=kind,
                others=[o.name for o in circle.others(person.id)],
                when=local_moment(session.starts_at, person.time_zone),
            ),
            programme_id=circle.programme.id,
            kind="nudge",
        )


def mentee_slips_in_a_row(turn: Turn, circle: Circle) -> int:
    """Past sessions cancelled or missed on the mentee side since the last one held."""
    sides = {}
    for event in turn.uow.sessions.events(circle.programme.id, circle.key):
        if event.session_id is not None and event.kind in ("cancelled", "no_show", "held"):
            sides[event.session_id] = (event.kind, event.side.value)
    streak = 0
    for session in turn.uow.sessions.of_circle(circle.key):
        if session.starts_at > turn.now or session.id not in sides:
            continue
        kind, side = sides[session.id]
        if kind == "held":
            streak = 0
        elif side == "mentee":
            streak += 1
    return streak


def after_outcome(turn: Turn, circle: Circle, session: Session, kind: str, side: str) -> None:
    """What follows a reported outcome: nudges, escalation, at-risk marks and the workload check."""
    programme = circle.programme
    if kind in ("cancelled", "no_show", "moved") and side in ("mentor", "mentee"):
        nudge_slipper(turn, circle, session, kind, side)
    if kind == "held":
        for pair in circle.pairs:
            if pair.at_risk:
                pair.at_risk, pair.risk_reason = False, ""
                turn.uow.matching.save_pair(pair)
        check_workload(turn, circle)
        return
    if side != "mentee" or kind not in ("cancelled", "no_show"):
        return
    streak = mentee_slips_in_a_row(turn, circle)
    limit = programme.settings.mentee_cancellations_alert
    if streak < limit or streak % limit:
        return
    reason = f"mentee_cancellations:{streak}"
    if circle.pairs[0].risk_reason == reason:
        return
    for pair in circle.pairs:
        pair.at_risk, pair.risk_reason = True, reason
        turn.uow.matching.save_pair(pair)
    names = {"mentor": circle.person(circle.mentor).name, "mentees": [circle.person(m).name for m in circle.mentees]}
    about = [m.person_id for m in circle.members]
    alert_coordinators(turn, programme, "commitment.alert_cancellations", about, count=streak, **names)
    if kind == "no_show" and programme.settings.copy_sponsor_on_no_shows and programme.settings.sponsor_email:
        sponsor = turn.uow.people.by_email(turn.tenant.id, programme.settings.sponsor_email)
        if sponsor is not None:
            turn.message(
                Address.person(sponsor.id),
                say("commitment.sponsor_no_shows", programme=programme, count=streak, **names),
                about=about,
            )


def schedule_gap_check(turn: Turn, circle: Circle, after: datetime) -> None:
    """Look at the circle's gap without a session again once the programme's gap has passed after ``after``."""
    days = circle.programme.settings.gap_alert_days
    turn.uow.schedule.add(
        turn.tenant.id,
        GAP_CHECK,
        after + timedelta(days=days),
        {"circle": circle.key},
        key=f"gap:{circle.key}:{(after + timedelta(days=days)).date()}",
    )


def on_gap_check(turn: Turn, payload: dict[str, Any]) -> None:
    """No session held for the programme's gap and none confirmed ahead: the coordinator hears, and the
    pair is marked at risk."""
    circle = circle_by_key(turn.uow, str(payload.get("circle", "")))
    if circle is None or any(p.status != PairStatus.ACTIVE for p in circle.pairs):
        return
    days = circle.programme.settings.gap_alert_days
    sessions = turn.uow.sessions.of_circle(circle.key)
    held = [s.starts_at for s in sessions if s.status == SessionStatus.HELD]
    last = max(held) if held else min(p.created_at or turn.now for p in circle.pairs)
    upcoming = [s.starts_at for s in sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > turn.now]
    if upcoming:  # a confirmed session is coming: no gap; look again after it
        schedule_gap_check(turn, circle, min(upcoming) - timedelta(days=days) + timedelta(days=1))
        return
    if turn.now - last < timedelta(days=days):
        schedule_gap_check(turn, circle, last)
        return
    if not circle.pairs[0].at_risk:
        for pair in circle.pairs:
            pair.at_risk, pair.risk_reason = True, "gap"
            turn.uow.matching.save_pair(pair)
        alert_coordinators(
            turn,
            circle.programme,
            "commitment.alert_gap",
            [m.person_id for m in circle.members],
            days=(turn.now - last).days,
            mentor=circle.person(circle.mentor).name,
            mentees=[circle.person(m).name for m in circle.mentees],
        )
    schedule_gap_check(turn, circle, turn.now - timedelta(days=days) + timedelta(days=7))


def mentor_minutes(turn: Turn, programme: Programme, mentor_id: int, month: str) -> int:
    """Minutes a mentor spends in a month: sessions held or booked, plus preparation for each."""
    prep = programme.settings.prep_minutes_per_session
    total = 0
    for circle in circles_of(turn.uow, programme):
        if circle.mentor.id != mentor_id:
            continue
        for session in turn.uow.sessions.of_circle(circle.key):
            if session.starts_at.strftime("%Y-%m") == month and session.status in (
                SessionStatus.HELD,
                SessionStatus.SCHEDULED,
            ):
                total += session.minutes + prep
    return total


def check_workload(turn: Turn, circle: Circle, month: str | None = None) -> None:
    """Tell the mentor and the coordinator at 80% and 100% of the monthly allowance, once each."""
    programme = circle.programme
    month = month or turn.now.strftime("%Y-%m")
    used = mentor_minutes(turn, programme, circle.mentor.id, month)
    allowance = programme.settings.mentor_hours_per_month * 60
    mentor = turn.uow.participants.get(circle.mentor.id)
    assert mentor is not None
    given = set(mentor.notices.get(f"workload:{month}", []))
    for threshold in (80, 100):
        if used * 100 >= allowance * threshold and threshold not in given:
            given.add(threshold)
            person = circle.person(mentor)
            values = {
                "hours": round(used / 60, 1),
                "allowance": programme.settings.mentor_hours_per_month,
                "threshold": threshold,
                "month": month,
            }
            turn.message(
                Address.person(person.id),
                say("commitment.workload_mentor", **values),
                programme_id=programme.id,
                kind="nudge",
            )
            alert_coordinators(
                turn, programme, "commitment.workload_coordinator", [person.id], mentor=person.name, **values
            )
    if given != set(mentor.notices.get(f"workload:{month}", [])):
        mentor.notices = {**mentor.notices, f"workload:{month}": sorted(given)}
        turn.uow.participants.save(mentor)


HANDLERS: tuple[Handling, ...] = (OnDue(GAP_CHECK, on_gap_check),)

"""The counting rules for sessions, in one place: what is *due*, *held*, and *cancelled by whom*.

Every session figure (``status``, ``report``, the dashboard, the CSV of pairs, the charts and the
evaluation) is counted here, from the stored sessions and their events:

- **held**: the session's status is ``held``.
- **due**: held, missed (a no-show), cancelled by one of the pair (mentor or mentee), or still
  ``scheduled`` once its end has passed (nobody answered yet). A session the system cancelled (a pause,
  a rematch, a ``forget-me``, a pair ended or the programme closed) is never due, nor is one still ahead.
- **cancelled by a side**: a due session that was not held, counted for the side that the newest
  ``cancelled`` or ``no_show`` event names. A cancellation later corrected to "held" counts as held.

A ``cancelled`` session is a person's cancellation when a ``cancelled`` event by the mentor or mentee
side, or an outcome answer ``cancelled_me`` / ``cancelled_them``, is recorded for it; otherwise the
system cancelled it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.sessions.model import Session, SessionEvent, SessionStatus

PEOPLE_SIDES = ("mentor", "mentee")
PERSON_CANCELLED = ("cancelled_me", "cancelled_them")


@dataclass(frozen=True)
class SessionCount:
    """How one session counts."""

    due: bool
    held: bool
    slipped_by: str | None
    """``mentor`` or ``mentee`` when a due session was cancelled or missed by that side."""
    by_system: bool
    """Cancelled by the system (pause, rematch, forget-me, end, close): never due."""


@dataclass
class Counts:
    """Session totals over any set of sessions."""

    planned: int = 0
    due: int = 0
    held: int = 0
    cancelled_by_system: int = 0
    slipped: dict[str, int] = field(default_factory=dict)

    @property
    def held_rate(self) -> float | None:
        return self.held / self.due if self.due else None


def _ends_at(session: Session) -> datetime:
    return session.starts_at + timedelta(minutes=session.minutes)


def slip_sides(events: Iterable[SessionEvent]) -> dict[int, str]:
    """Per session id, the side the newest ``cancelled`` / ``no_show`` event by a person names."""
    sides: dict[int, str] = {}
    for event in events:
        if event.session_id is not None and event.kind in ("cancelled", "no_show"):
            if event.side.value in PEOPLE_SIDES:
                sides[event.session_id] = event.side.value
    return sides


def count_session(session: Session, sides: dict[int, str], now: datetime) -> SessionCount:
    """How ``session`` counts at ``now`` (the rule in this module's docstring)."""
    side = sides.get(session.id)
    if session.status == SessionStatus.HELD:
        return SessionCount(due=True, held=True, slipped_by=None, by_system=False)
    if session.status == SessionStatus.MISSED:
        return SessionCount(due=True, held=False, slipped_by=side, by_system=False)
    if session.status == SessionStatus.CANCELLED:
        by_person = side is not None or any(str(v) in PERSON_CANCELLED for v in session.outcome.values())
        return SessionCount(due=by_person, held=False, slipped_by=side if by_person else None, by_system=not by_person)
    return SessionCount(due=_ends_at(session) <= now, held=False, slipped_by=None, by_system=False)


def count_sessions(sessions: Iterable[Session], sides: dict[int, str], now: datetime) -> Counts:
    """Totals for ``sessions`` under the counting rule."""
    counts = Counts()
    for session in sessions:
        one = count_session(session, sides, now)
        counts.planned += 1
        counts.due += one.due
        counts.held += one.held
        counts.cancelled_by_system += one.by_system
        if one.slipped_by:
            counts.slipped[one.slipped_by] = counts.slipped.get(one.slipped_by, 0) + 1
    return counts

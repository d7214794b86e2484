"""The counting rules for sessions, in one place: what is *due*, *held*, and *cancelled by whom*.

Every session figure (``status``, ``report``, the dashboard, the CSV of pairs, the charts and the
evaluation) is counted here, from the stored sessions and their events:

- **held**: the session's status is ``held``.
- **due**: held, missed (a no-show), cancelled by one of the pair (mentor or mentee), or still
  ``scheduled`` once its end has passed (nobody answered yet). A session the system cancelled (a pause,
  a rematch, a ``forget-me``, a pair ended or the programme closed) is never due, nor is one still ahead.
- **cancelled by a side**: a due session that was not held, counted for the side named by the answers
  that still stand (each person's newest ``held`` / ``moved`` / ``cancelled`` / ``no_show`` event): the
  newest standing cancellation, else the newest standing no-show, where someone's own "I had to cancel"
  outweighs a report about others, and in a group a member's "they" (who may be another member) counts
  least. A cancellation its author corrected
  names no side any more; a session corrected to "held" counts as held.

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


ANSWER_KINDS = ("held", "moved", "cancelled", "no_show")


def slip_sides(events: Iterable[SessionEvent]) -> dict[int, str]:
    """Per session id, the side a person's *current* ``cancelled`` (else ``no_show``) event names.

    A person's newer answer about a session replaces their older one (a correction), so a cancellation
    corrected to "held" or "moved" names no side any more; among the answers that stand, a cancellation
    wins over a no-show (as in the session's status), and the newer of two of a kind counts."""
    current: dict[tuple[int, int | None], tuple[int, SessionEvent]] = {}
    for order, event in enumerate(events):  # oldest first: a later answer by the same person replaces theirs
        if event.session_id is not None and event.kind in ANSWER_KINDS:
            current[(event.session_id, event.person_id)] = (order, event)
    sides: dict[int, str] = {}
    for _rank, _order, event in sorted((_weight(event), order, event) for order, event in current.values()):
        if event.kind in ("no_show", "cancelled") and event.side.value in PEOPLE_SIDES and event.session_id is not None:
            sides[event.session_id] = event.side.value  # the weightiest (then newest) answer comes last and wins
    return sides


def _weight(event: SessionEvent) -> tuple[int, int]:
    """How much an answer counts in naming the side: a cancellation over a no-show; then someone saying they
    cancelled themselves, over a side named for sure (in a pair, or by the mentor), over a group member's
    "they" (which may mean another member)."""
    certainty = 2 if event.detail.get("first_hand") else 0 if event.detail.get("uncertain") else 1
    return (1 if event.kind == "cancelled" else 0, certainty)


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

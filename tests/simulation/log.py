"""The simulator's own log: what it saw and did. Truth for the end-of-term figures comes from here only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Violation:
    """An invariant that failed: on which day, for whom, what was seen."""

    invariant: str
    day: int
    who: str
    seen: str

    def __str__(self) -> str:
        return f"[{self.invariant}] day {self.day} {self.who}: {self.seen}"


@dataclass
class Questionnaire:
    """One questionnaire that opened for a person, and how it ended."""

    flow: str
    title: str
    opened_at: datetime
    will_answer: bool
    done_at: datetime | None = None
    closed_with_notice: bool = False
    reprompts: int = 0
    kind: str = ""
    """For a survey: ``midpoint`` or ``final``, as its announcement said when it opened."""
    goal: int | None = None
    """A mentee's goal self-assessment in a survey: it counts once the survey is complete (saved)."""


@dataclass
class SessionSeen:
    """A session as the calendar invites showed it: its start and who received it."""

    uid: str
    starts_at: datetime
    confirmed_at: datetime
    people: set[str] = field(default_factory=set)
    invited: dict[str, datetime] = field(default_factory=dict)
    """When each person last received the invite (a group member coming back receives it again)."""
    cancelled: set[str] = field(default_factory=set)
    """Who received its cancellation (and no invite since)."""
    order: dict[str, int] = field(default_factory=dict)
    """When each person last received the invite, in the log's own order (``TermLog.next``): several things
    happen at one simulated instant, and an invite seen after a stop at that instant came after it."""


@dataclass
class Stop:
    """Someone's sessions stopped being due from ``at`` on (a pause, an end, forget-me, leaving)."""

    email: str
    at: datetime
    reason: str
    until: datetime | None = None
    order: int = 0
    """Its place in the log's own order (``TermLog.next``)."""


@dataclass
class Circle:
    """Who meets: seen from the slot offers (their circle key)."""

    key: str
    members: set[str]
    offered_at: datetime
    ended_at: datetime | None = None
    paused: bool = False


@dataclass
class TermLog:
    """Everything one term produced, as the simulator saw and did it."""

    started: datetime
    events: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    questionnaires: dict[str, list[Questionnaire]] = field(default_factory=dict)
    sessions: dict[str, SessionSeen] = field(default_factory=dict)
    stops: list[Stop] = field(default_factory=list)
    circles: dict[str, Circle] = field(default_factory=dict)
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per session id, each person's standing answer, oldest answer first."""
    asked: dict[str, set[str]] = field(default_factory=dict)
    """Per session id, who was asked whether it happened (everyone in it)."""
    """Session id -> email -> the outcome that person reported."""
    pulses: list[tuple[str, int, datetime]] = field(default_factory=list)
    goal_answers: list[tuple[str, str, int]] = field(default_factory=list)
    """(email, survey kind, goal self-assessment) for mentees."""
    declined: dict[str, datetime] = field(default_factory=dict)
    consented: dict[str, datetime] = field(default_factory=dict)
    paused: dict[str, datetime] = field(default_factory=dict)
    left: dict[str, datetime] = field(default_factory=dict)
    forgotten: dict[str, datetime] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    logged: int = 0

    def next(self) -> int:
        """A number that grows with everything logged: orders what happens at one simulated instant."""
        self.logged += 1
        return self.logged

    def violate(self, invariant: str, day: int, who: str, seen: str) -> None:
        self.violations.append(Violation(invariant, day, who, seen[:300]))

    def stopped(self, session: SessionSeen) -> bool:
        """True when the session was cancelled by the system or a pause, by the simulator's own log."""
        mentees = [p for p in session.people if self.roles.get(p) == "mentee"]
        mentors = [p for p in session.people if self.roles.get(p) == "mentor"]

        def out(email: str) -> bool:
            # A pause cancels every session of the series ahead of it; resuming offers new times (new sessions,
            # confirmed after the stop), or in a group gives the person the group's sessions again (invited anew).
            # Order by time, then by the log's own order: an invite after a stop at the same instant (a rematch
            # into a group that already meets) came after it.
            confirmed = (session.confirmed_at, min(session.order.values(), default=0))
            since = max(confirmed, (session.invited.get(email, session.confirmed_at), session.order.get(email, 0)))
            return email in session.cancelled or any(
                s.email == email and since < (s.at, s.order) and s.at < session.starts_at for s in self.stops
            )

        return any(out(m) for m in mentors) or (bool(mentees) and all(out(m) for m in mentees))

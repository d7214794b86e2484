"""Report figures computed independently from the simulator's log, and read back from the `report` text."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean

from simulation.log import TermLog


@dataclass
class Figures:
    """The figures reconciled at the end of a term; ``None`` where the report shows no figure."""

    held: int | None = None
    due: int | None = None
    cancelled_mentees: int | None = None
    cancelled_mentors: int | None = None
    pulse: tuple[float, int] | None = None
    goal: tuple[float, int] | None = None
    pulse_released: date | None = None
    """The release the report's pulse comes from: it counts the pulses given before that day."""


def expected(log: TermLog, now: datetime, k: int) -> Figures:
    """What every figure should say, from what the simulator did and saw."""
    due = sum(1 for s in log.sessions.values() if s.starts_at <= now and not log.stopped(s))
    held = sum(1 for answers in log.outcomes.values() if "held" in answers.values())
    sides: Counter[str] = Counter()
    for session, answers in log.outcomes.items():
        if side := slipped_side(log, session, answers):
            sides[side] += 1
    pulse = pulse_before(log, now, k)
    kinds = {kind for _, kind, _ in log.goal_answers}
    kind = "final" if "final" in kinds else "midpoint"
    goals = [(e, v) for e, kd, v in log.goal_answers if kd == kind]
    goal_people = {e for e, _ in goals}
    goal = (round(mean(v for _, v in goals), 1), len(goal_people)) if len(goal_people) >= k else None
    return Figures(held, due, sides["mentee"], sides["mentor"], pulse, goal)


def pulse_before(log: TermLog, cutoff: datetime, k: int) -> tuple[float, int] | None:
    """The pulse over the pulses given before ``cutoff`` (a release counts those), when at least k people gave one."""
    # ratings stay as anonymous totals after a forget-me (only words and check-ins go): they still count
    pulses = [(e, v) for e, v, at in log.pulses if at < cutoff]
    people = {e for e, _ in pulses}
    return (round(mean(v for _, v in pulses), 1), len(people)) if len(people) >= k else None


def release_points(starts: date, ends: date, now: datetime) -> list[datetime]:
    """The days figures are released on, up to ``now`` (docs/privacy.md): the start of the term, a week after the
    midpoint survey, the day after the last day, and the first of every month; none before the start."""
    days = {starts, starts + (ends - starts) / 2 + timedelta(days=7), ends + timedelta(days=1)}
    month = date(starts.year, starts.month, 1)
    while month <= now.date():
        days.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    points = [datetime.combine(day, time(0), UTC) for day in days if day >= starts]
    return sorted(p for p in points if p <= now)


def slipped_side(log: TermLog, session: str, answers: dict[str, str]) -> str | None:
    """The side a session not held counts against (docs/reports.md): a cancellation over a no-show; then
    someone's own "I had to cancel", over a side named for sure, over a group member's "they"; then the newest."""
    group = sum(1 for email in log.asked.get(session, ()) if log.roles.get(email) == "mentee") > 1
    best: tuple[int, int, int] | None = None
    side = None
    for order, (email, said) in enumerate(answers.items()):
        role = log.roles.get(email, "?")
        if said == "cancelled_me":
            weight, named = (1, 2, order), role
        elif said in ("cancelled_them", "no_show"):
            certain = 0 if group and role == "mentee" else 1
            weight, named = (
                (1 if said == "cancelled_them" else 0, certain, order),
                "mentee" if role == "mentor" else "mentor",
            )
        else:
            continue
        if best is None or weight > best:
            best, side = weight, named
    return side


SESSIONS = re.compile(r"Sessions: (\d+) held of (\d+) due.*?by mentees (\d+), by mentors (\d+)")
PULSE = re.compile(
    r"Pulse \(session usefulness, 1-5\): (?:([\d.]+) from (\d+) people \(released (\d{4}-\d\d-\d\d)|not enough|not released)"
)
GOAL = re.compile(r"now ([\d.]+) \(mentees' self-assessment, (\d+) people\)|no measurement yet")


def reported(text: str) -> tuple[Figures, list[str]]:
    """The figures the `report` text shows, and the ones it could not be read for."""
    figures, missing = Figures(), []
    if match := SESSIONS.search(text):
        figures.held, figures.due, figures.cancelled_mentees, figures.cancelled_mentors = map(int, match.groups())
    else:
        missing.append("sessions")
    if match := PULSE.search(text):
        figures.pulse = (float(match[1]), int(match[2])) if match[1] else None
        figures.pulse_released = date.fromisoformat(match[3]) if match[3] else None
    else:
        missing.append("pulse")
    if match := GOAL.search(text):
        figures.goal = (float(match[1]), int(match[2])) if match[1] else None
    else:
        missing.append("goal")
    return figures, missing

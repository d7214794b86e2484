"""Exports: a CSV of pairs with status and counts (never content), and the report as Markdown."""

from __future__ import annotations

from datetime import datetime

from bot.domain import PairStatus, Programme
from bot.errors import required
from bot.ports import UnitOfWork
from bot.reports.counting import count_sessions, slip_sides
from bot.spreadsheets import Cell, csv_text

PAIR_COLUMNS = (
    "mentor",
    "mentee",
    "status",
    "at_risk",
    "sessions_planned",
    "sessions_due",
    "sessions_held",
    "cancelled_by_mentor",
    "cancelled_by_mentee",
    "cancelled_by_system",
    "goals_set",
    "goals_done",
)


def pairs_csv(uow: UnitOfWork, programme: Programme, now: datetime) -> str:
    """One row per pair: who, status and counts (under the rules of :mod:`bot.reports.counting`, as in
    ``status`` and ``report``). Goals and notes stay with the pair: only counts here. Names come from
    people's chat profiles, so the file is written by :func:`bot.spreadsheets.csv_text` (no formulas)."""
    sessions = uow.sessions.of_programme(programme.id)
    sides = slip_sides(uow.sessions.events(programme.id))
    rows: list[list[Cell]] = [list(PAIR_COLUMNS)]
    for pair in uow.matching.pairs(programme.id):
        mentor = required(uow.participants.get(pair.mentor_id), "participant", pair.mentor_id)
        mentee = required(uow.participants.get(pair.mentee_id), "participant", pair.mentee_id)
        people = uow.people.many([mentor.person_id, mentee.person_id])
        mine = [s for s in sessions if s.mentor_id == pair.mentor_id and pair.mentee_id in s.mentee_ids]
        counts = count_sessions(mine, sides, now)
        rows.append(
            [
                people[mentor.person_id].name,
                people[mentee.person_id].name,
                pair.status.value,
                "yes" if pair.at_risk and pair.status != PairStatus.ENDED else "no",
                counts.planned,
                counts.due,
                counts.held,
                counts.slipped.get("mentor", 0),
                counts.slipped.get("mentee", 0),
                counts.cancelled_by_system,
                len(pair.goals),
                sum(1 for g in pair.goals if g.get("done")),
            ]
        )
    return csv_text(rows)

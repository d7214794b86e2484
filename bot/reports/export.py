"""Exports: a CSV of pairs with status and counts (never content), and the report as Markdown."""

from __future__ import annotations

import csv
import io

from bot.domain import PairStatus, Programme
from bot.errors import required
from bot.ports import UnitOfWork
from bot.sessions.model import SessionStatus

PAIR_COLUMNS = (
    "mentor",
    "mentee",
    "status",
    "at_risk",
    "sessions_planned",
    "sessions_held",
    "cancelled_by_mentor",
    "cancelled_by_mentee",
    "goals_set",
    "goals_done",
)


def pairs_csv(uow: UnitOfWork, programme: Programme) -> str:
    """One row per pair: who, status and counts. Goals and notes stay with the pair: only counts here."""
    sessions = uow.sessions.of_programme(programme.id)
    sides: dict[int, str] = {}
    for event in uow.sessions.events(programme.id):
        if event.kind in ("cancelled", "no_show") and event.session_id is not None:
            sides[event.session_id] = event.side.value
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAIR_COLUMNS)
    for pair in uow.matching.pairs(programme.id):
        mentor = required(uow.participants.get(pair.mentor_id), "participant", pair.mentor_id)
        mentee = required(uow.participants.get(pair.mentee_id), "participant", pair.mentee_id)
        people = uow.people.many([mentor.person_id, mentee.person_id])
        mine = [s for s in sessions if s.mentor_id == pair.mentor_id and pair.mentee_id in s.mentee_ids]
        writer.writerow(
            [
                people[mentor.person_id].name,
                people[mentee.person_id].name,
                pair.status.value,
                "yes" if pair.at_risk and pair.status != PairStatus.ENDED else "no",
                len(mine),
                sum(1 for s in mine if s.status == SessionStatus.HELD),
                sum(1 for s in mine if sides.get(s.id) == "mentor"),
                sum(1 for s in mine if sides.get(s.id) == "mentee"),
                len(pair.goals),
                sum(1 for g in pair.goals if g.get("done")),
            ]
        )
    return out.getvalue()

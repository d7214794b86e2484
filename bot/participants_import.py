"""Participants of a programme from a spreadsheet or form export: validate every row before writing any.

Columns: ``email``, ``role`` (mentor or mentee), ``capacity``, ``can_teach`` and ``want_to_learn`` (topic
tags separated by ``;``), and optionally ``cadence``, ``working_hours``, ``rankings`` (mentor emails
separated by ``;``, best first), ``consented_at`` (the date consent was given elsewhere, e.g. on a paper
form) and ``onboarded_at`` (the date they were onboarded elsewhere). Everyone must already be in the
directory. Without ``consented_at`` a row is an invitation: the person is asked for consent in chat,
then takes the intake and the onboarding.

:func:`enrol` applies valid rows, updating participants in place on re-import. A row with ``consented_at``
records consent given elsewhere: the participant is active with the file's answers as their intake; without
``onboarded_at`` a job starts their onboarding in chat (``bot/enrolment.py``). Matching takes only people who
consented and finished both. Someone who declined or left stays so: an import never brings anyone back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.directory import RowError
from bot.domain import NewParticipant, Participant, ParticipantStatus, Programme, Role
from bot.enrolment import IMPORT_INVITE, IMPORT_ONBOARDING
from bot.intake_flow import topic_tags
from bot.ports import ParticipantRepository, PeopleRepository, ScheduleRepository
from bot.values import ValueProblem, parse_cadence, parse_working_hours
from bot.wording import say, unescape

REQUIRED = ("email", "role")


@dataclass(frozen=True)
class ParticipantRow:
    """One valid participant from the file (email and rankings lower-cased)."""

    line: int
    email: str
    role: str
    capacity: int = 1
    topics: tuple[str, ...] = ()
    cadence_days: int | None = None
    working_hours: str | None = None
    rankings: tuple[str, ...] = ()
    consented_at: datetime | None = None
    onboarded_at: datetime | None = None


@dataclass
class ParticipantsParse:
    """What a file holds: the valid rows, and every problem found."""

    rows: list[ParticipantRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _reason(key: str, **values: object) -> str:
    return unescape(say(f"participants.{key}", **values))


def _tags(raw: str) -> list[str]:
    return [t.strip().lower() for t in raw.replace(",", ";").split(";") if t.strip()]


def _moment(raw: str) -> datetime | None:
    """A date or an ISO date and time (UTC unless it says otherwise), or None when it is neither."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_participants(text: str, directory: Mapping[str, int]) -> ParticipantsParse:
    """Validate a participants CSV against the directory (lower-cased email -> person id)."""
    result = ParticipantsParse()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as problem:
        result.errors.append(RowError(reader.line_num or 1, "", _reason("unreadable", reason=str(problem))))
        return result
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.errors.append(RowError(1, "", _reason("missing_columns", columns=missing)))
        return result
    known_tags = {tag["value"] for tag in topic_tags()}
    seen: dict[str, int] = {}
    pending: list[tuple[ParticipantRow, list[str]]] = []
    for line, record in records:
        values = {
            (k or "").strip().lower(): (v or "").strip()
            for k, v in record.items()
            if isinstance(k, str) and isinstance(v, str)
        }  # cells beyond the header are ignored
        if not any(values.values()):
            continue
        email = values.get("email", "").lower()
        problems: list[str] = []
        if not email:
            problems.append(_reason("missing_field", field="email"))
        elif email in seen:
            problems.append(_reason("duplicate_email", email=email, first_line=seen[email]))
        elif email not in directory:
            problems.append(_reason("not_in_directory", email=email))
        seen.setdefault(email, line)
        role = values.get("role", "").lower()
        if role not in ("mentor", "mentee"):
            problems.append(_reason("bad_role", given=values.get("role", "")))
        capacity = 1
        if values.get("capacity"):
            if not values["capacity"].isdecimal() or not 1 <= int(values["capacity"]) <= 20:
                problems.append(_reason("bad_capacity", given=values["capacity"]))
            else:
                capacity = int(values["capacity"])
        column = "can_teach" if role == "mentor" else "want_to_learn"
        topics = _tags(values.get(column, ""))
        unknown = [t for t in topics if t not in known_tags]
        if unknown:
            problems.append(_reason("unknown_topics", column=column, tags=unknown, known=sorted(known_tags)))
        cadence = hours = None
        try:
            cadence = parse_cadence(values["cadence"]) if values.get("cadence") else None
            hours = parse_working_hours(values["working_hours"]) if values.get("working_hours") else None
        except ValueProblem as problem:
            problems.append(unescape(say(problem.key, **problem.values)))
        rankings = tuple(e.lower() for e in _tags(values.get("rankings", "")))
        if rankings and role != "mentee":
            problems.append(_reason("rankings_for_mentees"))
        repeated = sorted({e for e in rankings if rankings.count(e) > 1})
        if repeated:
            problems.append(_reason("rankings_repeated", emails=repeated))
        moments: dict[str, datetime | None] = {}
        for column in ("consented_at", "onboarded_at"):
            moments[column] = _moment(values[column]) if values.get(column) else None
            if values.get(column) and moments[column] is None:
                problems.append(_reason("bad_moment", column=column, given=values[column]))
        if moments["onboarded_at"] and not values.get("consented_at"):
            problems.append(_reason("onboarded_without_consent"))
        row = ParticipantRow(
            line=line,
            email=email,
            role=role,
            capacity=capacity,
            topics=tuple(topics),
            cadence_days=cadence,
            working_hours=hours,
            rankings=rankings,
            consented_at=moments["consented_at"],
            onboarded_at=moments["onboarded_at"],
        )
        pending.append((row, problems))
    mentors = {row.email for row, _ in pending if row.role == "mentor"}
    for row, problems in pending:
        strangers = [e for e in row.rankings if e not in mentors]
        if strangers:
            problems.append(_reason("ranked_not_mentors", emails=strangers))
        if problems:
            result.errors.extend(RowError(row.line, row.email, p) for p in problems)
        else:
            result.rows.append(row)
    return result


@dataclass(frozen=True)
class ParticipantsSummary:
    """What an import did: new and updated rows, and who is invited, consented, or left alone."""

    created: int = 0
    updated: int = 0
    invited: int = 0
    consented: int = 0
    onboarding: int = 0
    untouched: int = 0


def enrol(
    participants: ParticipantRepository,
    people: PeopleRepository,
    schedule: ScheduleRepository,
    programme: Programme,
    rows: Iterable[ParticipantRow],
    directory: Mapping[str, int],
    now: datetime,
) -> ParticipantsSummary:
    """Create or update each row's participant: invited, or active when the file records consent given elsewhere.

    ``directory`` maps lower-cased emails to person ids (as :func:`parse_participants` was given it)."""
    counts = dict.fromkeys(("created", "updated", "invited", "consented", "onboarding", "untouched"), 0)
    by_email: dict[str, Participant] = {}
    rows = list(rows)
    for row in rows:
        person_id = directory[row.email]
        intake: dict[str, Any] = {"teach_topics" if row.role == "mentor" else "learn_topics": list(row.topics)}
        if row.cadence_days:
            intake["cadence"] = str(row.cadence_days)
        existing = participants.find(programme.id, person_id)
        if existing is not None and existing.status in (ParticipantStatus.DECLINED, ParticipantStatus.LEFT):
            counts["untouched"] += 1  # their answer stands; an import never brings anyone back
            continue
        if existing is None:
            participant = participants.add(
                NewParticipant(
                    programme_id=programme.id,
                    person_id=person_id,
                    role=Role(row.role),
                    capacity=row.capacity,
                    status=ParticipantStatus.INVITED,
                    intake=intake,
                )
            )
            counts["created"] += 1
        else:
            existing.role, existing.capacity = Role(row.role), row.capacity
            existing.intake = {**existing.intake, **intake}
            participant = participants.save(existing)
            counts["updated"] += 1
        if row.consented_at is not None and participant.status == ParticipantStatus.INVITED:
            participant.status, participant.joined_at = ParticipantStatus.ACTIVE, row.consented_at
        if participant.status == ParticipantStatus.INVITED:
            counts["invited"] += 1
            schedule.add(
                programme.tenant_id,
                IMPORT_INVITE,
                now,
                {"participant_id": participant.id},
                key=f"import-invite:{participant.id}",
            )
        else:
            counts["consented"] += 1
            participant.intake_completed_at = participant.intake_completed_at or now
            participant.onboarded_at = participant.onboarded_at or row.onboarded_at
            if participant.onboarded_at is None:
                counts["onboarding"] += 1
                schedule.add(
                    programme.tenant_id,
                    IMPORT_ONBOARDING,
                    now,
                    {"participant_id": participant.id},
                    key=f"import-onboarding:{participant.id}",
                )
        participant = participants.save(participant)
        by_email[row.email] = participant
        if row.working_hours:
            person = people.get(person_id)
            if person is not None and person.working_hours != row.working_hours:
                person.working_hours = row.working_hours
                people.save(person)
    for row in rows:
        if row.rankings and row.email in by_email:
            participant = by_email[row.email]
            ranked = [by_email[e].id for e in row.rankings if e in by_email]
            participant.intake = {**participant.intake, "mentor_choices": ranked}
            participants.save(participant)
    return ParticipantsSummary(**counts)

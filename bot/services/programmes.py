"""Programme use cases: create, edit, confirm the goal's direction, clone, close, and the intake questions and
session library a programme adds, whichever surface asks (the chat's handlers or the ``rmbot`` command line).

The service works on stored programmes, raises :class:`~bot.values.ValueProblem` for a value it cannot take
and :class:`~bot.errors.CommandError` for a refusal, and never words a reply.

**The audit log.** Every coordinator action leaves exactly one entry in the programme's audit log, whatever
the surface. In chat the engine records the verb after its handler ran (``Engine.run_command``), so the
chat's handlers call these methods as they are. The command line has no engine: it passes ``audit_as``, the
entry's detail (what the operator ran), and the method records one entry under its verb with no person (the
operator) in the same transaction as the change. A method refused records nothing.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Self

from bot.domain import NewProgramme, PairStatus, Programme, ProgrammeSettings, ProgrammeStatus, Role
from bot.errors import CommandError
from bot.intake_flow import MAX_QUESTIONS, next_question_number, question_from_spec
from bot.library import Library, load_library
from bot.sessions.circles import circles_of
from bot.sessions.scheduling import cancel_circle
from bot.values import ValueProblem

if TYPE_CHECKING:
    from bot.context import Turn
    from bot.ports import (
        AuditRepository,
        CoordinatorRepository,
        ParticipantRepository,
        PeopleRepository,
        ProgrammeRepository,
        ScheduleRepository,
        UnitOfWork,
    )

RETENTION_JOB = "programme_retention"
"""The job that purges a closed programme's participants' personal data after its retention period."""
GOAL_FIELDS = ("goal_target", "goal_baseline")
"""The goal's numbers: changing one may turn which direction is better."""


def slugify(name: str) -> str:
    """A short, URL-safe handle for a programme name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "programme"


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept inside the target month (31 May + 6 months is 30 November)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shifted(day: date, shift: tuple[int, str]) -> date:
    """``day`` moved forward by ``shift``: an amount of ``d``\\ays, ``w``\\eeks, ``m``\\onths or ``y``\\ears."""
    amount, unit = shift
    if unit in ("d", "w"):
        return day + timedelta(days=amount * (7 if unit == "w" else 1))
    return add_months(day, amount * (12 if unit == "y" else 1))


def check_term(starts: date, ends: date | None, today: date) -> None:
    """A new term starts after ``today`` and ends after it starts (raises :class:`ValueProblem`)."""
    if starts <= today:
        raise ValueProblem("input.date_not_future", given=starts.isoformat())
    if ends is not None and ends <= starts:
        raise ValueProblem("reports.clone_term_order", starts=starts.isoformat(), ends=ends.isoformat())


def direction_needed(programme: Programme) -> str | None:
    """The direction the goal's baseline and target imply, when it is not the one stored."""
    baseline, target = programme.goal_baseline, programme.goal_target
    if baseline is None or target is None or baseline == target:
        return None
    implied = "lower" if target < baseline else "higher"
    return implied if implied != programme.settings.goal_direction else None


def _field_value(programme: Programme, attribute: str) -> Any:
    """A field of the programme, or its goal direction (a setting)."""
    return getattr(programme.settings if attribute == "goal_direction" else programme, attribute)


def goal_values(programme: Programme) -> dict[str, str]:
    """The goal's baseline, target and direction, as the wording about them takes them."""
    return {
        "baseline": f"{programme.goal_baseline:g}" if programme.goal_baseline is not None else "",
        "target": f"{programme.goal_target:g}" if programme.goal_target is not None else "",
        "direction": programme.settings.goal_direction,
    }


@dataclass(frozen=True)
class Edited:
    """What :meth:`ProgrammeService.edit` did: the programme as it now is, the value as stored, and whether
    anything changed; or the direction the coordinator must confirm first (``confirm``; nothing was stored and
    ``programme`` is the programme as it would be)."""

    programme: Programme
    value: Any
    changed: bool
    confirm: str | None = None


class QuestionsRefused(ValueProblem):
    """Questions that do not all fit (nothing was stored): each problem with its question's number."""

    def __init__(self, problems: list[tuple[int, ValueProblem]]) -> None:
        super().__init__("intake.questions_refused", count=len(problems))
        self.problems = problems


@dataclass(frozen=True)
class ProgrammeService:
    """Creates, edits, clones and closes programmes, and sets what they add to the intake and the library.

    Methods that the command line calls take ``audit_as``: see the module's note on the audit log."""

    programmes: ProgrammeRepository
    coordinators: CoordinatorRepository
    participants: ParticipantRepository
    people: PeopleRepository
    schedule: ScheduleRepository
    audit: AuditRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over the repositories of ``uow``."""
        return cls(uow.programmes, uow.coordinators, uow.participants, uow.people, uow.schedule, uow.audit)

    def _record(self, programme: Programme, verb: str, audit_as: str | None) -> None:
        if audit_as is not None:
            self.audit.add(programme.tenant_id, programme.id, None, verb, audit_as)

    # -- names --------------------------------------------------------------------------------------

    def check_unique_name(self, tenant_id: int, name: str, exclude: int | None = None) -> None:
        """Programme names are unique within a tenant (raises :class:`ValueProblem`)."""
        for programme in self.programmes.in_tenant(tenant_id):
            if programme.name.lower() == name.lower() and programme.id != exclude:
                raise ValueProblem("programme.name_taken", name=name)

    def check_name(self, tenant_id: int, name: str) -> str:
        """A new programme's name with its spaces tidied: 3 to 80 characters, not taken in the tenant."""
        name = " ".join(name.split())
        if not 3 <= len(name) <= 80:
            raise ValueProblem("programme.bad_name", name=name)
        self.check_unique_name(tenant_id, name)
        return name

    def _unique_slug(self, tenant_id: int, name: str, exclude: int | None = None) -> str:
        base = slugify(name)
        slug, n = base, 2
        while (existing := self.programmes.by_slug(tenant_id, slug)) is not None and existing.id != exclude:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def coordinated(self, programme_id: int, person_id: int) -> Programme:
        """The programme a button or a questionnaire names, if ``person_id`` coordinates it."""
        programme = self.programmes.get(programme_id)
        if programme is None or person_id not in self.coordinators.of_programme(programme.id):
            raise CommandError("programme.button_not_yours")
        return programme

    # -- create and clone ---------------------------------------------------------------------------

    def create(
        self,
        tenant_id: int,
        name: str,
        *,
        coordinator_id: int | None = None,
        audit_as: str | None = None,
        **fields: Any,
    ) -> Programme:
        """Store a new programme with a unique slug (``fields`` as :class:`~bot.domain.NewProgramme`); its
        creator (if any) becomes a coordinator."""
        name = self.check_name(tenant_id, name)
        starts, ends = fields.get("starts_on"), fields.get("ends_on")
        if starts and ends and ends <= starts:
            raise ValueProblem("programme.term_order", starts=starts, ends=ends)
        slug = self._unique_slug(tenant_id, name)
        programme = self.programmes.add(NewProgramme(tenant_id=tenant_id, slug=slug, name=name, **fields))
        if coordinator_id is not None:
            self.coordinators.add(programme.id, coordinator_id, added_by=coordinator_id)
        self._record(programme, "program new", audit_as)
        return programme

    def clone(
        self,
        source: Programme,
        name: str,
        starts: date,
        ends: date,
        *,
        by: int,
        today: date,
        shift: tuple[int, str] | None = None,
    ) -> Programme:
        """The next cohort of ``source``: its settings (never repeating a pair), questions and coordinators,
        the term ``starts``..``ends``, and the goal date as far from the end as before (or moved by ``shift``)."""
        check_term(starts, ends, today)
        goal_date = source.goal_date
        if goal_date is not None and shift is not None:
            goal_date = shifted(goal_date, shift)
        elif goal_date is not None and source.ends_on is not None:
            goal_date = goal_date + (ends - source.ends_on)
        copy = self.create(
            source.tenant_id,
            name,
            coordinator_id=by,
            focus=source.focus,
            focus_detail=source.focus_detail,
            goal_metric=source.goal_metric,
            goal_baseline=source.goal_baseline,
            goal_target=source.goal_target,
            goal_date=goal_date,
            expectations=source.expectations,
            starts_on=starts,
            ends_on=ends,
            cadence_days=source.cadence_days,
            session_minutes=source.session_minutes,
            settings=source.settings.model_copy(update={"allow_repeat_pairs": False}),
            intake_questions=list(source.intake_questions),
            cloned_from_id=source.id,
        )
        for person_id in self.coordinators.of_programme(source.id):
            self.coordinators.add(copy.id, person_id, added_by=by)
        return copy

    # -- edit ---------------------------------------------------------------------------------------

    def edit(self, programme: Programme, attribute: str, value: Any) -> Edited:
        """Set one field of the programme, or one of its settings (an attribute of
        :class:`~bot.domain.ProgrammeSettings`), to a value already parsed. A target or baseline that turns
        which direction is better is not stored: the result asks for the direction to be confirmed."""
        changed = programme.model_copy(deep=True)
        if attribute in ProgrammeSettings.model_fields:
            if attribute == "sponsor_email":
                value = self._sponsor(programme.tenant_id, str(value))
            changed.settings = changed.settings.model_copy(update={attribute: value})
        elif attribute == "name":
            self.check_unique_name(programme.tenant_id, value, exclude=programme.id)
            changed.name, changed.slug = value, self._unique_slug(programme.tenant_id, value, exclude=programme.id)
        else:
            setattr(changed, attribute, value)
        if changed.starts_on and changed.ends_on and changed.ends_on <= changed.starts_on:
            raise CommandError("programme.term_order", starts=changed.starts_on, ends=changed.ends_on)
        if changed == programme:
            return Edited(programme, value, changed=False)
        wanted = direction_needed(changed)
        if wanted is not None:
            if attribute not in GOAL_FIELDS:
                raise CommandError("programme.direction_contradicts", **goal_values(changed))
            return Edited(changed, value, changed=False, confirm=wanted)
        self.programmes.save(changed)
        if changed.settings.mentor_capacity != programme.settings.mentor_capacity:
            self._apply_mentor_capacity(changed, programme.settings.mentor_capacity)
        return Edited(changed, value, changed=True)

    def edit_fields(self, programme: Programme, changes: dict[str, Any]) -> list[str]:
        """Set several fields at once (the ``program edit`` form), checked together: a unique name, the term's
        order, and the goal's direction (``goal_direction``, a setting). Returns the attributes that changed."""
        changed = programme.model_copy(deep=True)
        for attribute, value in changes.items():
            if attribute == "goal_direction":
                changed.settings = changed.settings.model_copy(update={attribute: value})
            elif attribute == "name" and value != programme.name:
                self.check_unique_name(programme.tenant_id, value, exclude=programme.id)
                changed.name, changed.slug = value, self._unique_slug(programme.tenant_id, value, exclude=programme.id)
            else:
                setattr(changed, attribute, value)
        if changed.starts_on and changed.ends_on and changed.ends_on <= changed.starts_on:
            raise CommandError("programme.term_order", starts=changed.starts_on, ends=changed.ends_on)
        if direction_needed(changed) is not None:
            raise CommandError("programme.direction_contradicts", **goal_values(changed))
        names = [a for a in changes if _field_value(changed, a) != _field_value(programme, a)]
        if names:
            self.programmes.save(changed)
        return names

    def confirm_direction(self, programme: Programme, attribute: str, value: float, wanted: str) -> Programme:
        """Store a target or baseline with the direction the coordinator confirmed is better."""
        if attribute not in GOAL_FIELDS or wanted not in ("higher", "lower"):
            raise CommandError("programme.button_not_yours")
        setattr(programme, attribute, value)
        programme.settings = programme.settings.model_copy(update={"goal_direction": wanted})
        if direction_needed(programme) is not None:  # the goal changed since the question was asked
            raise CommandError("programme.direction_contradicts", **goal_values(programme))
        return self.programmes.save(programme)

    def _sponsor(self, tenant_id: int, value: str) -> str:
        """A sponsor is someone in the directory (``none`` clears the sponsor)."""
        email = value.strip().lower()
        if email == "none":
            return ""
        person = self.people.by_email(tenant_id, email)
        if person is None or person.left_at is not None:
            raise ValueProblem("programme.sponsor_not_in_directory", email=email)
        return email

    def _apply_mentor_capacity(self, programme: Programme, old: int) -> None:
        """A new default capacity applies to the mentors who joined with the old default (not to those whose
        capacity was set on their own, in an import)."""
        for participant in self.participants.in_programme(programme.id):
            if participant.role == Role.MENTOR and participant.capacity == old:
                participant.capacity = programme.settings.mentor_capacity
                self.participants.save(participant)

    # -- intake questions and library ---------------------------------------------------------------

    def add_question(self, programme: Programme, spec: dict[str, Any]) -> dict[str, Any]:
        """Add a question to the programme's intake (``spec`` as :func:`bot.intake_flow.question_from_spec`
        takes it); returns it as a flow step."""
        if len(programme.intake_questions) >= MAX_QUESTIONS:
            raise CommandError("intake.question_limit", limit=MAX_QUESTIONS)
        step = question_from_spec(spec, next_question_number(programme))
        programme.intake_questions = [*programme.intake_questions, step]
        self.programmes.save(programme)
        return step

    def remove_question(self, programme: Programme, number: str) -> None:
        """Remove the added question ``number`` from the programme's intake."""
        remaining = [q for q in programme.intake_questions if q["id"] != f"extra_{number}"]
        if len(remaining) == len(programme.intake_questions):
            raise CommandError("intake.question_unknown", given=number)
        programme.intake_questions = remaining
        self.programmes.save(programme)

    def set_questions(
        self, programme: Programme, specs: list[dict[str, Any]], *, audit_as: str | None = None
    ) -> list[dict[str, Any]]:
        """Replace the questions the programme adds to its intake, all or nothing: a problem with any of them
        raises :class:`QuestionsRefused` naming every one. Returns the questions as flow steps."""
        if len(specs) > MAX_QUESTIONS:
            raise CommandError("intake.question_limit", limit=MAX_QUESTIONS)
        steps: list[dict[str, Any]] = []
        problems: list[tuple[int, ValueProblem]] = []
        for number, spec in enumerate(specs, start=1):
            try:
                steps.append(question_from_spec(spec, number))
            except ValueProblem as problem:
                problems.append((number, problem))
        if problems:
            raise QuestionsRefused(problems)
        programme.intake_questions = steps
        self.programmes.save(programme)
        self._record(programme, "program questions", audit_as)
        return steps

    def set_library(
        self, programme: Programme, extra: dict[str, Any], *, source: str, audit_as: str | None = None
    ) -> Library:
        """Give the programme its own topics and frameworks (``extra``, read from ``source``), added to the
        shipped library; raises :class:`~bot.library.LibraryError` when they do not fit. Returns the merged
        library."""
        merged = load_library().merged(extra, source=source)
        programme.settings = programme.settings.model_copy(update={"library": extra})
        self.programmes.save(programme)
        self._record(programme, "program library", audit_as)
        return merged

    # -- close --------------------------------------------------------------------------------------

    def close(self, turn: Turn, programme: Programme) -> None:
        """End every pair of the programme (their future sessions cancelled), close it, and schedule the purge
        of its participants' personal data after its retention period (:data:`RETENTION_JOB`). ``turn`` is
        the context the cancelled sessions' jobs are withdrawn in."""
        if programme.status == ProgrammeStatus.CLOSED:
            raise CommandError("reports.already_closed", programme=programme)
        for circle in circles_of(turn.uow, programme):
            cancel_circle(turn, turn.uow.sessions.of_circle(circle.key))
            for pair in circle.pairs:
                pair.status, pair.ended_at, pair.end_reason = PairStatus.ENDED, turn.now, "programme closed"
                turn.uow.matching.save_pair(pair)
        programme.status = ProgrammeStatus.CLOSED
        self.programmes.save(programme)
        self.schedule.add(
            programme.tenant_id,
            RETENTION_JOB,
            turn.now + timedelta(days=programme.settings.retention_days),
            {"programme_id": programme.id},
            key=f"retention:{programme.id}",
        )

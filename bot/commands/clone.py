"""``program clone``: the next cohort, with the same settings, a term of its own and no repeat pairs.

The new term comes from ``--starts`` and ``--ends``, from ``--shift`` (the old term moved forward by days,
weeks, months or years), or, when neither is given, from a short conversation
(``prompts/flows/program_clone.yml``) that suggests the old term's length starting the day after it ends.
The programme is created only once its term is known, so nothing can be invited or scheduled without one.
Participants of the source programme who join the clone are returning people (``bot/returning.py``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.commands.programmes import check_unique_name, new_programme
from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.flows.definition import load_flow
from bot.flows.inputs import parse_answer
from bot.values import ValueProblem
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

FLOW = "program_clone"
_SHIFT = re.compile(r"^(\d{1,3})([dwmy])$")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept inside the target month (31 May + 6 months is 30 November)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_shift(raw: str) -> tuple[int, str]:
    """``6m``, ``26w``, ``90d`` or ``1y``: a positive amount and its unit (raises :class:`ValueProblem`)."""
    found = _SHIFT.match(raw.strip().lower())
    if found is None or int(found.group(1)) == 0:
        raise ValueProblem("reports.clone_bad_shift", given=raw)
    return int(found.group(1)), found.group(2)


def shifted(day: date, shift: tuple[int, str]) -> date:
    """``day`` moved forward by ``shift``."""
    amount, unit = shift
    if unit in ("d", "w"):
        return day + timedelta(days=amount * (7 if unit == "w" else 1))
    return add_months(day, amount * (12 if unit == "y" else 1))


def suggested_term(source: Programme, today: date) -> tuple[date, date] | None:
    """The source's term length, starting the day after it ends (or tomorrow, if it ended already)."""
    if source.starts_on is None or source.ends_on is None:
        return None
    starts = max(source.ends_on, today) + timedelta(days=1)
    return starts, starts + (source.ends_on - source.starts_on)


def _date(step_id: str, raw: str, answers: dict[str, Any], today: date) -> date:
    """A typed date, checked as the conversation checks it (readable; the start in the future)."""
    step = load_flow(FLOW).step(step_id)
    assert step is not None
    return date.fromisoformat(parse_answer(step, raw, answers, today))


def _checked_term(starts: date, ends: date | None, today: date) -> None:
    if starts <= today:
        raise ValueProblem("input.date_not_future", given=starts.isoformat())
    if ends is not None and ends <= starts:
        raise ValueProblem("reports.clone_term_order", starts=starts.isoformat(), ends=ends.isoformat())


def term_from_options(
    source: Programme, options: dict[str, str], today: date
) -> tuple[date | None, date | None, tuple[int, str] | None]:
    """The new term from ``--starts``/``--ends`` or ``--shift``: (starts, ends, shift); None where not given."""
    starts_raw, ends_raw, shift_raw = options.get("starts"), options.get("ends"), options.get("shift")
    if shift_raw is not None and (starts_raw is not None or ends_raw is not None):
        raise ValueProblem("reports.clone_shift_or_dates")
    if shift_raw is not None:
        shift = parse_shift(shift_raw)
        if source.starts_on is None or source.ends_on is None:
            raise ValueProblem("reports.clone_nothing_to_shift", source=source.name)
        moved = shifted(source.starts_on, shift), shifted(source.ends_on, shift)
        _checked_term(*moved, today)
        return *moved, shift
    if ends_raw is not None and starts_raw is None:
        raise ValueProblem("reports.clone_ends_alone")
    if starts_raw is None:
        return None, None, None
    begins = _date("starts_on", starts_raw, {}, today)
    finishes = _date("ends_on", ends_raw, {}, today) if ends_raw is not None else None
    _checked_term(begins, finishes, today)
    return begins, finishes, None


def create_clone(
    turn: Turn, source: Programme, name: str, starts: date, ends: date, shift: tuple[int, str] | None = None
) -> Programme:
    """Store the next cohort of ``source`` with its term; its coordinators come along; it becomes current."""
    _checked_term(starts, ends, turn.now.date())
    goal_date = source.goal_date
    if goal_date is not None and shift is not None:
        goal_date = shifted(goal_date, shift)
    elif goal_date is not None and source.ends_on is not None:
        goal_date = goal_date + (ends - source.ends_on)  # the same distance from the end of the term
    copy = new_programme(
        turn.uow,
        turn.tenant.id,
        name,
        coordinator_id=turn.me.id,
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
    for person_id in turn.uow.coordinators.of_programme(source.id):
        turn.uow.coordinators.add(copy.id, person_id, added_by=turn.me.id)
    assert turn.state is not None
    turn.state.current_programme_id = copy.id
    turn.save_state()
    turn.reply(say("reports.cloned", programme=copy, source=source))
    return copy


def install(engine: Engine) -> None:
    @engine.registry.handles("program clone")
    def clone(turn: Turn, args: Args, programme: Programme | None) -> None:
        assert programme is not None
        name = " ".join(" ".join(args.words).split())
        if not name:
            raise CommandError("reports.clone_usage")
        today = turn.now.date()
        try:
            if not 3 <= len(name) <= 80:
                raise ValueProblem("programme.bad_name", name=name)
            check_unique_name(turn.uow, turn.tenant.id, name)
            starts, ends, shift = term_from_options(programme, args.options, today)
            if starts is not None and ends is not None:
                create_clone(turn, programme, name, starts, ends, shift)
                return
        except ValueProblem as problem:
            raise CommandError(problem.key, **problem.values) from None
        suggestion = suggested_term(programme, today) if starts is None else None
        context: dict[str, Any] = {
            "key": f"clone-{programme.id}",
            "source_id": programme.id,
            "source": programme.name,
            "name": name,
        }
        if suggestion is not None:
            context |= {"suggested_starts": suggestion[0].isoformat(), "suggested_ends": suggestion[1].isoformat()}
        answers: dict[str, Any] | None = None
        if suggestion is None:  # nothing to suggest: the dates are asked
            answers = {"use_suggested": False, **({"starts_on": starts.isoformat()} if starts else {})}
        engine.flows.start(turn, FLOW, context, answers=answers)

    def complete(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        """The term is known: create the clone (if its source is still this person's to clone)."""
        source = turn.uow.programmes.get(int(context.get("source_id", 0)))
        if source is None or turn.me.id not in turn.uow.coordinators.of_programme(source.id):
            raise CommandError("programme.button_not_yours")
        if answers.get("use_suggested"):
            starts, ends = (
                date.fromisoformat(context["suggested_starts"]),
                date.fromisoformat(context["suggested_ends"]),
            )
        else:
            starts, ends = date.fromisoformat(answers["starts_on"]), date.fromisoformat(answers["ends_on"])
        try:
            create_clone(turn, source, str(context["name"]), starts, ends)
        except ValueProblem as problem:
            raise CommandError(problem.key, **problem.values) from None

    engine.flows.register(FLOW, complete)

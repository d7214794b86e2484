"""``program clone``: the next cohort, with the same settings, a term of its own and no repeat pairs.

The new term comes from ``--starts`` and ``--ends``, from ``--shift`` (the old term moved forward by days,
weeks, months or years), or, when neither is given, from a short conversation
(``prompts/flows/program_clone.yml``) that suggests the old term's length starting the day after it ends.
The programme is created only once its term is known, so nothing can be invited or scheduled without one.
Participants of the source programme who join the clone are returning people (``bot/returning.py``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.flows.definition import load_flow
from bot.flows.inputs import parse_answer
from bot.handling import Handling, OnCommand, OnFlow
from bot.services.programmes import ProgrammeService, check_term, shifted
from bot.values import ValueProblem
from bot.wording import say

FLOW = "program_clone"
_SHIFT = re.compile(r"^(\d{1,3})([dwmy])$")


def parse_shift(raw: str) -> tuple[int, str]:
    """``6m``, ``26w``, ``90d`` or ``1y``: a positive amount and its unit (raises :class:`ValueProblem`)."""
    found = _SHIFT.match(raw.strip().lower())
    if found is None or int(found.group(1)) == 0:
        raise ValueProblem("reports.clone_bad_shift", given=raw)
    return int(found.group(1)), found.group(2)


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
        check_term(*moved, today)
        return *moved, shift
    if ends_raw is not None and starts_raw is None:
        raise ValueProblem("reports.clone_ends_alone")
    if starts_raw is None:
        return None, None, None
    begins = _date("starts_on", starts_raw, {}, today)
    finishes = _date("ends_on", ends_raw, {}, today) if ends_raw is not None else None
    check_term(begins, finishes, today)
    return begins, finishes, None


def _cloned(turn: Turn, source: Programme, copy: Programme) -> None:
    """The clone becomes the coordinator's current programme, and they are told."""
    assert turn.state is not None
    turn.state.current_programme_id = copy.id
    turn.save_state()
    turn.reply(say("reports.cloned", programme=copy, source=source))


def program_clone(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``program clone NAME``: at once with its term, or through the questionnaire that asks for one."""
    assert programme is not None
    name = " ".join(" ".join(args.words).split())
    if not name:
        raise CommandError("reports.clone_usage")
    today = turn.now.date()
    service = ProgrammeService.of(turn.uow)
    try:
        name = service.check_name(turn.tenant.id, name)
        starts, ends, shift = term_from_options(programme, args.options, today)
        if starts is not None and ends is not None:
            copy = service.clone(programme, name, starts, ends, by=turn.me.id, today=today, shift=shift)
            _cloned(turn, programme, copy)
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
    turn.flows.start(turn, FLOW, context, answers=answers)


def complete_clone(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The term is known: create the clone (if its source is still this person's to clone)."""
    service = ProgrammeService.of(turn.uow)
    source = service.coordinated(int(context.get("source_id", 0)), turn.me.id)
    if answers.get("use_suggested"):
        starts, ends = date.fromisoformat(context["suggested_starts"]), date.fromisoformat(context["suggested_ends"])
    else:
        starts, ends = date.fromisoformat(answers["starts_on"]), date.fromisoformat(answers["ends_on"])
    try:
        copy = service.clone(source, str(context["name"]), starts, ends, by=turn.me.id, today=turn.now.date())
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    _cloned(turn, source, copy)


HANDLERS: tuple[Handling, ...] = (
    OnCommand("program clone", program_clone),
    OnFlow(FLOW, complete_clone),
)

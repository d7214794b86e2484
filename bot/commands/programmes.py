"""``program new / list / show / edit``: creating and tuning programmes (the use cases are
:class:`~bot.services.programmes.ProgrammeService`'s)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.commands.goal_direction import DIRECTION_ACTION, FIELDS, KEEP_ACTION, ask_direction, keep, set_direction
from bot.commands.goal_direction import shown as figure
from bot.commands.programme_form import edit_as_form
from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Focus, Programme, ProgrammeSettings, ProgrammeStatus
from bot.errors import CommandError
from bot.flows.definition import Step, StepChoice, load_flow
from bot.flows.inputs import parse_answer
from bot.handling import Handling, OnAction, OnCommand, OnFlow
from bot.ports import UnitOfWork
from bot.services.programmes import ProgrammeService
from bot.sessions.calendar import CALENDAR_SETTINGS, calendar_setting, describe_days
from bot.sessions.calendar_sync import check_provider
from bot.values import ValueProblem, describe_cadence
from bot.wording import say

FLOW = "program_new"


def new_programme(
    uow: UnitOfWork,
    tenant_id: int,
    name: str,
    *,
    coordinator_id: int | None = None,
    audit_as: str | None = None,
    **fields: Any,
) -> Programme:
    """Store a new programme (:meth:`ProgrammeService.create`), with the default expectations unless given."""
    fields.setdefault("expectations", say("programme.default_expectations"))
    service = ProgrammeService.of(uow)
    return service.create(tenant_id, name, coordinator_id=coordinator_id, audit_as=audit_as, **fields)


def create_programme(turn: Turn, answers: dict[str, Any], _context: dict[str, Any]) -> None:
    """The end of ``program new``: store the programme and make its creator a coordinator."""
    if not answers.get("confirm"):
        turn.reply(say("programme.not_created"))
        return
    try:
        programme = new_programme(
            turn.uow,
            turn.tenant.id,
            answers["name"],
            coordinator_id=turn.me.id,
            focus=Focus(answers["focus"]),
            focus_detail=answers.get("focus_detail") or "",
            goal_metric=answers["goal_metric"],
            goal_baseline=answers["goal_baseline"],
            goal_target=answers["goal_target"],
            settings=ProgrammeSettings(goal_direction="lower" if answers.get("goal_lower_better") else "higher"),
            goal_date=date.fromisoformat(answers["goal_date"]),
            expectations=answers.get("expectations") or say("programme.default_expectations"),
            starts_on=date.fromisoformat(answers["starts_on"]),
            ends_on=date.fromisoformat(answers["ends_on"]),
            cadence_days=answers["cadence"],
            session_minutes=answers["session_minutes"],
        )
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    assert turn.state is not None
    turn.state.current_programme_id = programme.id
    turn.save_state()
    turn.reply(say("programme.created", programme=programme, cadence=describe_cadence(programme.cadence_days)))


def program_list(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    ids = set(turn.uow.coordinators.programmes_of(turn.me.id))
    programmes = [p for p in turn.uow.programmes.in_tenant(turn.tenant.id) if p.id in ids]
    rows = []
    for programme in programmes:
        people = turn.uow.participants.in_programme(programme.id)
        rows.append(
            {
                "programme": programme,
                "mentors": sum(1 for p in people if p.role == "mentor"),
                "mentees": sum(1 for p in people if p.role == "mentee"),
                "current": turn.state is not None and turn.state.current_programme_id == programme.id,
            }
        )
    turn.reply(say("programme.list", rows=rows))


def program_show(turn: Turn, _args: Args, programme: Programme | None) -> None:
    assert programme is not None
    coordinators = [turn.uow.people.get(pid) for pid in turn.uow.coordinators.of_programme(programme.id)]
    turn.reply(
        say(
            "programme.show",
            programme=programme,
            cadence=describe_cadence(programme.cadence_days),
            coordinators=[c.name for c in coordinators if c is not None],
            settings=settings_rows(programme.settings),
        )
    )


def setting_names() -> dict[str, str]:
    """Each setting of :class:`ProgrammeSettings` and the name coordinators use for it (its `program edit` field)."""
    fields = {attribute: name for name, (attribute, _step) in _SETTINGS.items()}
    return {
        attribute: fields.get(attribute, attribute.replace("_", "-")) for attribute in ProgrammeSettings.model_fields
    }


def _shown_setting(value: Any) -> Any:
    if isinstance(value, bool):
        return say("programme.setting_yes" if value else "programme.setting_no")
    if value is None or value == "":
        return say("programme.setting_not_set")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and value and all(isinstance(v, date) for v in value):
        return describe_days(value)  # non-working days: ranges as typed
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else say("programme.setting_none")
    if isinstance(value, dict):
        return say("programme.setting_entries", count=len(value)) if value else say("programme.setting_none")
    return value


def settings_rows(settings: ProgrammeSettings) -> list[dict[str, Any]]:
    """Every setting, data-driven from :class:`ProgrammeSettings`: its name, value and default, as shown."""
    defaults = ProgrammeSettings()
    return [
        {
            "name": name,
            "value": _shown_setting(getattr(settings, attribute)),
            "default": _shown_setting(getattr(defaults, attribute)),
            "is_default": getattr(settings, attribute) == getattr(defaults, attribute),
        }
        for attribute, name in setting_names().items()
    ]


def _step(kind: str, **bounds: Any) -> Step:
    return Step(id="value", kind=kind, prompt="", **bounds)


_FLOW_FIELDS = {
    "name": "name",
    "focus": "focus",
    "goal-metric": "goal_metric",
    "baseline": "goal_baseline",
    "target": "goal_target",
    "goal-date": "goal_date",
    "starts": "starts_on",
    "ends": "ends_on",
    "cadence": "cadence",
    "session-minutes": "session_minutes",
    "expectations": "expectations",
}
_SETTINGS = {
    "seniority-gap": ("seniority_gap", _step("integer", minimum=0, maximum=20)),
    "allow-peer": ("allow_peer", _step("yes_no")),
    "anonymity-threshold": ("anonymity_threshold", _step("integer", minimum=3, maximum=100)),
    "no-shared-manager": ("no_shared_manager", _step("yes_no")),
    "offline-depth": ("offline_depth", _step("integer", minimum=0, maximum=50)),
    "min-overlap": ("min_overlap_minutes", _step("integer", minimum=0, maximum=600)),
    "participant-choice": ("participant_choice", _step("yes_no")),
    "mentor-capacity": ("mentor_capacity", _step("integer", minimum=1, maximum=20)),
    "mentor-hours": ("mentor_hours_per_month", _step("number", minimum=0.5, maximum=80)),
    "mentor-max-seniority": ("mentor_max_seniority", _step("integer", minimum=0, maximum=50)),
    "mentee-min-seniority": ("mentee_min_seniority", _step("integer", minimum=0, maximum=50)),
    "intake-reminder-days": ("intake_reminder_days", _step("number", minimum=0.5, maximum=30)),
    "intake-reminders": ("intake_reminders", _step("integer", minimum=0, maximum=5)),
    "match-mode": (
        "match_mode",
        Step(
            id="value",
            kind="choice",
            prompt="",
            choices=tuple(StepChoice(mode, mode) for mode in ("optimal", "stable", "random")),
        ),
    ),
    "match-seed": ("match_seed", _step("integer", minimum=0, maximum=2**31 - 1)),
    "allow-repeat-pairs": ("allow_repeat_pairs", _step("yes_no")),
    "group-sessions": ("group_sessions", _step("yes_no")),
    "agenda-hours": ("agenda_hours_before", _step("number", minimum=1, maximum=168)),
    "reminder-minutes": ("reminder_minutes_before", _step("integer", minimum=5, maximum=1440)),
    "followup-minutes": ("followup_minutes_after", _step("integer", minimum=0, maximum=1440)),
    "mentee-cancellations-alert": ("mentee_cancellations_alert", _step("integer", minimum=1, maximum=10)),
    "gap-alert-days": ("gap_alert_days", _step("integer", minimum=7, maximum=120)),
    "prep-minutes": ("prep_minutes_per_session", _step("integer", minimum=0, maximum=240)),
    "daily-message-cap": ("daily_message_cap", _step("integer", minimum=1, maximum=50)),
    "checkin-days": ("checkin_days", _step("integer", minimum=7, maximum=180)),
    "copy-sponsor": ("copy_sponsor_on_no_shows", _step("yes_no")),
    "team-agreement": ("team_rating_agreement", _step("yes_no")),
    "sponsor": ("sponsor_email", _step("text", min_length=3, max_length=254)),
    "goal-direction": (
        "goal_direction",
        Step(
            id="value", kind="choice", prompt="", choices=(StepChoice("higher", "higher"), StepChoice("lower", "lower"))
        ),
    ),
    "retention-days": ("retention_days", _step("integer", minimum=1, maximum=3650)),
    "non-working-days": ("non_working_days", _step("text", max_length=2000)),
    "holidays": ("public_holidays", _step("yes_no")),
    "calendar": (
        "calendar",
        Step(
            id="value",
            kind="choice",
            prompt="",
            choices=tuple(StepChoice(p, p) for p in ("off", "microsoft", "google")),
        ),
    ),
}
_STATUS_STEP = Step(
    id="status", kind="choice", prompt="", choices=tuple(StepChoice(s.value, s.value) for s in ProgrammeStatus)
)


def _parsed(turn: Turn, name: str, raw: str) -> tuple[str, Any, Any]:
    """What ``program edit NAME RAW`` sets: the attribute, the value to store and the value as shown."""
    today = turn.now.date()
    if name in _SETTINGS:
        attribute, step = _SETTINGS[name]
        value = calendar_setting(attribute, raw) if attribute in CALENDAR_SETTINGS else None
        value = parse_answer(step, raw, {}, today) if value is None else value
        shown = say("input.yes" if value is True else "input.no") if isinstance(value, bool) else value
        return attribute, value, describe_days(value) if isinstance(value, list) else shown
    if name == "status":
        status = ProgrammeStatus(parse_answer(_STATUS_STEP, raw, {}, today))
        return "status", status, status.value
    step_id = _FLOW_FIELDS[name]
    found = load_flow(FLOW).step(step_id)
    assert found is not None
    if found.after and found.after != "today":
        found = Step(**{**found.__dict__, "after": None})
    value = parse_answer(found, raw, {}, today)
    if step_id == "cadence":
        return "cadence_days", value, describe_cadence(value)
    if step_id in ("goal_date", "starts_on", "ends_on"):
        return step_id, date.fromisoformat(value), value
    if step_id == "focus":
        return step_id, Focus(value), value
    return step_id, value, value


def program_edit(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``program edit FIELD VALUE``: one field or setting; a goal turned the other way is asked about first."""
    assert programme is not None
    fields = sorted([*_FLOW_FIELDS, *_SETTINGS, "status"])
    if not args.words and edit_as_form(turn, programme):  # where forms can be shown: every field at once
        return
    if len(args.words) < 2:
        raise CommandError("programme.edit_usage", fields=fields)
    name, raw = args.words[0].lower(), " ".join(args.words[1:])
    if name not in fields:
        raise CommandError("programme.edit_unknown_field", given=name, fields=fields)
    was = figure(getattr(programme, FIELDS[name])) if name in FIELDS else ""
    try:
        attribute, value, shown = _parsed(turn, name, raw)
        if attribute == "calendar":
            check_provider(turn, str(value))
        edited = ProgrammeService.of(turn.uow).edit(programme, attribute, value)
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    if edited.confirm is not None:
        ask_direction(turn, edited.programme, name, shown, edited.confirm, was)
    elif not edited.changed:
        turn.reply(say("programme.unchanged", field=name))
    else:
        shown = edited.value if attribute == "sponsor_email" else shown
        turn.reply(say("programme.edited", programme=edited.programme, field=name, value=shown))


def program_new(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """A guided setup, one question at a time; answers are stored after each one."""
    turn.flows.start(turn, FLOW)


def unique_name(turn: Turn, value: Any, _answers: dict[str, Any]) -> None:
    """The ``unique_programme_name`` check of the guided setup."""
    ProgrammeService.of(turn.uow).check_unique_name(turn.tenant.id, str(value))


def lower_is_better(_turn: Turn, value: Any, answers: dict[str, Any]) -> None:
    """The ``lower_is_better`` check: a target below the baseline needs lower to be better."""
    if value is False:
        raise ValueProblem("programme.target_needs_lower", baseline=f"{answers['goal_baseline']:g}")


HANDLERS: tuple[Handling, ...] = (
    OnFlow(FLOW, create_programme, checks={"unique_programme_name": unique_name, "lower_is_better": lower_is_better}),
    OnAction(DIRECTION_ACTION, set_direction),
    OnAction(KEEP_ACTION, keep),
    OnCommand("program new", program_new),
    OnCommand("program list", program_list),
    OnCommand("program show", program_show),
    OnCommand("program edit", program_edit),
)

"""``program new / list / show / edit``: creating and tuning programmes."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Focus, NewProgramme, Programme, ProgrammeSettings, ProgrammeStatus
from bot.errors import CommandError
from bot.flows.definition import Step, StepChoice, load_flow
from bot.flows.inputs import parse_answer
from bot.model import Action, Choice
from bot.ports import UnitOfWork
from bot.sessions.calendar import CALENDAR_SETTINGS, apply_mentor_capacity, calendar_setting, describe_days
from bot.values import ValueProblem, describe_cadence
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

FLOW = "program_new"
DIRECTION_ACTION, KEEP_ACTION = "programme.goal_direction", "programme.goal_keep"


def slugify(name: str) -> str:
    """A short, URL-safe handle for a programme name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "programme"


def unique_slug(uow: UnitOfWork, tenant_id: int, name: str, exclude: int | None = None) -> str:
    """The programme's slug, numbered when another programme of the tenant already has it."""
    base = slugify(name)
    slug, n = base, 2
    while (existing := uow.programmes.by_slug(tenant_id, slug)) is not None and existing.id != exclude:
        slug, n = f"{base}-{n}", n + 1
    return slug


def check_unique_name(uow: UnitOfWork, tenant_id: int, name: str, exclude: int | None = None) -> None:
    """Programme names are unique within a tenant."""
    for programme in uow.programmes.in_tenant(tenant_id):
        if programme.name.lower() == name.lower() and programme.id != exclude:
            raise ValueProblem("programme.name_taken", name=name)


def new_programme(
    uow: UnitOfWork, tenant_id: int, name: str, *, coordinator_id: int | None = None, **fields: Any
) -> Programme:
    """Store a new programme with a unique slug; its creator (if any) becomes a coordinator."""
    name = " ".join(name.split())
    if not 3 <= len(name) <= 80:
        raise ValueProblem("programme.bad_name", name=name)
    check_unique_name(uow, tenant_id, name)
    slug = unique_slug(uow, tenant_id, name)
    fields.setdefault("expectations", say("programme.default_expectations"))
    if fields.get("starts_on") and fields.get("ends_on") and fields["ends_on"] <= fields["starts_on"]:
        raise ValueProblem("programme.term_order", starts=fields["starts_on"], ends=fields["ends_on"])
    programme = uow.programmes.add(NewProgramme(tenant_id=tenant_id, slug=slug, name=name, **fields))
    if coordinator_id is not None:
        uow.coordinators.add(programme.id, coordinator_id, added_by=coordinator_id)
    return programme


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
}
_STATUS_STEP = Step(
    id="status", kind="choice", prompt="", choices=tuple(StepChoice(s.value, s.value) for s in ProgrammeStatus)
)


def program_edit(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    fields = sorted([*_FLOW_FIELDS, *_SETTINGS, "status"])
    if len(args.words) < 2:
        raise CommandError("programme.edit_usage", fields=fields)
    name, raw = args.words[0].lower(), " ".join(args.words[1:])
    if name not in fields:
        raise CommandError("programme.edit_unknown_field", given=name, fields=fields)
    before = programme.model_copy(deep=True)
    try:
        if name in _SETTINGS:
            attribute, step = _SETTINGS[name]
            value = calendar_setting(attribute, raw) if attribute in CALENDAR_SETTINGS else None
            value = parse_answer(step, raw, {}, turn.now.date()) if value is None else value
            checked = _directory_email(turn, str(value)) if attribute == "sponsor_email" else value
            programme.settings = programme.settings.model_copy(update={attribute: checked})
            shown = say("input.yes" if value is True else "input.no") if isinstance(value, bool) else value
            shown = describe_days(value) if isinstance(value, list) else shown
            shown = checked if attribute == "sponsor_email" else shown
        elif name == "status":
            programme.status = ProgrammeStatus(parse_answer(_STATUS_STEP, raw, {}, turn.now.date()))
            shown = programme.status.value
        else:
            shown = _edit_flow_field(turn, programme, _FLOW_FIELDS[name], raw)
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    if programme.starts_on and programme.ends_on and programme.ends_on <= programme.starts_on:
        raise CommandError("programme.term_order", starts=programme.starts_on, ends=programme.ends_on)
    if programme == before:
        turn.reply(say("programme.unchanged", field=name))
        return
    wanted = _direction_needed(programme)
    if wanted is not None:
        if name not in ("target", "baseline"):
            raise CommandError("programme.direction_contradicts", **_goal_values(programme))
        _ask_direction(turn, before, name, shown, wanted, _goal_values(programme))
        return
    turn.uow.programmes.save(programme)
    if programme.settings.mentor_capacity != before.settings.mentor_capacity:
        apply_mentor_capacity(turn.uow, programme, before.settings.mentor_capacity)
    turn.reply(say("programme.edited", programme=programme, field=name, value=shown))


def _directory_email(turn: Turn, value: str) -> str:
    """A sponsor is someone in the directory (``none`` clears the sponsor)."""
    email = value.strip().lower()
    if email == "none":
        return ""
    person = turn.uow.people.by_email(turn.tenant.id, email)
    if person is None or person.left_at is not None:
        raise ValueProblem("programme.sponsor_not_in_directory", email=email)
    return email


def _goal_values(programme: Programme) -> dict[str, str]:
    return {
        "baseline": f"{programme.goal_baseline:g}" if programme.goal_baseline is not None else "",
        "target": f"{programme.goal_target:g}" if programme.goal_target is not None else "",
        "direction": programme.settings.goal_direction,
    }


def _direction_needed(programme: Programme) -> str | None:
    """The direction the goal's baseline and target imply, when it is not the one stored."""
    baseline, target = programme.goal_baseline, programme.goal_target
    if baseline is None or target is None or baseline == target:
        return None
    implied = "lower" if target < baseline else "higher"
    return implied if implied != programme.settings.goal_direction else None


def _ask_direction(turn: Turn, programme: Programme, name: str, value: Any, wanted: str, goal: dict[str, str]) -> None:
    """A target on the other side of the baseline: ask whether that direction is better before changing it."""
    turn.reply(
        say("programme.direction_question", wanted=wanted, **goal),
        choices=[
            Choice(
                label=say("programme.direction_yes", wanted=wanted),
                action=DIRECTION_ACTION,
                value=f"{programme.id}|{name}|{value}|{wanted}",
                style="primary",
            ),
            Choice(label=say("programme.direction_keep", field=name), action=KEEP_ACTION, value=name),
        ],
    )


def _coordinated(turn: Turn, programme_id: str) -> Programme:
    programme = turn.uow.programmes.get(int(programme_id)) if programme_id.isdigit() else None
    if programme is None or turn.me.id not in turn.uow.coordinators.of_programme(programme.id):
        raise CommandError("programme.button_not_yours")
    return programme


def set_direction(turn: Turn, action: Action) -> None:
    """The coordinator confirmed the direction: store it with the target (or baseline) they typed."""
    programme_id, name, value, wanted = (action.value.split("|") + ["", "", "", ""])[:4]
    programme = _coordinated(turn, programme_id)
    if name not in ("target", "baseline") or wanted not in ("higher", "lower"):
        raise CommandError("programme.button_not_yours")
    setattr(programme, _FLOW_FIELDS[name], float(value))
    programme.settings = programme.settings.model_copy(update={"goal_direction": wanted})
    if _direction_needed(programme) is not None:  # the goal changed since the question was asked
        raise CommandError("programme.direction_contradicts", **_goal_values(programme))
    turn.uow.programmes.save(programme)
    turn.reply(say("programme.edited_direction", programme=programme, field=name, value=value, wanted=wanted))


def _edit_flow_field(turn: Turn, programme: Programme, step_id: str, raw: str) -> Any:
    step = load_flow(FLOW).step(step_id)
    assert step is not None
    if step.after and step.after != "today":
        step = Step(**{**step.__dict__, "after": None})
    value = parse_answer(step, raw, {}, turn.now.date())
    if step_id == "name":
        check_unique_name(turn.uow, turn.tenant.id, value, exclude=programme.id)
        programme.name, programme.slug = value, unique_slug(turn.uow, turn.tenant.id, value, exclude=programme.id)
    elif step_id == "cadence":
        programme.cadence_days = value
        return describe_cadence(value)
    elif step_id in ("goal_date", "starts_on", "ends_on"):
        setattr(programme, step_id, date.fromisoformat(value))
    elif step_id == "focus":
        programme.focus = Focus(value)
    else:
        setattr(programme, step_id, value)
    return value


def install(engine: Engine) -> None:
    def program_new(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        """A guided setup, one question at a time; answers are stored after each one."""
        engine.flows.start(turn, FLOW)

    def unique_name(turn: Turn, value: Any, _answers: dict[str, Any]) -> None:
        check_unique_name(turn.uow, turn.tenant.id, str(value))

    def lower_is_better(_turn: Turn, value: Any, answers: dict[str, Any]) -> None:
        if value is False:
            raise ValueProblem("programme.target_needs_lower", baseline=f"{answers['goal_baseline']:g}")

    def keep(turn: Turn, action: Action) -> None:
        turn.reply(say("programme.kept", field=action.value))

    engine.flows.register(
        FLOW, create_programme, {"unique_programme_name": unique_name, "lower_is_better": lower_is_better}
    )
    engine.on_action(DIRECTION_ACTION)(set_direction)
    engine.on_action(KEEP_ACTION)(keep)
    engine.registry.handles("program new")(program_new)
    engine.registry.handles("program list")(program_list)
    engine.registry.handles("program show")(program_show)
    engine.registry.handles("program edit")(program_edit)

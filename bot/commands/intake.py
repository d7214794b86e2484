"""``intake``, ``remind intake|pulse`` and ``program question``: the questionnaire as people and coordinators see it."""

from __future__ import annotations

from bot.commands.registry import Args, find_programme
from bot.context import Turn
from bot.domain import Participant, ParticipantStatus, Programme
from bot.errors import CommandError
from bot.feedback import remind_pulses
from bot.handling import Handling, OnAction, OnCommand
from bot.intake import INTAKE_SERVICE
from bot.intake_flow import EDIT_ACTION, OPEN_ACTION, EditIntakeValue, ParticipantValue
from bot.model import Action, Choice
from bot.services.programmes import ProgrammeService
from bot.values import ValueProblem
from bot.wording import say


def _mine(turn: Turn, participant_id: int) -> tuple[Participant, Programme]:
    participant = turn.uow.participants.get(participant_id)
    if participant is None or participant.person_id != turn.me.id:
        raise CommandError("consent.not_yours")
    programme = turn.uow.programmes.get(participant.programme_id)
    assert programme is not None
    return participant, programme


def intake_verb(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``intake``: open the questionnaire of the programme the person takes part in (asked which, if several)."""
    taking_part = []
    for participant in turn.uow.participants.of_person(turn.me.id):
        programme = turn.uow.programmes.get(participant.programme_id)
        if programme and programme.tenant_id == turn.tenant.id and participant.status == ParticipantStatus.ACTIVE:
            taking_part.append((participant, programme))
    if args.options.get("program"):
        chosen = find_programme([p for _, p in taking_part], args.options["program"])
        taking_part = [(pa, p) for pa, p in taking_part if chosen and p.id == chosen.id]
    if not taking_part:
        raise CommandError("intake.not_participant")
    if len(taking_part) > 1:
        turn.reply(
            say("intake.pick_programme"),
            choices=[
                Choice(label=p.name, action=OPEN_ACTION, value=ParticipantValue(pa.id).encode())
                for pa, p in taking_part
            ],
        )
        return
    INTAKE_SERVICE.open(turn, *taking_part[0])


def open_action(turn: Turn, action: Action) -> None:
    """The programme picked: its intake opens."""
    INTAKE_SERVICE.open(turn, *_mine(turn, ParticipantValue.decode(action.value).participant))


def edit_action(turn: Turn, action: Action) -> None:
    """A "change" button: that question is asked again (the whole intake, if it is not finished yet)."""
    pressed = EditIntakeValue.decode(action.value)
    participant, programme = _mine(turn, pressed.participant)
    if not participant.intake_completed_at:
        INTAKE_SERVICE.open(turn, participant, programme)
        return
    INTAKE_SERVICE.edit(turn, participant, programme, pressed.step)


def remind(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``remind intake|pulse``: nudge those who have not answered yet."""
    assert programme is not None
    what = args.words[0].lower() if args.words else ""
    if what == "pulse":
        count = remind_pulses(turn, programme)
        turn.reply(say("feedback.reminded", count=count, programme=programme))
        return
    if what != "intake":
        raise CommandError("intake.remind_usage")
    waiting = [
        p
        for p in turn.uow.participants.in_programme(programme.id)
        if p.status == ParticipantStatus.ACTIVE and not p.intake_completed_at
    ]
    for participant in waiting:
        INTAKE_SERVICE.nudge(turn, participant, programme, "intake.nudge")
    turn.reply(say("intake.reminded", count=len(waiting), programme=programme))


def program_question(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``program question list|add|remove``: the questions the programme adds to its intake."""
    assert programme is not None
    what = args.words[0].lower() if args.words else "list"
    if what == "list":
        turn.reply(say("intake.questions", programme=programme, questions=programme.intake_questions))
        return
    service = ProgrammeService.of(turn.uow)
    if what == "remove" and len(args.words) == 2:
        service.remove_question(programme, args.words[1])
        turn.reply(say("intake.question_removed", programme=programme, number=args.words[1]))
        return
    if what != "add" or len(args.words) < 2:
        raise CommandError("intake.question_usage")
    spec = {
        "prompt": " ".join(args.words[1:]),
        "kind": args.options.get("type", "text"),
        "choices": [c for c in args.options.get("choices", "").split(";")],
        "role": args.options.get("role"),
        "required": "required" in args.options,
    }
    try:
        step = service.add_question(programme, spec)
    except ValueProblem as problem:
        raise CommandError(problem.key, **problem.values) from None
    turn.reply(say("intake.question_added", programme=programme, question=step, number=step["id"].split("_")[1]))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("intake", intake_verb),
    OnAction(OPEN_ACTION, open_action),
    OnAction(EDIT_ACTION, edit_action),
    OnCommand("remind", remind),
    OnCommand("program question", program_question),
)

"""``intake``, ``remind intake|pulse`` and ``program question``: the questionnaire as people and coordinators see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Participant, ParticipantStatus, Programme
from bot.errors import CommandError
from bot.feedback import remind_pulses
from bot.intake import INTAKE_SERVICE, MAX_QUESTIONS, next_question_number, question_from_spec
from bot.model import Action, Choice
from bot.values import ValueProblem
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

OPEN_ACTION = "intake.open"
EDIT_ACTION = "intake.edit"


def install(engine: Engine) -> None:
    intake = INTAKE_SERVICE

    def mine(turn: Turn, action_value: str) -> tuple[Participant, Programme]:
        participant = turn.uow.participants.get(int(action_value)) if action_value.isdigit() else None
        if participant is None or participant.person_id != turn.me.id:
            raise CommandError("consent.not_yours")
        programme = turn.uow.programmes.get(participant.programme_id)
        assert programme is not None
        return participant, programme

    @engine.registry.handles("intake")
    def intake_verb(turn: Turn, args: Args, _programme: Programme | None) -> None:
        from bot.commands.registry import find_programme

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
                choices=[Choice(label=p.name, action=OPEN_ACTION, value=str(pa.id)) for pa, p in taking_part],
            )
            return
        intake.open(turn, *taking_part[0])

    @engine.on_action(OPEN_ACTION)
    def open_action(turn: Turn, action: Action) -> None:
        intake.open(turn, *mine(turn, action.value))

    @engine.on_action(EDIT_ACTION)
    def edit_action(turn: Turn, action: Action) -> None:
        participant_id, _, step = action.value.partition(":")
        participant, programme = mine(turn, participant_id)
        if not participant.intake_completed_at:
            intake.open(turn, participant, programme)
            return
        intake.edit(turn, participant, programme, step)

    @engine.registry.handles("remind")
    def remind(turn: Turn, args: Args, programme: Programme | None) -> None:
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
            intake.nudge(turn, participant, programme, "intake.nudge")
        turn.reply(say("intake.reminded", count=len(waiting), programme=programme))

    @engine.registry.handles("program question")
    def program_question(turn: Turn, args: Args, programme: Programme | None) -> None:
        assert programme is not None
        what = args.words[0].lower() if args.words else "list"
        if what == "list":
            turn.reply(say("intake.questions", programme=programme, questions=programme.intake_questions))
            return
        if what == "remove" and len(args.words) == 2:
            remaining = [q for q in programme.intake_questions if q["id"] != f"extra_{args.words[1]}"]
            if len(remaining) == len(programme.intake_questions):
                raise CommandError("intake.question_unknown", given=args.words[1])
            programme.intake_questions = remaining
            turn.uow.programmes.save(programme)
            turn.reply(say("intake.question_removed", programme=programme, number=args.words[1]))
            return
        if what != "add" or len(args.words) < 2:
            raise CommandError("intake.question_usage")
        if len(programme.intake_questions) >= MAX_QUESTIONS:
            raise CommandError("intake.question_limit", limit=MAX_QUESTIONS)
        spec = {
            "prompt": " ".join(args.words[1:]),
            "kind": args.options.get("type", "text"),
            "choices": [c for c in args.options.get("choices", "").split(";")],
            "role": args.options.get("role"),
            "required": "required" in args.options,
        }
        try:
            step = question_from_spec(spec, next_question_number(programme))
        except ValueProblem as problem:
            raise CommandError(problem.key, **problem.values) from None
        programme.intake_questions = [*programme.intake_questions, step]
        turn.uow.programmes.save(programme)
        turn.reply(say("intake.question_added", programme=programme, question=step, number=step["id"].split("_")[1]))

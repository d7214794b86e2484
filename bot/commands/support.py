"""``support`` (confidential), ``pause`` for a person, and ``pair pause / resume / end`` for coordinators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands.invitations import resolve_people
from bot.commands.registry import Args, Handler
from bot.commitment import alert_coordinators
from bot.context import Turn
from bot.domain import PairStatus, ParticipantStatus, Programme
from bot.errors import CommandError, required
from bot.model import Action, Choice
from bot.sessions.circles import Circle, circles_of, circles_of_person
from bot.sessions.places import give_held, is_place, set_circle, tell
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

SUPPORT_ACTION = "support.pick"
CHANGE_ACTION = "support.change"
PAUSE_ACTION = "pause.confirm"
NOTE_FLOW = "support_note"


def _tell_members(turn: Turn, circle: Circle, key: str, skip: int | None = None, who: int | None = None) -> None:
    """A neutral notice to the circle: nobody learns who asked, or why. When only ``who``'s place in a group
    changed, only the mentor hears (that one place paused, resumed or ended). Someone who paused hears
    nothing of pauses and resumes, and hears of an ending when they resume."""
    hold = key == "matching.pair_ended_notice"
    if is_place(circle, who):
        mentee = next(m for m in circle.mentees if m.id == who)
        if circle.mentor.person_id != skip:
            text = say(
                "support.group_place_changed", programme=circle.programme, name=circle.person(mentee).name, change=key
            )
            tell(turn, circle.mentor.id, text, hold=hold)
        return
    for member in circle.members:
        if member.person_id != skip:
            tell(turn, member.id, say(key, programme=circle.programme), hold=hold)


def install(engine: Engine) -> None:
    registry = engine.registry

    @registry.handles("support")
    def support(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        turn.reply(
            say("support.menu"),
            choices=[
                Choice(label=say("support.talk_label"), action=SUPPORT_ACTION, value="talk"),
                Choice(label=say("support.change_label"), action=SUPPORT_ACTION, value="change"),
                Choice(label=say("support.wellbeing_label"), action=SUPPORT_ACTION, value="wellbeing"),
            ],
        )

    @engine.on_action(SUPPORT_ACTION)
    def support_pick(turn: Turn, action: Action) -> None:
        programmes = _my_programmes(turn)
        if action.value == "talk":
            engine.flows.start(turn, NOTE_FLOW, {"key": "support-note"})
        elif action.value == "change":
            circles = circles_of_person(turn.uow, turn.me.id, turn.tenant.id)
            if not circles:
                raise CommandError("sessions.no_pair")
            turn.reply(
                say("support.change_menu"),
                choices=[
                    Choice(label=say("support.pause_label"), action=CHANGE_ACTION, value=f"pause|{circles[0].key}"),
                    Choice(label=say("support.rematch_label"), action=CHANGE_ACTION, value=f"rematch|{circles[0].key}"),
                    Choice(
                        label=say("support.end_label"),
                        action=CHANGE_ACTION,
                        value=f"end|{circles[0].key}",
                        style="danger",
                    ),
                ],
            )
        elif action.value == "wellbeing":
            links = [r for p in programmes for r in turn.uow.sessions.resources(p.id) if "wellbeing" in r.tags]
            turn.reply(say("support.wellbeing", resources=links))
        else:
            raise CommandError("commands.unknown_action")

    def note_done(turn: Turn, answers: dict[str, Any], _context: dict[str, Any]) -> None:
        for programme in _my_programmes(turn):
            alert_coordinators(
                turn, programme, "support.alert_talk", [turn.me.id], name=turn.me.name, note=answers.get("note")
            )
        turn.reply(say("support.talk_sent"))

    engine.flows.register(NOTE_FLOW, note_done)

    @engine.on_action(CHANGE_ACTION)
    def change(turn: Turn, action: Action) -> None:
        what, _, key = action.value.partition("|")
        circle = next((c for c in circles_of_person(turn.uow, turn.me.id, turn.tenant.id) if c.key == key), None)
        if circle is None or what not in ("pause", "rematch", "end"):
            raise CommandError("sessions.not_your_session")
        status = PairStatus.PAUSED if what == "pause" else PairStatus.ENDED
        me = next(m.id for m in circle.members if m.person_id == turn.me.id)
        set_circle(turn, circle, status, reason="support", who=me)
        _tell_members(
            turn,
            circle,
            "support.partner_paused" if what == "pause" else "matching.pair_ended_notice",
            skip=turn.me.id,
            who=me,
        )
        alert_coordinators(turn, circle.programme, f"support.alert_{what}", [turn.me.id], name=turn.me.name)
        turn.reply(say(f"support.done_{what}", programme=circle.programme))

    @registry.handles("pause")
    def pause(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        mine = [
            p
            for p in turn.uow.participants.of_person(turn.me.id)
            if p.status in (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)
        ]
        if not mine:
            raise CommandError("intake.not_participant")
        paused = all(p.status == ParticipantStatus.PAUSED for p in mine)
        turn.reply(
            say("support.pause_question", paused=paused),
            choices=[
                Choice(
                    label=say("support.resume_label" if paused else "support.pause_me_label"),
                    action=PAUSE_ACTION,
                    value="resume" if paused else "pause",
                    style="primary",
                )
            ],
        )

    @engine.on_action(PAUSE_ACTION)
    def pause_confirm(turn: Turn, action: Action) -> None:
        target = ParticipantStatus.PAUSED if action.value == "pause" else ParticipantStatus.ACTIVE
        source = ParticipantStatus.ACTIVE if action.value == "pause" else ParticipantStatus.PAUSED
        changed, waiting = 0, False
        for participant in turn.uow.participants.of_person(turn.me.id):
            if participant.status != source:
                continue
            participant.status = target
            turn.uow.participants.save(participant)
            changed += 1
            programme = required(
                turn.uow.programmes.get(participant.programme_id), "programme", participant.programme_id
            )
            for circle in circles_of(turn.uow, programme):
                wanted = PairStatus.PAUSED if action.value == "pause" else PairStatus.ACTIVE
                if participant.id in {m.id for m in circle.members} and circle.pairs[0].status != wanted:
                    if not set_circle(turn, circle, wanted, reason="paused", who=participant.id):
                        waiting = True  # the other side paused themselves: the pair waits for them
                        continue
                    _tell_members(
                        turn,
                        circle,
                        "support.partner_paused" if action.value == "pause" else "support.partner_resumed",
                        skip=turn.me.id,
                        who=participant.id,
                    )
        turn.reply(
            say("support.paused" if action.value == "pause" else "support.resumed", count=changed, waiting=waiting)
        )
        if action.value == "resume":
            for participant in turn.uow.participants.of_person(turn.me.id):
                give_held(turn, participant.id)

    def coordinator_pair(verb: str, status: PairStatus, notice: str) -> Handler:
        def handler(turn: Turn, args: Args, programme: Programme | None) -> None:
            assert programme is not None
            if len(args.words) != 1:
                raise CommandError("support.pair_usage", verb=verb)
            [person] = resolve_people(turn, args.words)
            circle = next(
                (c for c in circles_of(turn.uow, programme) if person.id in {m.person_id for m in c.members}), None
            )
            if circle is None:
                raise CommandError("matching.not_paired", name=person.name, programme=programme)
            if status == PairStatus.ACTIVE and circle.pairs[0].status != PairStatus.PAUSED:
                raise CommandError("support.not_paused", name=person.name)
            who = next(m.id for m in circle.members if m.person_id == person.id)
            if not set_circle(turn, circle, status, reason="coordinator", who=who):
                raise CommandError("support.resume_waits", name=person.name)
            _tell_members(turn, circle, notice, who=who)
            turn.reply(say("support.pair_changed", verb=verb, names=[circle.person(m).name for m in circle.members]))

        return handler

    registry.handles("pair pause")(coordinator_pair("pause", PairStatus.PAUSED, "support.partner_paused_by_programme"))
    registry.handles("pair resume")(coordinator_pair("resume", PairStatus.ACTIVE, "support.partner_resumed"))
    registry.handles("pair end")(coordinator_pair("end", PairStatus.ENDED, "matching.pair_ended_notice"))


def _my_programmes(turn: Turn) -> list[Programme]:
    found = []
    for participant in turn.uow.participants.of_person(turn.me.id):
        programme = turn.uow.programmes.get(participant.programme_id)
        if programme is not None and programme.tenant_id == turn.tenant.id:
            found.append(programme)
    return found

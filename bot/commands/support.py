"""``support`` (confidential), ``pause`` for a person, and ``pair pause / resume / end`` for coordinators.

The use cases are :class:`bot.services.support.SupportService`'s; these handlers read the buttons, call it,
and tell the people concerned in neutral words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.invitations import resolve_people
from bot.commands.registry import Args
from bot.commitment import alert_coordinators
from bot.context import Turn
from bot.domain import PairStatus, Programme
from bot.errors import CommandError
from bot.handling import CommandRun, Handling, OnAction, OnCommand, OnFlow
from bot.model import Action, Choice
from bot.payloads import ActionPayload, MalformedAction
from bot.services.support import SupportService
from bot.sessions.circles import Circle
from bot.sessions.places import give_held, is_place, tell
from bot.wording import say

SUPPORT_ACTION = "support.pick"
CHANGE_ACTION = "support.change"
PAUSE_ACTION = "pause.confirm"
NOTE_FLOW = "support_note"


@dataclass(frozen=True)
class SupportValue(ActionPayload):
    """A button of the ``support`` menu: ``talk``, ``change`` or ``wellbeing``."""

    pick: str


@dataclass(frozen=True)
class ChangeValue(ActionPayload):
    """A button of the change menu: ``pause``, ``rematch`` or ``end``, and the circle's key (which has ``:``)."""

    what: str
    circle: str

    @classmethod
    def read(cls, value: str) -> ChangeValue:
        """Decode ``value``; buttons sent before payloads had versions wrote ``what|circle`` (a circle's key
        never has ``|``, so the first one is that old separator)."""
        return cls.decode(value.replace("|", ":", 1))


@dataclass(frozen=True)
class PauseValue(ActionPayload):
    """The ``pause`` button: ``pause`` or ``resume``."""

    what: str


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


def support(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``support``: the confidential menu."""
    turn.reply(
        say("support.menu"),
        choices=[
            Choice(label=say(f"support.{pick}_label"), action=SUPPORT_ACTION, value=SupportValue(pick).encode())
            for pick in ("talk", "change", "wellbeing")
        ],
    )


def support_pick(turn: Turn, action: Action) -> None:
    """A button of the support menu."""
    pick = SupportValue.decode(action.value).pick
    service = SupportService.of(turn.uow)
    if pick == "talk":
        turn.flows.start(turn, NOTE_FLOW, {"key": "support-note"})
    elif pick == "change":
        key = service.circle_to_change(turn.me.id, turn.tenant.id).key
        turn.reply(
            say("support.change_menu"),
            choices=[
                Choice(
                    label=say("support.pause_label"), action=CHANGE_ACTION, value=ChangeValue("pause", key).encode()
                ),
                Choice(
                    label=say("support.rematch_label"), action=CHANGE_ACTION, value=ChangeValue("rematch", key).encode()
                ),
                Choice(
                    label=say("support.end_label"),
                    action=CHANGE_ACTION,
                    value=ChangeValue("end", key).encode(),
                    style="danger",
                ),
            ],
        )
    elif pick == "wellbeing":
        turn.reply(say("support.wellbeing", resources=service.wellbeing(turn.me.id, turn.tenant.id)))
    else:
        raise CommandError("commands.unknown_action")


def note_done(turn: Turn, answers: dict[str, Any], _context: dict[str, Any]) -> None:
    """The support note ("Talk to my coordinator") is written: each of the person's coordinators is alerted privately, with their note."""
    for programme in SupportService.of(turn.uow).programmes_of(turn.me.id, turn.tenant.id):
        alert_coordinators(
            turn, programme, "support.alert_talk", [turn.me.id], name=turn.me.name, note=answers.get("note")
        )
    turn.reply(say("support.talk_sent"))


def change(turn: Turn, action: Action) -> None:
    """A button of the change menu: pause, rematch or end the person's own pairing."""
    value = ChangeValue.read(action.value)
    done = SupportService.of(turn.uow).change(turn, turn.me, value.what, value.circle)
    notice = "support.partner_paused" if value.what == "pause" else "matching.pair_ended_notice"
    _tell_members(turn, done.circle, notice, skip=turn.me.id, who=done.who)
    programme = done.circle.programme
    alert_coordinators(turn, programme, f"support.alert_{value.what}", [turn.me.id], name=turn.me.name)
    turn.reply(say(f"support.done_{value.what}", programme=programme))


def pause(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``pause``: offer to pause the person's participation, or to resume it."""
    paused = SupportService.of(turn.uow).paused(turn.me.id)
    what = "resume" if paused else "pause"
    turn.reply(
        say("support.pause_question", paused=paused),
        choices=[
            Choice(
                label=say("support.resume_label" if paused else "support.pause_me_label"),
                action=PAUSE_ACTION,
                value=PauseValue(what).encode(),
                style="primary",
            )
        ],
    )


def pause_confirm(turn: Turn, action: Action) -> None:
    """The ``pause`` button: pause or resume; the others in each circle hear only that it paused or resumed."""
    what = PauseValue.decode(action.value).what
    if what not in ("pause", "resume"):
        raise MalformedAction()
    pausing = what == "pause"
    result = SupportService.of(turn.uow).pause(turn, turn.me.id, pausing)
    notice = "support.partner_paused" if pausing else "support.partner_resumed"
    for changed in result.circles:
        _tell_members(turn, changed.circle, notice, skip=turn.me.id, who=changed.who)
    turn.reply(say("support.paused" if pausing else "support.resumed", count=result.changed, waiting=result.waiting))
    if not pausing:
        for participant_id in result.places:
            give_held(turn, participant_id)


def _coordinator_pair(verb: str, status: PairStatus, notice: str) -> CommandRun:
    """``pair <verb> @PERSON``: a coordinator changes the pair (in a group, the place) of one person."""

    def handler(turn: Turn, args: Args, programme: Programme | None) -> None:
        assert programme is not None
        if len(args.words) != 1:
            raise CommandError("support.pair_usage", verb=verb)
        [person] = resolve_people(turn, args.words)
        done = SupportService.of(turn.uow).pair_change(turn, programme, person, status)
        _tell_members(turn, done.circle, notice, who=done.who)
        names = [done.circle.person(m).name for m in done.circle.members]
        turn.reply(say("support.pair_changed", verb=verb, names=names))

    return handler


HANDLERS: tuple[Handling, ...] = (
    OnCommand("support", support),
    OnAction(SUPPORT_ACTION, support_pick),
    OnFlow(NOTE_FLOW, note_done),
    OnAction(CHANGE_ACTION, change),
    OnCommand("pause", pause),
    OnAction(PAUSE_ACTION, pause_confirm),
    OnCommand("pair pause", _coordinator_pair("pause", PairStatus.PAUSED, "support.partner_paused_by_programme")),
    OnCommand("pair resume", _coordinator_pair("resume", PairStatus.ACTIVE, "support.partner_resumed")),
    OnCommand("pair end", _coordinator_pair("end", PairStatus.ENDED, "matching.pair_ended_notice")),
)

"""The goal's direction asked before a target (or baseline) turns it the other way: "Yes, lower is better" and
"No, keep the target", from ``program edit``.

Each button carries what the question was about: the programme, the field typed, its new value, the direction
it implies and the field's value when the question was asked. A button whose question no longer stands
changes nothing and is answered in one sentence (:class:`~bot.errors.Outdated`): the question was answered
already (the value and direction are stored), or the goal changed since it was asked (the field no longer holds
what it held then), so an old "yes" can never put back a target typed before a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError, Outdated
from bot.model import Action, Choice
from bot.payloads import ActionPayload, MalformedAction
from bot.services.programmes import ProgrammeService, goal_values
from bot.wording import say

DIRECTION_ACTION, KEEP_ACTION = "programme.goal_direction", "programme.goal_keep"
FIELDS = {"target": "goal_target", "baseline": "goal_baseline"}
"""The fields whose value can turn the goal's direction, and the programme attribute each sets."""
UNKNOWN = "?"
"""``was`` of a button sent before buttons said what the field held: only "answered already" is checked."""


@dataclass(frozen=True)
class DirectionValue(ActionPayload):
    """ "Yes, lower is better": the programme, the field typed (``target`` or ``baseline``), its new value, the
    direction confirmed, and the field's value when the question was asked ("" for none)."""

    programme: int
    field: str
    value: str
    wanted: str
    was: str

    @classmethod
    def read(cls, value: str) -> Self:
        """Decode, also a button sent before ``was`` (four fields), or before versions (fields joined by ``|``)."""
        legacy = not value.startswith("v1:") and "|" in value
        raw = value.replace("|", ":") if legacy else value
        try:
            return cls.decode(raw)
        except MalformedAction:
            old = _DirectionBefore.decode(raw)
            return cls(old.programme, old.field, old.value, old.wanted, UNKNOWN)


@dataclass(frozen=True)
class _DirectionBefore(ActionPayload):
    programme: int
    field: str
    value: str
    wanted: str


@dataclass(frozen=True)
class KeepValue(ActionPayload):
    """ "No, keep the target": the field that stays as it was, and what the question was about (as in
    :class:`DirectionValue`)."""

    field: str
    programme: int
    value: str
    wanted: str
    was: str

    @classmethod
    def read(cls, value: str) -> Self:
        """Decode, also a button that carried only the field."""
        try:
            return cls.decode(value)
        except MalformedAction:
            return cls(_KeepBefore.decode(value).field, 0, "", "", UNKNOWN)


@dataclass(frozen=True)
class _KeepBefore(ActionPayload):
    field: str


def shown(number: float | None) -> str:
    """A goal figure as buttons carry it ("" for none)."""
    return "" if number is None else f"{number:g}"


def ask_direction(turn: Turn, programme: Programme, name: str, value: Any, wanted: str, was: str) -> None:
    """A target on the other side of the baseline: ask whether that direction is better before changing it
    (``programme`` as it would be, not stored; ``was``: the field as stored, :func:`shown`)."""
    typed = str(value)
    turn.reply(
        say("programme.direction_question", wanted=wanted, **goal_values(programme)),
        choices=[
            Choice(
                label=say("programme.direction_yes", wanted=wanted),
                action=DIRECTION_ACTION,
                value=DirectionValue(programme.id, name, typed, wanted, was).encode(),
                style="primary",
            ),
            Choice(
                label=say("programme.direction_keep", field=name),
                action=KEEP_ACTION,
                value=KeepValue(name, programme.id, typed, wanted, was).encode(),
            ),
        ],
    )


def _question_stands(programme: Programme, field: str, number: float, wanted: str, was: str) -> None:
    """Raise :class:`Outdated` when the question a button answers no longer stands (see the module docstring)."""
    current = getattr(programme, FIELDS[field])
    if current == number and programme.settings.goal_direction == wanted:
        raise Outdated("programme.direction_answered", programme=programme, field=field, value=shown(number))
    if was != UNKNOWN and shown(current) != was:
        raise Outdated("programme.direction_stale", programme=programme, **goal_values(programme))


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise MalformedAction() from None


def set_direction(turn: Turn, action: Action) -> None:
    """The coordinator confirmed the direction: store it with the target (or baseline) they typed."""
    pressed = DirectionValue.read(action.value)
    service = ProgrammeService.of(turn.uow)
    programme = service.coordinated(pressed.programme, turn.me.id)
    if pressed.field not in FIELDS:
        raise CommandError("programme.button_not_yours")
    number = _number(pressed.value)
    _question_stands(programme, pressed.field, number, pressed.wanted, pressed.was)
    service.confirm_direction(programme, FIELDS[pressed.field], number, pressed.wanted)
    turn.reply(
        say(
            "programme.edited_direction",
            programme=programme,
            field=pressed.field,
            value=pressed.value,
            wanted=pressed.wanted,
        )
    )


def keep(turn: Turn, action: Action) -> None:
    """The coordinator kept the goal as it was."""
    pressed = KeepValue.read(action.value)
    if pressed.programme and pressed.field in FIELDS:
        programme = ProgrammeService.of(turn.uow).coordinated(pressed.programme, turn.me.id)
        _question_stands(programme, pressed.field, _number(pressed.value), pressed.wanted, pressed.was)
    turn.reply(say("programme.kept", field=pressed.field))

"""``rematch @PERSON``: propose a new partner under the same rules; nothing ends until the coordinator decides.

The proposal comes from the same matcher and hard rules as ``match preview``, with the current pair
excluded. The coordinator confirms (the old pair ends, the new one is introduced and offered times),
ends the pair without a replacement, or keeps it. Both old partners are told kindly and truthfully;
neither hears the other's private reason. The use cases are in :class:`~bot.services.matching.MatchingService`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.invitations import resolve_people
from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import MatchPair, Programme
from bot.errors import CommandError
from bot.handling import Handling, OnAction, OnCommand
from bot.matching.load import reason_text
from bot.matching.model import Reason
from bot.model import Action, Choice
from bot.payloads import ActionPayload
from bot.services.matching import MatchingService
from bot.wording import say

CONFIRM_ACTION = "rematch.confirm"
END_ACTION = "rematch.end"
KEEP_ACTION = "rematch.keep"


@dataclass(frozen=True)
class RematchValue(ActionPayload):
    """The "keep the current pair" and "end the pair anyway" buttons: the programme and the pair."""

    programme: int
    pair: int


@dataclass(frozen=True)
class ConfirmValue(ActionPayload):
    """The "confirm the rematch" button: the programme, the pair, who gets a new partner, and that partner."""

    programme: int
    pair: int
    participant: int
    partner: int


def rematch(turn: Turn, args: Args, programme: Programme | None) -> None:
    """Show the proposed new partner (or why nobody fits) and let the coordinator decide."""
    assert programme is not None
    if len(args.words) != 1:
        raise CommandError("matching.rematch_usage")
    [person] = resolve_people(turn, args.words)
    service = MatchingService.of(turn.uow)
    case = service.rematch_case(programme, person, turn.now.date())
    names = service.names([case.participant.id, case.partner_id])
    keep = Choice(
        label=say("matching.rematch_keep_label"),
        action=KEEP_ACTION,
        value=RematchValue(programme.id, case.pair.id).encode(),
    )
    if isinstance(case.proposal, Reason):
        turn.reply(
            say(
                "matching.rematch_nobody",
                name=person.name,
                partner=names[case.partner_id],
                reason=say(case.proposal.key, **case.proposal.values),
            ),
            choices=[
                keep,
                Choice(
                    label=say("matching.rematch_end_label"),
                    action=END_ACTION,
                    value=RematchValue(programme.id, case.pair.id).encode(),
                    style="danger",
                ),
            ],
        )
        return
    new_id = case.new_partner
    assert new_id is not None
    turn.reply(
        say(
            "matching.rematch_proposal",
            name=person.name,
            partner=names[case.partner_id],
            proposal=service.names([new_id])[new_id],
            score=case.proposal.score,
            reasons=reason_text(case.proposal.reasons),
        ),
        choices=[
            Choice(
                label=say("matching.rematch_confirm_label"),
                action=CONFIRM_ACTION,
                value=ConfirmValue(programme.id, case.pair.id, case.participant.id, new_id).encode(),
                style="primary",
            ),
            keep,
        ],
    )


def _decided(turn: Turn, programme_id: int, pair_id: int) -> tuple[Programme, MatchPair]:
    """The still-current pair a rematch button names, in a programme the presser coordinates."""
    return MatchingService.of(turn.uow).decided_pair(programme_id, pair_id, turn.tenant.id, turn.me.id)


def on_confirm(turn: Turn, action: Action) -> None:
    """End the old pair, store and introduce the new one, and offer the new pair times."""
    pressed = ConfirmValue.decode(action.value)
    programme, pair = _decided(turn, pressed.programme, pressed.pair)
    name, proposal = MatchingService.of(turn.uow).confirm_rematch(
        turn, programme, pair, pressed.participant, pressed.partner
    )
    turn.reply(say("matching.rematch_done", name=name, proposal=proposal))


def on_end(turn: Turn, action: Action) -> None:
    """The coordinator ends the pair although nobody new fits: both are told, and why, in their own words."""
    pressed = RematchValue.decode(action.value)
    programme, pair = _decided(turn, pressed.programme, pressed.pair)
    MatchingService.of(turn.uow).end_pair(turn, programme, pair)
    turn.reply(say("matching.rematch_ended_only", programme=programme))


def on_keep(turn: Turn, action: Action) -> None:
    """The coordinator keeps the pair: nothing changes."""
    pressed = RematchValue.decode(action.value)
    programme, _pair = _decided(turn, pressed.programme, pressed.pair)
    turn.reply(say("matching.rematch_kept", programme=programme))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("rematch", rematch),
    OnAction(CONFIRM_ACTION, on_confirm),
    OnAction(END_ACTION, on_end),
    OnAction(KEEP_ACTION, on_keep),
)

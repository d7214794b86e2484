"""``rematch @PERSON``: propose a new partner under the same rules; nothing ends until the coordinator decides.

The proposal comes from the same matcher and hard rules as ``match preview``, with the current pair
excluded. The coordinator confirms (the old pair ends, the new one is introduced and offered times),
ends the pair without a replacement, or keeps it. Both old partners are told kindly and truthfully;
neither hears the other's private reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.invitations import resolve_people
from bot.commands.matching import introduce
from bot.commands.registry import Args
from bot.commitment import schedule_gap_check
from bot.context import Turn
from bot.domain import MatchPair, NewMatchPair, PairStatus, Participant, Programme, Role
from bot.errors import CommandError, required
from bot.matching.load import candidate_of, load_input, reason_text, topic_labels
from bot.matching.model import MatchInput, Pair, Reason
from bot.matching.run import run_matching
from bot.model import Action, Choice
from bot.sessions.circles import circles_of
from bot.sessions.places import set_circle, tell
from bot.sessions.scheduling import offer_slots
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

CONFIRM_ACTION = "rematch.confirm"
END_ACTION = "rematch.end"
KEEP_ACTION = "rematch.keep"


def current_pair(turn: Turn, programme: Programme, participant: Participant) -> MatchPair | None:
    """The pair someone is in now (active or paused), if any."""
    return next(
        (
            p
            for p in turn.uow.matching.pairs(programme.id)
            if p.status != PairStatus.ENDED and participant.id in (p.mentee_id, p.mentor_id)
        ),
        None,
    )


def _input_without(turn: Turn, programme: Programme, participant: Participant, pair: MatchPair) -> MatchInput:
    """The programme's matching input for ``participant`` alone, as if ``pair`` had ended (and may not recur)."""
    data = load_input(turn.uow, programme, turn.now.date())
    data.rules.forbidden.add((pair.mentee_id, pair.mentor_id))
    data.rules.pins = [pin for pin in data.rules.pins if participant.id in pin]
    if participant.role == Role.MENTEE:
        data.mentees = [candidate_of(turn.uow, programme, participant)]
    else:
        held = sum(
            1
            for p in turn.uow.matching.pairs(programme.id)
            if p.status != PairStatus.ENDED and p.mentor_id == participant.id and p.id != pair.id
        )
        data.mentors = [candidate_of(turn.uow, programme, participant, max(0, participant.capacity - held))]
    return data


def propose(turn: Turn, programme: Programme, participant: Participant, pair: MatchPair) -> Pair | Reason:
    """The best new partner for ``participant`` under every hard rule, or the precise reason nobody fits."""
    data = _input_without(turn, programme, participant, pair)
    settings = programme.settings
    result = run_matching(data, settings.match_mode, settings.match_seed, topic_labels())
    mine = next((p for p in result.pairs if participant.id in (p.mentee, p.mentor)), None)
    if mine is not None:
        return mine
    missing = next((u for u in result.unmatched if u.participant_id == participant.id), None)
    return missing.reason if missing else Reason("matching.unmatched_capacity")


def _names(turn: Turn, participant_ids: list[int]) -> dict[int, str]:
    participants = [required(turn.uow.participants.get(pid), "participant", pid) for pid in participant_ids]
    people = turn.uow.people.many([p.person_id for p in participants])
    return {p.id: people[p.person_id].name for p in participants}


def rematch(turn: Turn, args: Args, programme: Programme | None) -> None:
    """Show the proposed new partner (or why nobody fits) and let the coordinator decide."""
    assert programme is not None
    if len(args.words) != 1:
        raise CommandError("matching.rematch_usage")
    [person] = resolve_people(turn, args.words)
    participant = turn.uow.participants.find(programme.id, person.id)
    pair = None if participant is None else current_pair(turn, programme, participant)
    if participant is None or pair is None:
        raise CommandError("matching.not_paired", name=person.name, programme=programme)
    partner_id = pair.mentor_id if participant.id == pair.mentee_id else pair.mentee_id
    names = _names(turn, [participant.id, partner_id])
    proposal = propose(turn, programme, participant, pair)
    ref = f"{programme.id}:{pair.id}"
    keep = Choice(label=say("matching.rematch_keep_label"), action=KEEP_ACTION, value=ref)
    if isinstance(proposal, Reason):
        turn.reply(
            say(
                "matching.rematch_nobody",
                name=person.name,
                partner=names[partner_id],
                reason=say(proposal.key, **proposal.values),
            ),
            choices=[
                keep,
                Choice(label=say("matching.rematch_end_label"), action=END_ACTION, value=ref, style="danger"),
            ],
        )
        return
    new_id = proposal.mentor if participant.role == Role.MENTEE else proposal.mentee
    turn.reply(
        say(
            "matching.rematch_proposal",
            name=person.name,
            partner=names[partner_id],
            proposal=_names(turn, [new_id])[new_id],
            score=proposal.score,
            reasons=reason_text(proposal.reasons),
        ),
        choices=[
            Choice(
                label=say("matching.rematch_confirm_label"),
                action=CONFIRM_ACTION,
                value=f"{ref}:{participant.id}:{new_id}",
                style="primary",
            ),
            keep,
        ],
    )


def _coordinated_pair(turn: Turn, value: str) -> tuple[Programme, MatchPair, list[str]]:
    """The still-current pair a rematch button names (``PROGRAMME:PAIR[:...]``), in a programme the presser
    coordinates; with the rest of the button's value."""
    programme_id, pair_id, *rest = value.split(":") + [""]
    programme = turn.uow.programmes.get(int(programme_id)) if programme_id.isdigit() else None
    if (
        programme is None
        or programme.tenant_id != turn.tenant.id
        or turn.me.id not in turn.uow.coordinators.of_programme(programme.id)
    ):
        raise CommandError("matching.rematch_not_yours")
    pair = next((p for p in turn.uow.matching.pairs(programme.id) if str(p.id) == pair_id), None)
    if pair is None:
        raise CommandError("matching.rematch_not_yours")
    if pair.status == PairStatus.ENDED:
        raise CommandError("matching.rematch_already_decided")
    return programme, pair, rest


def _end(turn: Turn, programme: Programme, pair: MatchPair, replaced: int | None) -> None:
    """End a pair and tell both people kindly; ``replaced`` is the participant who got a new partner, if any.

    In a group only that mentee's place ends: the group's sessions go on for the others. Someone who
    paused hears of it when they resume."""
    for circle in circles_of(turn.uow, programme):
        if pair.id in {p.id for p in circle.pairs}:
            set_circle(turn, circle, PairStatus.ENDED, "rematch", who=pair.mentee_id)
    ended = next((p for p in turn.uow.matching.pairs(programme.id) if p.id == pair.id), pair)
    ended.status, ended.ended_at, ended.end_reason = PairStatus.ENDED, turn.now, "rematch"
    turn.uow.matching.save_pair(ended)
    names = _names(turn, [pair.mentee_id, pair.mentor_id])
    for me, other in ((pair.mentee_id, pair.mentor_id), (pair.mentor_id, pair.mentee_id)):
        text = say("matching.rematch_ended_notice", programme=programme, other=names[other], new_partner=me == replaced)
        tell(turn, me, text, programme_id=programme.id)


def on_confirm(turn: Turn, action: Action) -> None:
    """End the old pair, store and introduce the new one, and offer the new pair times."""
    programme, pair, rest = _coordinated_pair(turn, action.value)
    who, new_id = (rest + ["", ""])[:2]
    participant = turn.uow.participants.get(int(who)) if who.isdigit() else None
    if participant is None or participant.id not in (pair.mentee_id, pair.mentor_id) or not new_id.isdigit():
        raise CommandError("matching.rematch_not_yours")
    fresh = propose(turn, programme, participant, pair)  # the programme may have changed since the proposal
    chosen = None if isinstance(fresh, Reason) else (fresh.mentor if participant.role == Role.MENTEE else fresh.mentee)
    if isinstance(fresh, Reason) or chosen != int(new_id):
        raise CommandError("matching.rematch_stale")
    _end(turn, programme, pair, replaced=participant.id)
    stored = turn.uow.matching.add_pair(
        NewMatchPair(
            programme_id=programme.id,
            mentee_id=fresh.mentee,
            mentor_id=fresh.mentor,
            score=fresh.score,
            reasons=[{"key": r.key, "values": r.values} for r in fresh.reasons],
        )
    )
    if stored is None:
        raise CommandError("matching.rematch_stale")
    introduce(turn, programme, stored, topic_labels())
    for circle in circles_of(turn.uow, programme):
        if stored.id in {p.id for p in circle.pairs} and not circle.pairs[0].scheduling:
            offer_slots(turn, circle)
            schedule_gap_check(turn, circle, turn.now)
    names = _names(turn, [participant.id, chosen])
    turn.uow.audit.add(
        turn.tenant.id, programme.id, turn.me.id, "rematch", f"confirmed: {names[participant.id]} with {names[chosen]}"
    )
    turn.reply(say("matching.rematch_done", name=names[participant.id], proposal=names[chosen]))


def on_end(turn: Turn, action: Action) -> None:
    """The coordinator ends the pair although nobody new fits: both are told, and why, in their own words."""
    programme, pair, _rest = _coordinated_pair(turn, action.value)
    _end(turn, programme, pair, replaced=None)
    turn.uow.audit.add(turn.tenant.id, programme.id, turn.me.id, "rematch", "ended without a new partner")
    turn.reply(say("matching.rematch_ended_only", programme=programme))


def on_keep(turn: Turn, action: Action) -> None:
    programme, _pair, _rest = _coordinated_pair(turn, action.value)
    turn.reply(say("matching.rematch_kept", programme=programme))


def install(engine: Engine) -> None:
    engine.registry.handles("rematch")(rematch)
    engine.on_action(CONFIRM_ACTION)(on_confirm)
    engine.on_action(END_ACTION)(on_end)
    engine.on_action(KEEP_ACTION)(on_keep)

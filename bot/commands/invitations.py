"""Recruitment and the programme's people: ``invite``, ``join``, consent, ``program announce``,
``coordinators add``, ``status``.

Thin handlers over :class:`~bot.services.recruitment.RecruitmentService`: they read the words, call the
service and word the replies and the consent question. People and channels come resolved by the adapter
(:attr:`bot.model.InboundEvent.mentions`, ``channels``), so nothing here knows a platform's syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.registry import Args
from bot.commands.reports import health_text
from bot.context import Turn
from bot.domain import PairStatus, Participant, ParticipantStatus, Person, Programme, Role
from bot.enrolment import IMPORT_INVITE, IMPORT_ONBOARDING
from bot.errors import CommandError
from bot.handling import Handling, OnAction, OnCommand, OnDue
from bot.intake import INTAKE_SERVICE
from bot.model import Action, Address, Choice
from bot.payloads import ActionPayload, MalformedAction
from bot.ports.match_facts import RosterEntry
from bot.services.recruitment import INVITE_REMINDER, RecruitmentService, parse_role
from bot.team_rating import agreements
from bot.values import describe_cadence
from bot.wording import say

CONSENT_ACTION = "consent"
JOIN_ACTION = "join.pick"


@dataclass(frozen=True)
class ConsentValue(ActionPayload):
    """A consent button: the participant asked, and ``accept`` or ``decline``."""

    participant: int
    answer: str


@dataclass(frozen=True)
class JoinValue(ActionPayload):
    """A join button: the programme, and the role (``mentor``, ``mentee``, or "" when still to choose)."""

    programme: int
    role: str = ""

    def chosen_role(self) -> Role | None:
        """The role the button names; :class:`~bot.payloads.MalformedAction` for a value that is no role."""
        if not self.role:
            return None
        try:
            return Role(self.role)
        except ValueError:
            raise MalformedAction() from None


def resolve_people(turn: Turn, tokens: list[str]) -> list[Person]:
    """People named by mention (resolved by the adapter), email or the part of their email before the @;
    all or a :class:`CommandError` naming the missing."""
    event = turn.event
    return RecruitmentService.of(turn.uow).named(turn.tenant.id, event.platform.value, event.mentions, tokens)


def send_consent(turn: Turn, participant: Participant, programme: Programme, reminder: bool = False) -> None:
    """The consent DM: what the programme is, what the role means, accept or decline."""
    person = turn.uow.people.get(participant.person_id)
    inviter = turn.uow.people.get(participant.invited_by) if participant.invited_by else None
    turn.message(
        Address.person(participant.person_id),
        say(
            "consent.request",
            programme=programme,
            role=participant.role.value,
            person=person,
            cadence=describe_cadence(programme.cadence_days),
            inviter=inviter if inviter and inviter.id != participant.person_id else None,
            reminder=reminder,
        ),
        choices=[
            Choice(
                label=say("consent.accept_label"),
                action=CONSENT_ACTION,
                value=ConsentValue(participant.id, "accept").encode(),
                style="primary",
            ),
            Choice(
                label=say("consent.decline_label"),
                action=CONSENT_ACTION,
                value=ConsentValue(participant.id, "decline").encode(),
            ),
        ],
        programme_id=programme.id,
        kind="nudge" if reminder else "reply",
    )
    if not reminder:
        RecruitmentService.of(turn.uow).remind_later(turn.tenant.id, participant, turn.now)


def invite(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``invite @A @B as mentor``: each asked for consent; the reply says who was skipped and why."""
    assert programme is not None
    if len(args.words) < 3 or args.words[-2].lower() != "as":
        raise CommandError("people.invite_usage")
    role = parse_role(args.words[-1])
    people = resolve_people(turn, args.words[:-2])
    done = RecruitmentService.of(turn.uow).invite(programme, people, role, turn.me)
    for _person, participant in done.invited:
        send_consent(turn, participant, programme)
    warnings = [
        say("eligibility.nobody_outside_line", name=person.name, role=role.value, handle=person.email)
        for person in done.lonely
    ]
    invited = [person.name for person, _ in done.invited]
    text = say("people.invited", programme=programme, role=role.value, invited=invited, skipped=done.skipped)
    turn.reply("\n".join([text.rstrip(), *warnings]))


def on_consent(turn: Turn, action: Action) -> None:
    """A consent button: the answer recorded; a yes starts the intake. A button of an invitation answered
    already changes nothing (:class:`~bot.errors.Outdated`, raised by the service)."""
    value = ConsentValue.decode(action.value)
    answer = RecruitmentService.of(turn.uow).answer_consent(turn.me, value.participant, value.answer, turn.now)
    participant, programme = answer.participant, answer.programme
    role = participant.role.value
    if answer.outcome == "accepted":
        turn.reply(say("consent.accepted", programme=programme, role=role))
        INTAKE_SERVICE.start(turn, participant, programme)
        INTAKE_SERVICE.schedule_reminder(turn, participant, programme, 1)
    else:
        turn.reply(say("consent.declined", programme=programme))


def on_invite_reminder(turn: Turn, payload: dict[str, Any]) -> None:
    """Three days without an answer: the consent question once more."""
    waiting = RecruitmentService.of(turn.uow).still_invited(int(payload.get("participant_id", 0)))
    if waiting is not None:
        send_consent(turn, *waiting, reminder=True)


def invite_from_import(turn: Turn, payload: dict[str, Any]) -> None:
    """A participants import named someone without recorded consent: ask them, as an invitation does."""
    waiting = RecruitmentService.of(turn.uow).still_invited(int(payload.get("participant_id", 0)))
    if waiting is not None:
        send_consent(turn, *waiting)


def onboard_from_import(turn: Turn, payload: dict[str, Any]) -> None:
    """Consent was recorded elsewhere: the onboarding still comes before any match."""
    found = RecruitmentService.of(turn.uow).to_onboard(int(payload.get("participant_id", 0)))
    if found is not None:
        participant, programme, person = found
        INTAKE_SERVICE.start_onboarding(turn.as_person(person), participant, programme)


def join(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``join [as ROLE] [--program NAME]``: volunteer; with several open programmes, a button for each."""
    words = [w.lower() for w in args.words]
    role = None
    if words:
        if words[0] == "as" and len(words) == 2:
            role = parse_role(words[1])
        elif len(words) == 1:
            role = parse_role(words[0])
        else:
            raise CommandError("join.usage")
    service = RecruitmentService.of(turn.uow)
    open_programmes = service.open_programmes(turn.tenant.id, args.options.get("program", ""))
    if len(open_programmes) > 1:
        turn.reply(
            say("join.pick_programme"),
            choices=[
                Choice(label=p.name, action=JOIN_ACTION, value=JoinValue(p.id, role.value if role else "").encode())
                for p in open_programmes
            ],
        )
        return
    _join(turn, open_programmes[0], role)


def on_join_pick(turn: Turn, action: Action) -> None:
    """A join button: a programme picked, and perhaps the role."""
    value = JoinValue.decode(action.value)
    role = value.chosen_role()
    _join(turn, RecruitmentService.of(turn.uow).open_programme(turn.tenant.id, value.programme), role)


def _role_buttons(programme: Programme, style_first: bool = False) -> list[Choice]:
    return [
        Choice(
            label=say("join.as_mentor"),
            action=JOIN_ACTION,
            value=JoinValue(programme.id, Role.MENTOR.value).encode(),
            style="primary" if style_first else "default",
        ),
        Choice(
            label=say("join.as_mentee"), action=JOIN_ACTION, value=JoinValue(programme.id, Role.MENTEE.value).encode()
        ),
    ]


def _join(turn: Turn, programme: Programme, role: Role | None) -> None:
    outcome = RecruitmentService.of(turn.uow).volunteer(programme, turn.me, role)
    if outcome.kind == "ask_consent":
        assert outcome.participant is not None
        send_consent(turn, outcome.participant, programme)
    elif outcome.kind == "pick_role":
        turn.reply(say("join.pick_role", programme=programme), choices=_role_buttons(programme))
    elif outcome.kind == "ineligible":
        assert outcome.problem is not None
        other = outcome.other_role
        offer = (
            [
                Choice(
                    label=say("eligibility.other_role_label", role=other.value),
                    action=JOIN_ACTION,
                    value=JoinValue(programme.id, other.value).encode(),
                )
            ]
            if other is not None
            else []
        )
        turn.reply(say(outcome.problem[0], **outcome.problem[1]), choices=offer)
    else:
        existing = outcome.participant
        assert existing is not None
        turn.reply(say("join.already", programme=programme, role=existing.role.value, status=existing.status.value))


def announce(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``program announce #CHANNEL``: a call for volunteers in a channel, with a button per role."""
    assert programme is not None
    if len(args.words) != 1:
        raise CommandError("join.announce_usage")
    word = args.words[0]
    channel = RecruitmentService.of(turn.uow).call_channel(programme, word, turn.event.channels)
    turn.message(
        Address(kind="conversation", conversation=channel),
        say("join.call", programme=programme, cadence=describe_cadence(programme.cadence_days)),
        choices=_role_buttons(programme, style_first=True),
        programme_id=programme.id,
    )
    turn.reply(say("join.announced", programme=programme, channel=word))


def coordinators_add(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``coordinators add @A @B``: each new coordinator is told."""
    assert programme is not None
    if not args.words:
        raise CommandError("people.coordinators_usage")
    people = resolve_people(turn, args.words)
    added = RecruitmentService.of(turn.uow).add_coordinators(programme, people, turn.me)
    for person in added:
        if person.id != turn.me.id:
            turn.message(Address.person(person.id), say("people.now_coordinator", programme=programme, by=turn.me.name))
    turn.reply(
        say(
            "people.coordinators_added",
            programme=programme,
            added=[p.name for p in added],
            already=len(args.words) - len(added),
        )
    )


def status(turn: Turn, _args: Args, programme: Programme | None) -> None:
    assert programme is not None
    roster = turn.uow.participants.roster(programme.id)
    counts = {
        role.value: {**{state.value: 0 for state in ParticipantStatus}, "intake": 0, "onboarded": 0} for role in Role
    }
    waiting, incomplete, not_onboarded = [], [], []
    for entry in roster:
        role_counts = counts[entry.role.value]
        role_counts[entry.status.value] += 1
        if entry.status == ParticipantStatus.INVITED:
            waiting.append(entry.name)
        if entry.status != ParticipantStatus.ACTIVE:
            continue
        role_counts["intake"] += entry.intake_done
        role_counts["onboarded"] += entry.onboarded
        if not entry.intake_done:
            incomplete.append(entry.name)
        elif not entry.onboarded:
            not_onboarded.append(entry.name)
    coordinators = [turn.uow.people.get(pid) for pid in turn.uow.coordinators.of_programme(programme.id)]
    at_risk, unmatched = pair_watch(turn, programme, roster)

    turn.reply(
        say(
            "people.status",
            programme=programme,
            counts=counts,
            waiting=sorted(waiting),
            incomplete=sorted(incomplete),
            not_onboarded=sorted(not_onboarded),
            health=health_text(turn, programme),
            coordinators=[c.name for c in coordinators if c is not None],
            total=len(roster),
            at_risk=at_risk,
            unmatched=unmatched,
            team=agreements(turn.uow, programme),
        )
    )


def pair_watch(turn: Turn, programme: Programme, roster: list[RosterEntry]) -> tuple[list[Any], list[Any]]:
    """For ``status`` (coordinators only): the live pairs at risk, with the kind of risk (never what was
    said), and the people taking part who are in no live pair."""
    names = {entry.id: entry.name for entry in roster}
    live = [p for p in turn.uow.matching.pairs(programme.id) if p.status != PairStatus.ENDED]
    at_risk = [
        {
            "mentor": names.get(p.mentor_id, "?"),
            "mentee": names.get(p.mentee_id, "?"),
            "reason": p.risk_reason.split(":")[0],
        }
        for p in live
        if p.at_risk
    ]
    paired = {p.mentor_id for p in live} | {p.mentee_id for p in live}
    unmatched = [
        {"name": entry.name, "role": entry.role.value}
        for entry in roster
        if entry.status == ParticipantStatus.ACTIVE and entry.id not in paired
    ]
    return at_risk, sorted(unmatched, key=lambda u: (u["role"], u["name"]))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("invite", invite),
    OnCommand("join", join),
    OnCommand("program announce", announce),
    OnCommand("coordinators add", coordinators_add),
    OnCommand("status", status),
    OnAction(CONSENT_ACTION, on_consent),
    OnAction(JOIN_ACTION, on_join_pick),
    OnDue(INVITE_REMINDER, on_invite_reminder),
    OnDue(IMPORT_INVITE, invite_from_import),
    OnDue(IMPORT_ONBOARDING, onboard_from_import),
)

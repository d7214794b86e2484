"""Recruitment and the programme's people: ``invite``, ``join``, consent, ``coordinators add``, ``status``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import (
    NewParticipant,
    PairStatus,
    Participant,
    ParticipantStatus,
    Person,
    Programme,
    ProgrammeStatus,
    Role,
)
from bot.eligibility import nobody_outside_line, role_problem
from bot.enrolment import IMPORT_INVITE, IMPORT_ONBOARDING
from bot.errors import CommandError
from bot.intake import INTAKE_SERVICE
from bot.model import Action, Address, Choice
from bot.values import describe_cadence, is_email
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

CONSENT_ACTION = "consent"
JOIN_ACTION = "join.pick"
INVITE_REMINDER = "invite_reminder"
INVITE_REMINDER_AFTER = timedelta(days=3)
_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def resolve_people(turn: Turn, tokens: list[str]) -> list[Person]:
    """People named by mention, email or the part of their email before the @; all or an error."""
    found: list[Person] = []
    missing: list[str] = []
    everyone: list[Person] | None = None
    for token in tokens:
        token = token.strip().rstrip(",")
        if not token:
            continue
        person = None
        platform_id = turn.event.mentions.get(token)
        match = _SLACK_MENTION.match(token)
        external_id = platform_id or (match.group(1) if match else None)
        if external_id:
            person = turn.uow.people.by_identity(turn.tenant.id, turn.event.platform.value, external_id)
        elif is_email(token.lstrip("@")):
            person = turn.uow.people.by_email(turn.tenant.id, token.lstrip("@"))
        elif token.startswith("@") and len(token) > 1:
            everyone = everyone if everyone is not None else turn.uow.people.in_tenant(turn.tenant.id)
            local = token[1:].lower()
            candidates = [p for p in everyone if p.email and p.email.lower().split("@")[0] == local]
            person = candidates[0] if len(candidates) == 1 else None
        if person is None:
            missing.append(token)
        elif person.id not in {p.id for p in found}:
            found.append(person)
    if missing:
        raise CommandError("people.not_found", missing=missing)
    return found


def parse_role(word: str) -> Role:
    try:
        return Role(word.lower().rstrip("s"))
    except ValueError:
        raise CommandError("people.bad_role", given=word) from None


def send_consent(turn: Turn, participant: Participant, programme: Programme, reminder: bool = False) -> None:
    """The consent DM: what the programme is, what the role means, accept or decline."""
    person = turn.uow.people.get(participant.person_id)
    inviter = turn.uow.people.get(participant.invited_by) if participant.invited_by else None
    value = str(participant.id)
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
            Choice(label=say("consent.accept_label"), action=CONSENT_ACTION, value=f"{value}:accept", style="primary"),
            Choice(label=say("consent.decline_label"), action=CONSENT_ACTION, value=f"{value}:decline"),
        ],
        programme_id=programme.id,
        kind="nudge" if reminder else "reply",
    )
    if not reminder:
        turn.uow.schedule.add(
            turn.tenant.id,
            INVITE_REMINDER,
            turn.now + INVITE_REMINDER_AFTER,
            {"participant_id": participant.id},
            key=f"invite-reminder:{participant.id}",
        )


def invite(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    if len(args.words) < 3 or args.words[-2].lower() != "as":
        raise CommandError("people.invite_usage")
    role = parse_role(args.words[-1])
    people = resolve_people(turn, args.words[:-2])
    if programme.status == ProgrammeStatus.CLOSED:
        raise CommandError("programme.closed", programme=programme)
    invited, skipped, warnings = [], [], []
    for person in people:
        existing = turn.uow.participants.find(programme.id, person.id)
        problem = role_problem(turn.uow, programme, person, role)
        if person.opted_out:
            skipped.append({"name": person.name, "why": "opted_out"})
        elif problem is not None and existing is None:
            skipped.append({"name": person.name, "why": "seniority", "role": role.value})
        elif existing is not None:
            skipped.append({"name": person.name, "why": existing.status.value, "role": existing.role.value})
        else:
            participant = turn.uow.participants.add(
                NewParticipant(
                    programme_id=programme.id,
                    person_id=person.id,
                    role=role,
                    invited_by=turn.me.id,
                    capacity=programme.settings.mentor_capacity if role == Role.MENTOR else 1,
                )
            )
            send_consent(turn, participant, programme)
            invited.append(person.name)
            if nobody_outside_line(turn.uow, programme, person, role):
                warnings.append(
                    say("eligibility.nobody_outside_line", name=person.name, role=role.value, handle=person.email)
                )
    text = say("people.invited", programme=programme, role=role.value, invited=invited, skipped=skipped)
    turn.reply("\n".join([text.rstrip(), *warnings]))


def on_consent(turn: Turn, action: Action) -> Participant | None:
    """Record the answer to a consent DM; returns the participant when they have just said yes."""
    participant_id, _, answer = action.value.partition(":")
    participant = turn.uow.participants.get(int(participant_id)) if participant_id.isdigit() else None
    if participant is None or participant.person_id != turn.me.id or answer not in ("accept", "decline"):
        raise CommandError("consent.not_yours")
    programme = turn.uow.programmes.get(participant.programme_id)
    assert programme is not None
    turn.uow.schedule.cancel(f"invite-reminder:{participant.id}")
    if answer == "accept":
        if participant.status == ParticipantStatus.ACTIVE:
            turn.reply(say("consent.already_in", programme=programme, role=participant.role.value))
            return None
        participant.status, participant.joined_at = ParticipantStatus.ACTIVE, turn.now
        participant = turn.uow.participants.save(participant)
        turn.reply(say("consent.accepted", programme=programme, role=participant.role.value))
        return participant
    if participant.status == ParticipantStatus.DECLINED:
        turn.reply(say("consent.already_declined", programme=programme))
        return None
    participant.status = ParticipantStatus.DECLINED
    turn.uow.participants.save(participant)
    turn.uow.schedule.cancel(f"intake-reminder:{participant.id}:")
    turn.reply(say("consent.declined", programme=programme))
    return None


def on_invite_reminder(turn: Turn, payload: dict[str, Any]) -> None:
    participant = turn.uow.participants.get(int(payload.get("participant_id", 0)))
    if participant is None or participant.status != ParticipantStatus.INVITED:
        return
    programme = turn.uow.programmes.get(participant.programme_id)
    if programme is not None and programme.status != ProgrammeStatus.CLOSED:
        send_consent(turn, participant, programme, reminder=True)


def join(turn: Turn, args: Args, _programme: Programme | None) -> None:
    words = [w.lower() for w in args.words]
    role = None
    if words:
        if words[0] == "as" and len(words) == 2:
            role = parse_role(words[1])
        elif len(words) == 1:
            role = parse_role(words[0])
        else:
            raise CommandError("join.usage")
    open_programmes = [p for p in turn.uow.programmes.in_tenant(turn.tenant.id) if p.status == ProgrammeStatus.OPEN]
    if args.options.get("program"):
        from bot.commands.registry import find_programme

        chosen = find_programme(open_programmes, args.options["program"])
        if chosen is None:
            raise CommandError(
                "join.unknown_programme", given=args.options["program"], names=[p.name for p in open_programmes]
            )
        open_programmes = [chosen]
    if not open_programmes:
        raise CommandError("join.no_programme")
    if len(open_programmes) > 1:
        turn.reply(
            say("join.pick_programme"),
            choices=[
                Choice(label=p.name, action=JOIN_ACTION, value=f"{p.id}:{role.value if role else ''}")
                for p in open_programmes
            ],
        )
        return
    _join(turn, open_programmes[0], role)


def on_join_pick(turn: Turn, action: Action) -> None:
    programme_id, _, role = action.value.partition(":")
    programme = turn.uow.programmes.get(int(programme_id)) if programme_id.isdigit() else None
    if programme is None or programme.tenant_id != turn.tenant.id or programme.status != ProgrammeStatus.OPEN:
        raise CommandError("join.no_programme")
    _join(turn, programme, Role(role) if role else None)


def _join(turn: Turn, programme: Programme, role: Role | None) -> None:
    pending = turn.uow.participants.find(programme.id, turn.me.id)
    if role is None and pending is not None and pending.status == ParticipantStatus.INVITED:
        send_consent(turn, pending, programme)  # the consent question, back whenever they ask
        return
    if role is None:
        turn.reply(
            say("join.pick_role", programme=programme),
            choices=[
                Choice(label=say("join.as_mentor"), action=JOIN_ACTION, value=f"{programme.id}:mentor"),
                Choice(label=say("join.as_mentee"), action=JOIN_ACTION, value=f"{programme.id}:mentee"),
            ],
        )
        return
    existing = turn.uow.participants.find(programme.id, turn.me.id)
    problem = role_problem(turn.uow, programme, turn.me, role)
    if problem is not None and (existing is None or existing.status == ParticipantStatus.DECLINED):
        other = Role.MENTEE if role == Role.MENTOR else Role.MENTOR
        offer = (
            []
            if role_problem(turn.uow, programme, turn.me, other)
            else [
                Choice(
                    label=say("eligibility.other_role_label", role=other.value),
                    action=JOIN_ACTION,
                    value=f"{programme.id}:{other.value}",
                )
            ]
        )
        turn.reply(say(problem[0], **problem[1]), choices=offer)
        return
    if existing is not None and existing.status == ParticipantStatus.INVITED:
        # Not answered yet: the consent question comes back, in the role they ask for now.
        if problem is None and existing.role != role:
            existing.role = role
            existing.capacity = programme.settings.mentor_capacity if role == Role.MENTOR else 1
            existing = turn.uow.participants.save(existing)
        send_consent(turn, existing, programme)
        return
    if existing is not None and existing.status != ParticipantStatus.DECLINED:
        turn.reply(say("join.already", programme=programme, role=existing.role.value, status=existing.status.value))
        return
    if existing is not None:
        existing.role, existing.status = role, ParticipantStatus.INVITED
        participant = turn.uow.participants.save(existing)
    else:
        participant = turn.uow.participants.add(
            NewParticipant(
                programme_id=programme.id,
                person_id=turn.me.id,
                role=role,
                invited_by=turn.me.id,
                capacity=programme.settings.mentor_capacity if role == Role.MENTOR else 1,
            )
        )
    send_consent(turn, participant, programme)


_CHANNEL = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")


def announce(turn: Turn, args: Args, programme: Programme | None) -> None:
    """Post a call for volunteers in a channel, with a button per role."""
    assert programme is not None
    if len(args.words) != 1:
        raise CommandError("join.announce_usage")
    token = args.words[0]
    match = _CHANNEL.match(token)
    channel = match.group(1) if match else token
    if not match and not (token.startswith("#") and len(token) > 1):
        raise CommandError("join.announce_usage")
    if programme.status != ProgrammeStatus.OPEN:
        raise CommandError("programme.closed", programme=programme)
    turn.message(
        Address(kind="conversation", conversation=channel),
        say("join.call", programme=programme, cadence=describe_cadence(programme.cadence_days)),
        choices=[
            Choice(label=say("join.as_mentor"), action=JOIN_ACTION, value=f"{programme.id}:mentor", style="primary"),
            Choice(label=say("join.as_mentee"), action=JOIN_ACTION, value=f"{programme.id}:mentee"),
        ],
        programme_id=programme.id,
    )
    turn.reply(say("join.announced", programme=programme, channel=token))


def coordinators_add(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    if not args.words:
        raise CommandError("people.coordinators_usage")
    added = []
    for person in resolve_people(turn, args.words):
        if turn.uow.coordinators.add(programme.id, person.id, added_by=turn.me.id):
            added.append(person.name)
            if person.id != turn.me.id:
                turn.message(
                    Address.person(person.id), say("people.now_coordinator", programme=programme, by=turn.me.name)
                )
    turn.reply(say("people.coordinators_added", programme=programme, added=added, already=len(args.words) - len(added)))


def status(turn: Turn, _args: Args, programme: Programme | None) -> None:
    assert programme is not None
    participants = turn.uow.participants.in_programme(programme.id)
    counts = {
        role.value: {**{state.value: 0 for state in ParticipantStatus}, "intake": 0, "onboarded": 0} for role in Role
    }
    waiting, incomplete, not_onboarded = [], [], []
    for participant in participants:
        role_counts = counts[participant.role.value]
        role_counts[participant.status.value] += 1
        person = turn.uow.people.get(participant.person_id)
        name = person.name if person else "?"
        if participant.status == ParticipantStatus.INVITED:
            waiting.append(name)
        if participant.status != ParticipantStatus.ACTIVE:
            continue
        role_counts["intake"] += bool(participant.intake_completed_at)
        role_counts["onboarded"] += bool(participant.onboarded_at)
        if not participant.intake_completed_at:
            incomplete.append(name)
        elif not participant.onboarded_at:
            not_onboarded.append(name)
    coordinators = [turn.uow.people.get(pid) for pid in turn.uow.coordinators.of_programme(programme.id)]
    at_risk, unmatched = pair_watch(turn, programme, participants)
    from bot.commands.reports import health_text
    from bot.team_rating import agreements

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
            total=len(participants),
            at_risk=at_risk,
            unmatched=unmatched,
            team=agreements(turn.uow, programme),
        )
    )


def pair_watch(turn: Turn, programme: Programme, participants: list[Participant]) -> tuple[list[Any], list[Any]]:
    """For ``status`` (coordinators only): the live pairs at risk, with the kind of risk (never what was
    said), and the people taking part who are in no live pair."""
    people = turn.uow.people.many([p.person_id for p in participants])
    by_id = {p.id: p for p in participants}

    def name(participant_id: int) -> str:
        participant = by_id.get(participant_id)
        person = people.get(participant.person_id) if participant else None
        return person.name if person else "?"

    live = [p for p in turn.uow.matching.pairs(programme.id) if p.status != PairStatus.ENDED]
    at_risk = [
        {"mentor": name(p.mentor_id), "mentee": name(p.mentee_id), "reason": p.risk_reason.split(":")[0]}
        for p in live
        if p.at_risk
    ]
    paired = {p.mentor_id for p in live} | {p.mentee_id for p in live}
    unmatched = [
        {"name": name(p.id), "role": p.role.value}
        for p in participants
        if p.status == ParticipantStatus.ACTIVE and p.id not in paired
    ]
    return at_risk, sorted(unmatched, key=lambda u: (u["role"], u["name"]))


def install(engine: Engine) -> None:
    engine.registry.handles("invite")(invite)
    engine.registry.handles("join")(join)
    engine.registry.handles("program announce")(announce)
    engine.registry.handles("coordinators add")(coordinators_add)
    engine.registry.handles("status")(status)

    @engine.on_action(CONSENT_ACTION)
    def consent(turn: Turn, action: Action) -> None:
        participant = on_consent(turn, action)
        if participant is not None:
            programme = turn.uow.programmes.get(participant.programme_id)
            assert programme is not None
            INTAKE_SERVICE.start(turn, participant, programme)
            INTAKE_SERVICE.schedule_reminder(turn, participant, programme, 1)

    engine.on_action(JOIN_ACTION)(on_join_pick)
    engine.on_due(INVITE_REMINDER)(on_invite_reminder)

    @engine.on_due(IMPORT_INVITE)
    def invite_from_import(turn: Turn, payload: dict[str, Any]) -> None:
        """A participants import named someone without recorded consent: ask them, as an invitation does."""
        participant = turn.uow.participants.get(int(payload.get("participant_id", 0)))
        if participant is None or participant.status != ParticipantStatus.INVITED:
            return
        programme = turn.uow.programmes.get(participant.programme_id)
        if programme is not None and programme.status != ProgrammeStatus.CLOSED:
            send_consent(turn, participant, programme)

    @engine.on_due(IMPORT_ONBOARDING)
    def onboard_from_import(turn: Turn, payload: dict[str, Any]) -> None:
        """Consent was recorded elsewhere: the onboarding still comes before any match."""
        participant = turn.uow.participants.get(int(payload.get("participant_id", 0)))
        if participant is None or participant.status != ParticipantStatus.ACTIVE or participant.onboarded_at:
            return
        programme = turn.uow.programmes.get(participant.programme_id)
        person = turn.uow.people.get(participant.person_id)
        if programme is None or person is None:
            return
        target = turn.as_person(person)
        INTAKE_SERVICE.start_onboarding(target, participant, programme)

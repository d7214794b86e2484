"""Recruitment use cases: who a coordinator names, invitations, volunteering (``join``), the answer to the
consent question, the call for volunteers in a channel, and new coordinators of a programme.

The service works on stored records and returns what happened; the chat's handlers
(:mod:`bot.commands.invitations`) word the replies and the consent question. People and channels arrive
already resolved by the adapter (:attr:`bot.model.InboundEvent.mentions` and ``channels``): the service
reads only neutral words, never a platform's syntax. Refusals raise :class:`~bot.errors.CommandError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self

from bot.commands.registry import find_programme
from bot.domain import NewParticipant, Participant, ParticipantStatus, Person, Programme, ProgrammeStatus, Role
from bot.eligibility import nobody_outside_line, role_problem
from bot.errors import CommandError, Outdated
from bot.values import is_email

if TYPE_CHECKING:
    from bot.ports import (
        CoordinatorRepository,
        ParticipantRepository,
        PeopleRepository,
        ProgrammeRepository,
        ScheduleRepository,
        UnitOfWork,
    )

INVITE_REMINDER = "invite_reminder"
"""The job that asks an invited person again when they have not answered the consent question."""
INVITE_REMINDER_AFTER = timedelta(days=3)
ANSWERS = ("accept", "decline")
"""The answers a consent button carries."""


def reminder_key(participant_id: int) -> str:
    """The schedule key of a participant's invitation reminder."""
    return f"invite-reminder:{participant_id}"


def parse_role(word: str) -> Role:
    """``mentor`` or ``mentee`` (any case, plural allowed); :class:`CommandError` otherwise."""
    try:
        return Role(word.lower().rstrip("s"))
    except ValueError:
        raise CommandError("people.bad_role", given=word) from None


def capacity_for(programme: Programme, role: Role) -> int:
    """How many mentees a new participant takes: the programme's mentor capacity for a mentor, else 1."""
    return programme.settings.mentor_capacity if role == Role.MENTOR else 1


@dataclass
class Invitation:
    """What ``invite`` did: the new participants (to be asked for consent), the people skipped and why
    (``{"name", "why", "role"}``), and those invited whom nobody outside their reporting line could partner."""

    invited: list[tuple[Person, Participant]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    lonely: list[Person] = field(default_factory=list)


ANSWERED_ALREADY = {
    ("accept", ParticipantStatus.ACTIVE): "consent.already_in",
    ("decline", ParticipantStatus.DECLINED): "consent.already_declined",
}
"""The sentence for a consent button pressed once the invitation was answered, when the press says the same
as the answer given; any other press of an answered invitation is told ``consent.answered``."""


@dataclass(frozen=True)
class ConsentAnswer:
    """The answer to a consent question, as recorded just now: ``accepted`` or ``declined``."""

    participant: Participant
    programme: Programme
    outcome: Literal["accepted", "declined"]


@dataclass(frozen=True)
class Volunteering:
    """What ``join`` in a programme leads to.

    ``ask_consent``: ``participant`` is to be asked for consent (new, back after declining, or still invited);
    ``pick_role``: the person is to choose a role; ``ineligible``: ``problem`` (a wording key and its values)
    says why the role is not theirs, and ``other_role`` is the one they could take, if any; ``already``:
    ``participant`` already takes part."""

    kind: Literal["ask_consent", "pick_role", "ineligible", "already"]
    participant: Participant | None = None
    problem: tuple[str, dict[str, Any]] | None = None
    other_role: Role | None = None


@dataclass(frozen=True)
class RecruitmentService:
    """Brings people into programmes: by invitation, as volunteers, and as coordinators."""

    people: PeopleRepository
    programmes: ProgrammeRepository
    participants: ParticipantRepository
    coordinators: CoordinatorRepository
    schedule: ScheduleRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over the repositories of ``uow``."""
        return cls(uow.people, uow.programmes, uow.participants, uow.coordinators, uow.schedule)

    # -- people named in a command --------------------------------------------------------------------

    def named(self, tenant_id: int, platform: str, mentions: Mapping[str, str], words: Sequence[str]) -> list[Person]:
        """The people ``words`` name, each once: a mention the adapter resolved (its word in ``mentions``),
        an email (``amara@example.com`` or ``@amara@example.com``), or ``@`` and the part of someone's email
        before the @ when only one person has it. All of them, or :class:`CommandError` naming the missing (or
        saying that nobody was named, when the words are only commas)."""
        found: list[Person] = []
        missing: list[str] = []
        everyone: list[Person] | None = None
        for word in words:
            word = word.strip().rstrip(",")
            if not word:
                continue
            person = None
            platform_id = mentions.get(word)
            if platform_id:
                person = self.people.by_identity(tenant_id, platform, platform_id)
            elif is_email(word.lstrip("@")):
                person = self.people.by_email(tenant_id, word.lstrip("@"))
            elif word.startswith("@") and len(word) > 1:
                everyone = everyone if everyone is not None else self.people.in_tenant(tenant_id)
                local = word[1:].lower()
                candidates = [p for p in everyone if p.email and p.email.lower().split("@")[0] == local]
                person = candidates[0] if len(candidates) == 1 else None
            if person is None:
                missing.append(word)
            elif person.id not in {p.id for p in found}:
                found.append(person)
        if missing:
            raise CommandError("people.not_found", missing=missing)
        if words and not found:
            raise CommandError("people.none_named")
        return found

    # -- invitations and consent ------------------------------------------------------------------------

    def invite(self, programme: Programme, people: Sequence[Person], role: Role, by: Person) -> Invitation:
        """Invite ``people`` to ``programme`` as ``role``: each becomes an invited participant, unless they
        opted out, already take part (in any state), or are not eligible for the role."""
        if programme.status == ProgrammeStatus.CLOSED:
            raise CommandError("programme.closed", programme=programme)
        result = Invitation()
        for person in people:
            existing = self.participants.find(programme.id, person.id)
            problem = role_problem(self.people, programme, person, role)
            if person.opted_out:
                result.skipped.append({"name": person.name, "why": "opted_out"})
            elif problem is not None and existing is None:
                result.skipped.append({"name": person.name, "why": "seniority", "role": role.value})
            elif existing is not None:
                result.skipped.append({"name": person.name, "why": existing.status.value, "role": existing.role.value})
            else:
                participant = self.participants.add(
                    NewParticipant(
                        programme_id=programme.id,
                        person_id=person.id,
                        role=role,
                        invited_by=by.id,
                        capacity=capacity_for(programme, role),
                    )
                )
                result.invited.append((person, participant))
                if nobody_outside_line(self.people, programme, person, role):
                    result.lonely.append(person)
        return result

    def remind_later(self, tenant_id: int, participant: Participant, now: datetime) -> None:
        """The consent question was just asked: ask again in three days unless it is answered."""
        self.schedule.add(
            tenant_id,
            INVITE_REMINDER,
            now + INVITE_REMINDER_AFTER,
            {"participant_id": participant.id},
            key=reminder_key(participant.id),
        )

    def answer_consent(self, person: Person, participant_id: int, answer: str, now: datetime) -> ConsentAnswer:
        """Record ``person``'s answer (``accept`` or ``decline``) to the consent question of ``participant_id``;
        :class:`CommandError` when that invitation is not theirs, :class:`Outdated` when it was answered already
        (a button of an older copy of the question: whatever it says, it changes nothing)."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.person_id != person.id or answer not in ANSWERS:
            raise CommandError("consent.not_yours")
        programme = self.programmes.get(participant.programme_id)
        if programme is None:
            raise CommandError("consent.not_yours")
        if participant.status != ParticipantStatus.INVITED:
            raise Outdated(
                ANSWERED_ALREADY.get((answer, participant.status), "consent.answered"),
                programme=programme,
                role=participant.role.value,
                status=participant.status.value,
            )
        self.schedule.cancel(reminder_key(participant.id))
        if answer == "accept":
            participant.status, participant.joined_at = ParticipantStatus.ACTIVE, now
            return ConsentAnswer(self.participants.save(participant), programme, "accepted")
        participant.status = ParticipantStatus.DECLINED
        participant = self.participants.save(participant)
        self.schedule.cancel(f"intake-reminder:{participant.id}:")
        return ConsentAnswer(participant, programme, "declined")

    def still_invited(self, participant_id: int) -> tuple[Participant, Programme] | None:
        """The participant and their programme when they have still not answered an invitation to a programme
        that is not closed (a reminder, or an import's invitation, falls due); else None."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.status != ParticipantStatus.INVITED:
            return None
        programme = self.programmes.get(participant.programme_id)
        if programme is None or programme.status == ProgrammeStatus.CLOSED:
            return None
        return participant, programme

    def to_onboard(self, participant_id: int) -> tuple[Participant, Programme, Person] | None:
        """A participant whose consent an import recorded and who is not onboarded yet, with their programme
        and person; None when there is nothing to do."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.status != ParticipantStatus.ACTIVE or participant.onboarded_at:
            return None
        programme = self.programmes.get(participant.programme_id)
        person = self.people.get(participant.person_id)
        if programme is None or person is None:
            return None
        return participant, programme, person

    # -- volunteering -------------------------------------------------------------------------------

    def open_programmes(self, tenant_id: int, wanted: str = "") -> list[Programme]:
        """The programmes open to volunteers (only the one called ``wanted``, if given); never empty."""
        found = [p for p in self.programmes.in_tenant(tenant_id) if p.status == ProgrammeStatus.OPEN]
        if wanted:
            chosen = find_programme(found, wanted)
            if chosen is None:
                raise CommandError("join.unknown_programme", given=wanted, names=[p.name for p in found])
            found = [chosen]
        if not found:
            raise CommandError("join.no_programme")
        return found

    def open_programme(self, tenant_id: int, programme_id: int) -> Programme:
        """The programme a join button names, if it is still open to volunteers in this tenant."""
        programme = self.programmes.get(programme_id)
        if programme is None or programme.tenant_id != tenant_id or programme.status != ProgrammeStatus.OPEN:
            raise CommandError("join.no_programme")
        return programme

    def volunteer(self, programme: Programme, person: Person, role: Role | None) -> Volunteering:
        """``person`` asks to take part in ``programme`` (as ``role``, or not said yet)."""
        existing = self.participants.find(programme.id, person.id)
        if role is None:
            if existing is not None and existing.status == ParticipantStatus.INVITED:
                return Volunteering("ask_consent", existing)  # the consent question, back whenever they ask
            return Volunteering("pick_role")
        problem = role_problem(self.people, programme, person, role)
        if problem is not None and (existing is None or existing.status == ParticipantStatus.DECLINED):
            other = Role.MENTEE if role == Role.MENTOR else Role.MENTOR
            fits = role_problem(self.people, programme, person, other) is None
            return Volunteering("ineligible", problem=problem, other_role=other if fits else None)
        if existing is not None and existing.status == ParticipantStatus.INVITED:
            # Not answered yet: the consent question comes back, in the role they ask for now.
            if problem is None and existing.role != role:
                existing.role, existing.capacity = role, capacity_for(programme, role)
                existing = self.participants.save(existing)
            return Volunteering("ask_consent", existing)
        if existing is not None and existing.status != ParticipantStatus.DECLINED:
            return Volunteering("already", existing)
        if existing is not None:
            existing.role, existing.status = role, ParticipantStatus.INVITED
            return Volunteering("ask_consent", self.participants.save(existing))
        participant = self.participants.add(
            NewParticipant(
                programme_id=programme.id,
                person_id=person.id,
                role=role,
                invited_by=person.id,
                capacity=capacity_for(programme, role),
            )
        )
        return Volunteering("ask_consent", participant)

    # -- the call for volunteers and coordinators ---------------------------------------------------------

    def call_channel(self, programme: Programme, word: str, channels: Mapping[str, str]) -> str:
        """Where ``program announce WORD`` posts the call: the channel the adapter resolved for ``WORD``, or a
        ``#name`` as typed (the platform finds the channel by name). :class:`CommandError` for anything else,
        or when the programme is not open to volunteers."""
        channel = channels.get(word) or (word if word.startswith("#") and len(word) > 1 else "")
        if not channel:
            raise CommandError("join.announce_usage")
        if programme.status != ProgrammeStatus.OPEN:
            raise CommandError("programme.closed", programme=programme)
        return channel

    def add_coordinators(self, programme: Programme, people: Sequence[Person], by: Person) -> list[Person]:
        """Make ``people`` coordinators of ``programme``; returns those who were not already."""
        return [person for person in people if self.coordinators.add(programme.id, person.id, added_by=by.id)]

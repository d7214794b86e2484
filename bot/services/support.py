"""The confidential support path and pauses: what ``support``, ``pause`` and ``pair pause / resume / end``
change (see ``bot.commands.support`` for the conversations).

Nobody in a circle learns who asked for a change, or why: the handlers tell them only that their pairing
paused, resumed or ended, and coordinators are alerted privately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from bot.context import Turn
from bot.domain import PairStatus, ParticipantStatus, Person, Programme
from bot.errors import CommandError, Outdated, required
from bot.ports import (
    MatchingRepository,
    ParticipantRepository,
    PeopleRepository,
    ProgrammeRepository,
    SessionsRepository,
    UnitOfWork,
)
from bot.sessions.circles import Circle, circles_of, circles_of_person
from bot.sessions.model import Resource
from bot.sessions.places import set_circle

CHANGES = ("pause", "rematch", "end")
"""What someone may do to their own pairing through ``support``."""


@dataclass(frozen=True)
class Change:
    """A circle changed, and whose place (a participant id) the change was about."""

    circle: Circle
    who: int


@dataclass
class Pausing:
    """What a pause or a resume of one person's participation changed."""

    changed: int = 0
    """How many of their places changed."""
    waiting: bool = False
    """Some pairing could not resume: the other side paused themselves."""
    circles: list[Change] = field(default_factory=list)
    """The circles that paused or resumed with them, whose other members are told."""
    places: list[int] = field(default_factory=list)
    """Every participant id of the person (to give what was held for them when they resume)."""


@dataclass(frozen=True)
class SupportService:
    """Support requests, pauses and coordinators' pair changes.

    Circles are read through the service itself (it holds the repositories of
    :class:`bot.sessions.circles.CircleRecords`); the methods that change circles take the turn whose messages
    (calendar cancellations, new times) they queue."""

    participants: ParticipantRepository
    programmes: ProgrammeRepository
    people: PeopleRepository
    matching: MatchingRepository
    sessions: SessionsRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over ``uow``'s repositories."""
        return cls(uow.participants, uow.programmes, uow.people, uow.matching, uow.sessions)

    def programmes_of(self, person_id: int, tenant_id: int) -> list[Programme]:
        """Every programme of the tenant the person has a place in (their coordinators are who support reaches)."""
        found = []
        for participant in self.participants.of_person(person_id):
            programme = self.programmes.get(participant.programme_id)
            if programme is not None and programme.tenant_id == tenant_id:
                found.append(programme)
        return found

    def wellbeing(self, person_id: int, tenant_id: int) -> list[Resource]:
        """The wellbeing resources of the person's programmes."""
        programmes = self.programmes_of(person_id, tenant_id)
        return [r for p in programmes for r in self.sessions.resources(p.id) if "wellbeing" in r.tags]

    def circle_to_change(self, person_id: int, tenant_id: int) -> Circle:
        """The circle ``support`` offers to change; refused when the person is in none."""
        circles = circles_of_person(self, person_id, tenant_id)
        if not circles:
            raise CommandError("sessions.no_pair")
        return circles[0]

    def change(self, turn: Turn, person: Person, what: str, circle_key: str) -> Change:
        """``support``: pause, or end (to be rematched, or for good), the person's own place in ``circle_key``."""
        mine = circles_of_person(self, person.id, person.tenant_id)
        circle = next((c for c in mine if c.key == circle_key), None)
        if what not in CHANGES:
            raise CommandError("sessions.not_your_session")
        if circle is None:  # the pairing ended, or the person's place in it, since the menu was sent
            raise Outdated("sessions.not_your_session")
        status = PairStatus.PAUSED if what == "pause" else PairStatus.ENDED
        who = next(m.id for m in circle.members if m.person_id == person.id)
        set_circle(turn, circle, status, reason="support", who=who)
        return Change(circle, who)

    def paused(self, person_id: int) -> bool:
        """Whether every place the person holds is paused; refused when they take part nowhere."""
        mine = [
            p
            for p in self.participants.of_person(person_id)
            if p.status in (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)
        ]
        if not mine:
            raise CommandError("intake.not_participant")
        return all(p.status == ParticipantStatus.PAUSED for p in mine)

    def pause(self, turn: Turn, person_id: int, pausing: bool) -> Pausing:
        """Pause (or resume) every place of the person, and the circles they are in with it; a circle resumes
        only when nobody in it paused themselves. An old button (nothing left to pause, or to resume) is
        :class:`Outdated`: nothing changes."""
        target = ParticipantStatus.PAUSED if pausing else ParticipantStatus.ACTIVE
        source = ParticipantStatus.ACTIVE if pausing else ParticipantStatus.PAUSED
        wanted = PairStatus.PAUSED if pausing else PairStatus.ACTIVE
        places = self.participants.of_person(person_id)
        if not any(p.status == source for p in places):
            if any(p.status == target for p in places):
                raise Outdated("support.pause_outdated", paused=pausing)
            raise CommandError("intake.not_participant")
        result = Pausing()
        for participant in places:
            result.places.append(participant.id)
            if participant.status != source:
                continue
            participant.status = target
            self.participants.save(participant)
            result.changed += 1
            programme = required(self.programmes.get(participant.programme_id), "programme", participant.programme_id)
            for circle in circles_of(self, programme):
                if participant.id not in {m.id for m in circle.members} or circle.pairs[0].status == wanted:
                    continue
                if set_circle(turn, circle, wanted, reason="paused", who=participant.id):
                    result.circles.append(Change(circle, participant.id))
                else:
                    result.waiting = True  # the other side paused themselves: the pair waits for them
        return result

    def pair_change(self, turn: Turn, programme: Programme, person: Person, status: PairStatus) -> Change:
        """A coordinator pauses, resumes or ends the pair (in a group: the place) of ``person``."""
        circle = next((c for c in circles_of(self, programme) if person.id in {m.person_id for m in c.members}), None)
        if circle is None:
            raise CommandError("matching.not_paired", name=person.name, programme=programme)
        if status == PairStatus.ACTIVE and circle.pairs[0].status != PairStatus.PAUSED:
            raise CommandError("support.not_paused", name=person.name)
        who = next(m.id for m in circle.members if m.person_id == person.id)
        if not set_circle(turn, circle, status, reason="coordinator", who=who):
            raise CommandError("support.resume_waits", name=person.name)
        return Change(circle, who)

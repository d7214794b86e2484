"""Circles: who meets. A mentor and one mentee, or in group programmes a mentor and all their mentees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain import MatchPair, PairStatus, Participant, Person, Programme
from bot.errors import required
from bot.ports import MatchingRepository, ParticipantRepository, PeopleRepository, ProgrammeRepository


class CircleRecords(Protocol):
    """Where circles are read from: a unit of work, or a service holding these repositories."""

    @property
    def programmes(self) -> ProgrammeRepository: ...

    @property
    def participants(self) -> ParticipantRepository: ...

    @property
    def matching(self) -> MatchingRepository: ...

    @property
    def people(self) -> PeopleRepository: ...


def circle_key(mentor_id: int, mentee_ids: list[int]) -> str:
    """The key of a circle: the mentor's participant id, then the mentees' (sorted, joined by ``-``)."""
    return f"{mentor_id}:{'-'.join(str(m) for m in sorted(mentee_ids))}"


@dataclass
class Circle:
    """A mentor and the mentees they meet (one, or in group programmes all of them), with their pairs."""

    key: str
    programme: Programme
    mentor: Participant
    mentees: list[Participant]
    people: dict[int, Person]
    """Person id -> person, for everyone in the circle."""
    pairs: list[MatchPair]

    @property
    def members(self) -> list[Participant]:
        return [self.mentor, *self.mentees]

    def person(self, participant: Participant) -> Person:
        return self.people[participant.person_id]

    def side_of(self, person_id: int) -> str:
        return "mentor" if person_id == self.mentor.person_id else "mentee"

    def others(self, person_id: int) -> list[Person]:
        return [self.person(p) for p in self.members if p.person_id != person_id]

    @property
    def anchor_zone(self) -> str:
        """The series keeps the (first) mentee's local time."""
        return self.person(self.mentees[0]).time_zone


def circles_of(uow: CircleRecords, programme: Programme) -> list[Circle]:
    """The programme's circles from its live pairs, active ones first.

    When the programme meets in groups, a mentor's active pairs form one circle and their paused pairs
    another: a mentee who paused has left the group's sessions until they resume."""
    live = [p for p in uow.matching.pairs(programme.id) if p.status != PairStatus.ENDED]
    live.sort(key=lambda p: p.status != PairStatus.ACTIVE)
    groups: dict[tuple[int, int | str], list[MatchPair]] = {}
    for pair in live:
        key = (pair.mentor_id, pair.status.value if programme.settings.group_sessions else pair.mentee_id)
        groups.setdefault(key, []).append(pair)
    return [load_circle(uow, programme, pairs) for pairs in groups.values()]


def load_circle(uow: CircleRecords, programme: Programme, pairs: list[MatchPair]) -> Circle:
    """The circle of ``pairs`` (one mentor's), with its people."""
    mentor = required(uow.participants.get(pairs[0].mentor_id), "participant", pairs[0].mentor_id)
    mentees = [required(uow.participants.get(p.mentee_id), "participant", p.mentee_id) for p in pairs]
    people = uow.people.many([mentor.person_id, *(m.person_id for m in mentees)])
    return Circle(
        key=circle_key(mentor.id, [m.id for m in mentees]),
        programme=programme,
        mentor=mentor,
        mentees=mentees,
        people=people,
        pairs=pairs,
    )


def circle_by_key(uow: CircleRecords, key: str) -> Circle | None:
    """The live circle ``key`` names; None when it no longer exists as named (someone left or it ended)."""
    mentor_text, _, mentees_text = key.partition(":")
    if not mentor_text.isdecimal():
        return None
    mentor = uow.participants.get(int(mentor_text))
    if mentor is None:
        return None
    programme = uow.programmes.get(mentor.programme_id)
    assert programme is not None
    wanted = {int(m) for m in mentees_text.split("-") if m.isdecimal()}
    pairs = [
        p
        for p in uow.matching.pairs(programme.id)
        if p.mentor_id == mentor.id and p.mentee_id in wanted and p.status != PairStatus.ENDED
    ]
    if {p.mentee_id for p in pairs} != wanted:
        return None
    return load_circle(uow, programme, pairs)


def circles_of_person(uow: CircleRecords, person_id: int, tenant_id: int) -> list[Circle]:
    """Every live circle the person belongs to, in the tenant."""
    found = []
    for participant in uow.participants.of_person(person_id):
        programme = uow.programmes.get(participant.programme_id)
        if programme is None or programme.tenant_id != tenant_id:
            continue
        for circle in circles_of(uow, programme):
            if any(member.person_id == person_id for member in circle.members):
                found.append(circle)
    return found


def circle_now(uow: CircleRecords, key: str, person_id: int, tenant_id: int) -> Circle | None:
    """The circle ``key`` names, or, when it has changed since (someone else's place in the group paused or
    ended), the live circle of the same mentor that ``person_id`` is in now; None when they left it."""
    circle = circle_by_key(uow, key)
    if circle is not None:
        return circle
    mentor = key.partition(":")[0]
    return next((c for c in circles_of_person(uow, person_id, tenant_id) if str(c.mentor.id) == mentor), None)

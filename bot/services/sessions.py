"""The sessions' use cases: whose circle and session, what happened, the agenda, goals, resources, times.

Chat handlers (:mod:`bot.commands.sessions`) parse, call :class:`SessionsService` and render its result. The
domain it drives is in :mod:`bot.sessions`: a use case that messages other people (offering times, what
follows an outcome) takes the ``Turn`` as its messaging context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self

from bot.commitment import after_outcome
from bot.context import Turn
from bot.domain import Person, Programme
from bot.errors import CommandError, Outdated
from bot.library import Topic
from bot.ports import (
    CoordinatorRepository,
    MatchingRepository,
    ParticipantRepository,
    PeopleRepository,
    ProgrammeRepository,
    SessionsRepository,
    UnitOfWork,
)
from bot.sessions.agenda import library_for
from bot.sessions.circles import Circle, circle_by_key, circle_now, circles_of_person
from bot.sessions.followup import (
    ACTION_ITEMS_FLOW,
    GOALS_FLOW,
    OUTCOMES,
    carry_on,
    conflicting,
    next_session,
    offer_next,
    pulse,
    resolve,
    tell_conflicts,
    uncertain_side,
)
from bot.sessions.model import NewResource, NewSessionEvent, Resource, Session, SessionStatus, Side
from bot.sessions.scheduling import offer_slots, pick
from bot.sessions.slots import local_moment

_KINDS = {  # an answer: what happened, and whose side it was (mine or the other)
    "held": ("held", "mine"),
    "moved": ("moved", "mine"),
    "cancelled_me": ("cancelled", "mine"),
    "cancelled_them": ("cancelled", "other"),
    "no_show": ("no_show", "other"),
}
_BAD_URL = " ()<>[]\"'`"


@dataclass(frozen=True)
class RecordedOutcome:
    """What one member's answer about a session changed."""

    answer: str
    previous: str | None
    """Their earlier answer, which this one corrects (None for a first answer)."""
    kind: str
    """``held``, ``moved``, ``cancelled`` or ``no_show``."""
    side: str
    """The side it happened by: ``mentor`` or ``mentee``."""
    status_changed: bool
    conflict_began: bool
    """The members disagree on whether it happened, and did not before."""

    @property
    def repeated(self) -> bool:
        """The same answer as before: nothing changed."""
        return self.previous == self.answer


@dataclass(frozen=True)
class SessionsService:
    """The use cases of sessions, on the records of one unit of work."""

    sessions: SessionsRepository
    matching: MatchingRepository
    participants: ParticipantRepository
    programmes: ProgrammeRepository
    people: PeopleRepository
    coordinators: CoordinatorRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service on ``uow``'s repositories."""
        return cls(uow.sessions, uow.matching, uow.participants, uow.programmes, uow.people, uow.coordinators)

    # -- whose circle, which session ------------------------------------------------------------

    def circle_of(self, person_id: int, tenant_id: int) -> Circle:
        """The person's (first) live circle; ``sessions.no_pair`` when they have none."""
        circles = circles_of_person(self, person_id, tenant_id)
        if not circles:
            raise CommandError("sessions.no_pair")
        return circles[0]

    def coming(self, circle: Circle, now: datetime) -> Session:
        """The circle's next session; ``sessions.nothing_scheduled`` when none is ahead."""
        upcoming = next_session(self.sessions, circle, now)
        if upcoming is None:
            raise CommandError("sessions.nothing_scheduled")
        return upcoming

    def member_session(self, session_id: int, person_id: int) -> tuple[Session, Circle]:
        """Session ``session_id`` and its circle, which the person must be in (``sessions.not_your_session``, an
        :class:`Outdated` refusal: the pairing ended, or the person's place in it)."""
        session = self.sessions.get(session_id)
        circle = circle_by_key(self, session.circle) if session else None
        if session is None or circle is None or person_id not in {m.person_id for m in circle.members}:
            raise Outdated("sessions.not_your_session")
        return session, circle

    def member_circle(self, key: str, person_id: int) -> Circle:
        """The circle ``key``, which the person must be in (``sessions.not_your_session``, :class:`Outdated`)."""
        circle = circle_by_key(self, key)
        if circle is None or person_id not in {m.person_id for m in circle.members}:
            raise Outdated("sessions.not_your_session")
        return circle

    def circle_now(self, key: str, person_id: int, tenant_id: int) -> Circle:
        """The circle ``key``, or the one of the same mentor the person is in now (someone else's place in the
        group may have changed since); ``sessions.not_your_session`` when they left it."""
        circle = circle_now(self, key, person_id, tenant_id)
        if circle is None:
            raise CommandError("sessions.not_your_session")
        return circle

    # -- times ----------------------------------------------------------------------------------

    def move(self, turn: Turn, circle: Circle, session: Session) -> bool:
        """The person in ``turn`` asks to move ``session``: the circle is offered other times. False when no
        time fits everyone (they are told, and may propose one)."""
        return offer_slots(turn, circle, session, asked_by=turn.me.id)

    def pick_time(self, turn: Turn, key: str, when: datetime) -> None:
        """The person in ``turn`` accepts ``when`` for circle ``key`` (confirmed once everyone has)."""
        pick(turn, self.member_circle(key, turn.me.id), when)

    def propose_time(self, turn: Turn, key: str, when: datetime) -> None:
        """The person in ``turn`` proposes ``when`` to the circle they are in now (``key`` may have changed
        while they typed)."""
        pick(turn, self.circle_now(key, turn.me.id, turn.tenant.id), when)

    # -- before a session -----------------------------------------------------------------------

    def add_agenda_item(self, session: Session, text: str, by: str) -> Session:
        """A point for the agenda of ``session``, 3 to 300 characters, by the person named ``by``."""
        text = text.strip()
        if not 3 <= len(text) <= 300:
            raise CommandError("sessions.agenda_add_usage")
        session.agenda_items = [*session.agenda_items, {"text": text, "by": by}]
        return self.sessions.save(session)

    def upcoming_session(self, session_id: int, person_id: int, now: datetime) -> tuple[Session, Circle]:
        """Session ``session_id`` of the person, still to come: its topic may change. One that was held, missed,
        called off or has begun is :class:`Outdated` (``sessions.topic_too_late``): an old "suggest another
        topic" changes nothing."""
        session, circle = self.member_session(session_id, person_id)
        if session.status != SessionStatus.SCHEDULED or session.starts_at <= now:
            raise Outdated("sessions.topic_too_late", cancelled=session.status == SessionStatus.CANCELLED)
        return session, circle

    def swap_topic(self, session_id: int, topic_id: str, person_id: int, now: datetime | None = None) -> Topic:
        """The person chooses the topic ``topic_id`` for a session of theirs still to come (at ``now``)."""
        if now is not None:
            session, circle = self.upcoming_session(session_id, person_id, now)
        else:
            session, circle = self.member_session(session_id, person_id)
        library = library_for(circle)
        if topic_id not in library.topics or session.status != SessionStatus.SCHEDULED:
            raise Outdated("sessions.not_your_session")
        session.topic_id = topic_id
        self.sessions.save(session)
        return library.topics[topic_id]

    # -- after a session ------------------------------------------------------------------------

    def record_outcome(
        self, circle: Circle, session: Session, person: Person, answer: str, now: datetime
    ) -> RecordedOutcome:
        """What ``person`` says happened, once the session is over: one answer per person, a later one
        replaces it (recorded as a correction); the session's status follows the rule in ``resolve``."""
        if answer not in OUTCOMES:
            raise CommandError("sessions.not_your_session")
        ends = session.starts_at + timedelta(minutes=session.minutes)
        if now < ends:
            raise CommandError("sessions.outcome_too_early", when=local_moment(ends, person.time_zone))
        if session.status == SessionStatus.CANCELLED and not session.outcome:
            raise Outdated("sessions.outcome_cancelled")
        person_id = person.id
        previous = session.outcome.get(str(person_id))
        my_side = circle.side_of(person_id)
        kind, whose = _KINDS[answer]
        side = my_side if whose == "mine" else "mentee" if my_side == "mentor" else "mentor"
        if previous == answer:
            return RecordedOutcome(answer, previous, kind, side, status_changed=False, conflict_began=False)
        before_status, was_conflict = session.status, conflicting(session.outcome)
        session.outcome = {**session.outcome, str(person_id): answer}
        session.status = resolve([(circle.side_of(int(k)), v) for k, v in session.outcome.items()])
        self.sessions.save(session)
        self.sessions.record(
            NewSessionEvent(
                circle=circle.key,
                programme_id=circle.programme.id,
                session_id=session.id,
                kind=kind,
                side=Side(side),
                person_id=person_id,
                at=now,
                detail={
                    **({"correction": True, "replaces": previous} if previous else {}),
                    **({"first_hand": True} if answer == "cancelled_me" else {}),
                    # a group member's "they cancelled" / "they didn't show up" may mean another member
                    **({"uncertain": True} if uncertain_side(circle, my_side, answer) else {}),
                },
            )
        )
        return RecordedOutcome(
            answer,
            previous,
            kind,
            side,
            status_changed=session.status != before_status,
            conflict_began=not was_conflict and conflicting(session.outcome),
        )

    def follow_outcome(self, turn: Turn, circle: Circle, session: Session, recorded: RecordedOutcome) -> None:
        """What follows a recorded answer of the person in ``turn``: coordinators told of a disagreement, the
        commitment rules, the next session kept, moved or offered, action items, first goals, the pulse."""
        me, kind = turn.me, recorded.kind
        if recorded.conflict_began:
            tell_conflicts(turn, circle)
        if recorded.status_changed or kind == "moved":  # once per session: never a second nudge
            after_outcome(turn, circle, session, kind, recorded.side)
        if kind != "moved" and next_session(self.sessions, circle, turn.now, session) is None:
            carry_on(turn, circle, session)
        context = {"key": f"session-{session.id}", "session_id": session.id, "circle": circle.key}
        if kind == "held" and me.id == circle.mentor.person_id:
            turn.flows.start(turn, ACTION_ITEMS_FLOW, context)
            return
        if kind == "held" and session.sequence == 1 and not any(p.goals for p in circle.pairs):
            goals = {"key": f"goals-{circle.key}", "circle": circle.key, "session_id": session.id}
            turn.flows.start(turn, GOALS_FLOW, goals)
            return
        if kind == "moved":
            session.status = SessionStatus.SCHEDULED
            offer_slots(turn, circle, session, asked_by=me.id)
            return
        offer_next(turn, circle.key, session)
        if kind == "held":
            pulse(turn, circle.key, session.id)

    def save_action_items(self, session_id: int, text: str) -> Session:
        """The action items agreed in a session, one a line (list marks dropped)."""
        session = self.sessions.get(session_id)
        if session is None:
            raise CommandError("sessions.not_your_session")
        session.action_items = [line.strip(" -•*") for line in text.splitlines() if line.strip(" -•*")]
        return self.sessions.save(session)

    # -- goals and resources --------------------------------------------------------------------

    def add_goals(self, circle: Circle, goals: list[str], by: int) -> None:
        """Goals of the circle, set by person ``by`` (kept on each of its pairs)."""
        for pair in circle.pairs:
            pair.goals = [*pair.goals, *({"text": g, "by": by, "done": False} for g in goals)]
            self.matching.save_pair(pair)

    def add_goal(self, circle: Circle, text: str, by: int) -> None:
        """One goal typed in ``goals add``: 10 to 300 characters."""
        text = text.strip()
        if not 10 <= len(text) <= 300:
            raise CommandError("sessions.goals_usage")
        self.add_goals(circle, [text], by)

    def finish_goal(self, circle: Circle, number: int) -> None:
        """Goal ``number`` (from 1, as listed) is done."""
        if not 1 <= number <= len(circle.pairs[0].goals):
            raise CommandError("sessions.goals_usage")
        for pair in circle.pairs:
            pair.goals = [{**g, "done": True} if i == number - 1 else g for i, g in enumerate(pair.goals)]
            self.matching.save_pair(pair)

    def resources_for(self, person_id: int, tag: str | None = None) -> list[Resource]:
        """The resources a person sees (for their role, and all of the programmes they coordinate), by tag."""
        listed: list[Resource] = []
        for participant in self.participants.of_person(person_id):
            for resource in self.sessions.resources(participant.programme_id):
                if resource.role in ("both", participant.role.value) and (tag is None or tag in resource.tags):
                    listed.append(resource)
        for programme_id in self.coordinators.programmes_of(person_id):
            listed += [
                r for r in self.sessions.resources(programme_id) if (tag is None or tag in r.tags) and r not in listed
            ]
        return listed

    def add_resource(
        self, programme: Programme, title: str, url: str, tags: list[str], role: str, added_by: int
    ) -> Resource:
        """A guide or link for the programme's participants (``role``: mentor, mentee or both)."""
        title = title.strip()
        if not title or not url.startswith(("https://", "http://")) or any(c in url for c in _BAD_URL):
            raise CommandError("sessions.resources_usage")
        if role not in ("both", "mentor", "mentee"):
            raise CommandError("people.bad_role", given=role)
        if not 3 <= len(title) <= 200 or len(url) > 1000:
            raise CommandError("sessions.resources_usage")
        return self.sessions.add_resource(
            NewResource(programme_id=programme.id, title=title, url=url, tags=tags, role=role, added_by=added_by)
        )

"""Feedback use cases: pulses after sessions, midpoint and final surveys, check-ins, and the anonymous team
rating (see ``bot.feedback`` and ``bot.team_rating`` for the conversations around them).

Pulse and survey answers reach coordinators only as aggregates; a check-in goes to the coordinators by
name. A mentee's team is asked about them only as the programme and the mentee allow (:func:`may_ask`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Self

from bot.domain import PairStatus, Participant, ParticipantStatus, Person, Programme, ProgrammeStatus, Role
from bot.errors import CommandError, Outdated, required
from bot.ports import (
    CoordinatorRepository,
    FeedbackRepository,
    MatchingRepository,
    ParticipantRepository,
    PeopleRepository,
    ProgrammeRepository,
    ScheduleRepository,
    SessionsRepository,
    UnitOfWork,
)
from bot.reports.releases import schedule_next
from bot.sessions.circles import Circle, circle_by_key, circles_of, circles_of_person
from bot.sessions.model import NewFeedback, Session, SessionStatus

PULSE, SURVEY, CHECKIN, TEAM = "pulse", "survey", "checkin", "team_rating"
"""Feedback kinds, which are also the questionnaires that collect them."""
TEAM_JOB = "team_survey"
PULSE_REMINDER, SURVEY_JOB, CHECKIN_JOB = "pulse_reminder", "programme_survey", "programme_checkin"

NOTICE = "team_rating"
"""``notices[NOTICE]``: ``{"state": told | asked | agreed | declined, "waiting": [phases not yet asked]}``."""
STATES = ("agreed", "declined", "asked")


def closes(programme: Programme) -> datetime | None:
    """Surveys and team ratings close when the programme's term ends (a day after its last day)."""
    return datetime.combine(programme.ends_on + timedelta(days=1), time(0, 0), UTC) if programme.ends_on else None


def may_ask(programme: Programme, state: str | None) -> bool:
    """Whether a mentee's team may be asked: never after a no; with the setting on, only after a yes."""
    if state == "declined":
        return False
    return state == "agreed" or not programme.settings.team_rating_agreement


@dataclass(frozen=True)
class Asked:
    """People a questionnaire falls due for in a programme: each participant with their person."""

    programme: Programme
    people: list[tuple[Participant, Person]]


@dataclass(frozen=True)
class TeamStep:
    """One mentee in a team rating phase: whether they are told first (and asked to agree), and whom of
    their team to ask now."""

    participant: Participant
    mentee: Person
    team_size: int
    tell: bool
    asking: bool
    ask: list[Person] = field(default_factory=list)


@dataclass(frozen=True)
class Agreement:
    """A mentee's yes or no to their team being asked, and the team members to ask now, per phase."""

    programme: Programme
    agreed: bool
    ask: dict[str, list[Person]]


@dataclass(frozen=True)
class FeedbackService:
    """Pulses, surveys, check-ins and the team rating, over the stored feedback (circles are read through the
    service itself: it holds the repositories of :class:`bot.sessions.circles.CircleRecords`)."""

    feedback: FeedbackRepository
    participants: ParticipantRepository
    programmes: ProgrammeRepository
    people: PeopleRepository
    matching: MatchingRepository
    sessions: SessionsRepository
    coordinators: CoordinatorRepository
    schedule: ScheduleRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over ``uow``'s repositories."""
        return cls(
            uow.feedback,
            uow.participants,
            uow.programmes,
            uow.people,
            uow.matching,
            uow.sessions,
            uow.coordinators,
            uow.schedule,
        )

    # -- pulses ---------------------------------------------------------------------------------------

    def pulse_given(self, person_id: int, session_id: int) -> bool:
        """Whether ``person_id`` has given their pulse for the session."""
        return self.feedback.exists(person_id, PULSE, f"session:{session_id}")

    def session_to_rate(self, person_id: int, session_id: int) -> tuple[Circle, Session]:
        """The session and its circle, if ``person_id`` is in it; refused otherwise."""
        session = self.sessions.get(session_id)
        circle = circle_by_key(self, session.circle) if session else None
        if session is None or circle is None or person_id not in {m.person_id for m in circle.members}:
            raise CommandError("sessions.not_your_session")
        return circle, session

    def pulse_owed(self, person_id: int, tenant_id: int) -> tuple[Circle, int]:
        """The latest held session, in one of the person's circles, that they have not rated yet."""
        for circle in circles_of_person(self, person_id, tenant_id):
            held = [s for s in self.sessions.of_circle(circle.key) if s.status == SessionStatus.HELD]
            for session in reversed(held):
                if not self.pulse_given(person_id, session.id):
                    return circle, session.id
        raise CommandError("feedback.nothing_to_rate")

    def reminder_owed(self, person_id: int, session_id: int) -> Session | None:
        """The held session whose pulse ``person_id`` still owes (for its reminder), else None."""
        session = self.sessions.get(session_id)
        if session is None or session.status != SessionStatus.HELD or self.pulse_given(person_id, session.id):
            return None
        return session

    def owed_pulses(self, programme: Programme) -> dict[int, int]:
        """Person id -> their latest held session without a pulse, for each active participant who owes one."""
        active = {
            p.person_id for p in self.participants.in_programme(programme.id) if p.status == ParticipantStatus.ACTIVE
        }
        owed: dict[int, int] = {}
        for circle in circles_of(self, programme):
            held = [s for s in self.sessions.of_circle(circle.key) if s.status == SessionStatus.HELD]
            for session in held:
                for member in circle.members:
                    if member.person_id in active and not self.pulse_given(member.person_id, session.id):
                        owed[member.person_id] = session.id
        return owed

    def record_pulse(self, person_id: int, answers: dict[str, Any], context: dict[str, Any]) -> None:
        """Store a pulse. It belongs to its session: the circle may have changed since (a place ended)."""
        session = required(self.sessions.get(int(context["session_id"])), "session", context["session_id"])
        mentor = self.participants.get(session.mentor_id)
        role = "mentor" if mentor is not None and mentor.person_id == person_id else "mentee"
        self.feedback.add(
            NewFeedback(
                programme_id=session.programme_id,
                person_id=person_id,
                role=role,
                kind=PULSE,
                subject=f"session:{context['session_id']}",
                session_id=context["session_id"],
                answers=answers,
                share_comment=bool(answers.get("share")),
            )
        )

    def schedule_pulse_reminders(self, circle: Circle, session_id: int, now: datetime) -> None:
        """One reminder for each member's unanswered pulse, two days after the follow-up."""
        for member in circle.members:
            self.schedule.add(
                circle.programme.tenant_id,
                PULSE_REMINDER,
                now + timedelta(days=2),
                {"session_id": session_id, "person_id": member.person_id},
                key=f"pulse-reminder:{session_id}:{member.person_id}",
            )

    # -- surveys and check-ins ------------------------------------------------------------------------

    def schedule_programme_rhythm(self, programme: Programme, now: datetime) -> None:
        """Midpoint and final surveys, the team ratings, the figure releases and the first check-in, once per
        programme (idempotent by key)."""
        tenant_id = programme.tenant_id
        if programme.starts_on and programme.ends_on:
            middle = programme.starts_on + (programme.ends_on - programme.starts_on) / 2
            final = programme.ends_on - timedelta(days=3)
            for subject, day in (("midpoint", middle), ("final", final)):
                moment = datetime.combine(day, time(9, 0), UTC)
                if moment > now:
                    self.schedule.add(
                        tenant_id,
                        SURVEY_JOB,
                        moment,
                        {"programme_id": programme.id, "subject": subject},
                        key=f"survey:{programme.id}:{subject}",
                    )
        baseline = {"programme_id": programme.id, "phase": "baseline"}
        self.schedule.add(tenant_id, TEAM_JOB, now, baseline, key=f"team:{programme.id}:baseline")
        if programme.ends_on:
            end = datetime.combine(programme.ends_on - timedelta(days=3), time(9, 0), UTC)
            if end > now:
                phase = {"programme_id": programme.id, "phase": "end"}
                self.schedule.add(tenant_id, TEAM_JOB, end, phase, key=f"team:{programme.id}:end")
        schedule_next(self.schedule, programme, now)  # figures are released at fixed points from now on
        first = now + timedelta(days=programme.settings.checkin_days)
        payload = {"programme_id": programme.id, "number": 1}
        self.schedule.add(tenant_id, CHECKIN_JOB, first, payload, key=f"checkin:{programme.id}:1")

    def taking_part(self, programme: Programme) -> list[Participant]:
        """Active participants who are in a live pair (surveys and check-ins are for people being mentored)."""
        paired = {
            m.id
            for circle in circles_of(self, programme)
            for m in circle.members
            if all(p.status == PairStatus.ACTIVE for p in circle.pairs)
        }
        return [
            p
            for p in self.participants.in_programme(programme.id)
            if p.status == ParticipantStatus.ACTIVE and p.id in paired
        ]

    def _with_people(self, participants: list[Participant]) -> list[tuple[Participant, Person]]:
        people = self.people.many([p.person_id for p in participants])
        return [(p, people[p.person_id]) for p in participants if p.person_id in people]

    def survey_due(self, programme_id: int, subject: str) -> Asked | None:
        """Who the ``subject`` survey (midpoint, final) is for now: those taking part who have not answered."""
        programme = self.programmes.get(programme_id)
        if programme is None:
            return None
        due = [p for p in self.taking_part(programme) if not self.feedback.exists(p.person_id, subject, subject)]
        return Asked(programme, self._with_people(due))

    def checkin_due(self, programme_id: int, number: int, now: datetime) -> Asked | None:
        """Who check-in ``number`` is for, with the next one scheduled; None once the term is over."""
        programme = self.programmes.get(programme_id)
        if programme is None or (programme.ends_on and now.date() > programme.ends_on):
            return None
        following = {"programme_id": programme.id, "number": number + 1}
        self.schedule.add(
            programme.tenant_id,
            CHECKIN_JOB,
            now + timedelta(days=programme.settings.checkin_days),
            following,
            key=f"checkin:{programme.id}:{number + 1}",
        )
        return Asked(programme, self._with_people(self.taking_part(programme)))

    def record_survey(self, person_id: int, answers: dict[str, Any], context: dict[str, Any]) -> None:
        """Store a midpoint or final survey answer."""
        self.feedback.add(
            NewFeedback(
                programme_id=context["programme_id"],
                person_id=person_id,
                role=context["role"],
                kind=context["subject"],
                subject=context["subject"],
                answers=answers,
                share_comment=bool(answers.get("share")),
            )
        )

    def record_checkin(
        self, person_id: int, answers: dict[str, Any], context: dict[str, Any]
    ) -> tuple[Programme, list[int]]:
        """Store a check-in; returns its programme and the coordinators who read it (by name)."""
        programme = required(self.programmes.get(context["programme_id"]), "programme", context["programme_id"])
        self.feedback.add(
            NewFeedback(
                programme_id=programme.id,
                person_id=person_id,
                role=context["role"],
                kind=CHECKIN,
                subject=context["subject"],
                answers=answers,
                share_comment=True,
            )
        )
        return programme, self.coordinators.of_programme(programme.id)

    # -- the team rating ------------------------------------------------------------------------------

    def record_team_rating(self, person_id: int, answers: dict[str, Any], context: dict[str, Any]) -> None:
        """Store one team member's anonymous rating of a mentee."""
        self.feedback.add(
            NewFeedback(
                programme_id=context["programme_id"],
                person_id=person_id,
                role="team",
                kind=f"team_{context['phase']}",
                subject=f"{context['phase']}:{context['mentee']}",
                answers={"rating": answers["rating"]},
            )
        )

    def team_of(self, person_id: int) -> list[Person]:
        """The mentee's direct reports who can be asked (not opted out, still in the organisation)."""
        return [m for m in self.people.reports(person_id) if not m.opted_out and not m.left_at]

    def agreements(self, programme: Programme) -> dict[str, int] | None:
        """For ``status``, with the setting on: how many mentees agreed, said no, or were asked and have not
        answered (a count, never who); None when the programme does not ask for agreement."""
        if not programme.settings.team_rating_agreement:
            return None
        counts = dict.fromkeys(STATES, 0)
        for participant in self.participants.in_programme(programme.id):
            state = (participant.notices.get(NOTICE) or {}).get("state")
            if participant.role == Role.MENTEE and state in counts:
                counts[state] += 1
        return counts if any(counts.values()) else None

    def _unasked(self, mentee: Person, phase: str) -> list[Person]:
        """The mentee's team members who have not rated them in this phase yet."""
        return [
            m
            for m in self.team_of(mentee.id)
            if not self.feedback.exists(m.id, f"team_{phase}", f"{phase}:{mentee.id}")
        ]

    def team_phase(self, programme_id: int, phase: str) -> tuple[Programme, list[TeamStep]] | None:
        """A phase of the team rating falls due: per mentee with a team, whether they are told first (asked to
        agree where the programme wants it) and whom to ask now; where they stand is saved in their notices."""
        programme = self.programmes.get(programme_id)
        if programme is None:
            return None
        steps = []
        for participant in self.taking_part(programme):
            mentee = self.people.get(participant.person_id)
            team = self.team_of(participant.person_id)
            if participant.role != Role.MENTEE or mentee is None or not team:
                continue
            notice = dict(participant.notices.get(NOTICE) or {})
            state = notice.get("state")
            wants_agreement = programme.settings.team_rating_agreement and state in (None, "told")
            tell = state is None or wants_agreement
            if tell:
                state = "asked" if wants_agreement else "told"
            allowed = may_ask(programme, state)
            ask = self._unasked(mentee, phase) if allowed else []
            if not allowed and state != "declined":
                notice["waiting"] = sorted({*notice.get("waiting", []), phase})
            participant.notices = {**participant.notices, NOTICE: {**notice, "state": state}}
            self.participants.save(participant)
            steps.append(TeamStep(participant, mentee, len(team), tell, bool(wants_agreement), ask))
        return programme, steps

    def agree(self, person: Person, participant_id: int, answer: str, today: date) -> Agreement:
        """The mentee's yes or no; a yes asks their team for the phases that waited for it (while the term
        runs). Refused when the question was not theirs, and when it was answered already (an old button:
        :class:`Outdated`, the answer given stands)."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.person_id != person.id or answer not in ("yes", "no"):
            raise CommandError("feedback.team_not_yours")
        programme = required(self.programmes.get(participant.programme_id), "programme", participant.programme_id)
        notice = dict(participant.notices.get(NOTICE) or {})
        if notice.get("state") in ("agreed", "declined"):  # an old button: the answer given stands
            raise Outdated("feedback.team_already", programme=programme, agreed=notice["state"] == "agreed")
        notice["state"] = "agreed" if answer == "yes" else "declined"
        waiting, notice["waiting"] = notice.get("waiting", []), []
        participant.notices = {**participant.notices, NOTICE: notice}
        self.participants.save(participant)
        running = programme.status != ProgrammeStatus.CLOSED and participant.status == ParticipantStatus.ACTIVE
        ask: dict[str, list[Person]] = {}
        if answer == "yes" and running and (programme.ends_on is None or today <= programme.ends_on):
            ask = {phase: self._unasked(person, phase) for phase in waiting}
        return Agreement(programme, answer == "yes", ask)

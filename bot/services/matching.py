"""Matching's use cases: run and keep a matching, pins and forbids, weights and reach, publishing, participant
choice, and rematch (in :mod:`bot.services.rematch`).

The chat verbs (:mod:`bot.commands.matching`, :mod:`bot.commands.rematch`) and ``rmbot match``
(:mod:`adapters.cli.matching`) parse what they were given, call one method here and render what it returns.
Refusals are :class:`~bot.errors.CommandError`; nothing here is worded, and the methods that tell other
people take the turn only to queue those messages (worded by :mod:`bot.matching.notices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Self

from bot.commitment import schedule_gap_check
from bot.context import Turn
from bot.domain import (
    MatchRun,
    NewMatchRule,
    NewMatchRun,
    PairStatus,
    Participant,
    ParticipantStatus,
    Person,
    Programme,
    Role,
)
from bot.errors import CommandError, required
from bot.matching import notices
from bot.matching.load import result_record, stored_pair, topic_labels
from bot.matching.model import (
    DIVERSITY_DIMENSIONS,
    Candidate,
    MatchInput,
    MatchResult,
    Mode,
    Preference,
    Reason,
    Weights,
)
from bot.ports import (
    AuditRepository,
    CoordinatorRepository,
    MatchingRepository,
    ParticipantRepository,
    PeopleRepository,
    ProgrammeRepository,
    UnitOfWork,
)
from bot.services.feedback import FeedbackService
from bot.services.rematch import Rematching
from bot.sessions.circles import circles_of
from bot.sessions.places import join_group
from bot.sessions.scheduling import offer_slots

if TYPE_CHECKING:
    from bot.matching.run import Progress

WEIGHT_NAMES = ("topic", "diversity", "style", "choice")
PREFERENCES: dict[str, Preference] = {"different": "different", "same": "same", "ignore": "ignore"}
SUGGESTED_MENTORS = (3, 5)
"""Participant choice: a mentee is sent at least 3 and at most 5 suggested mentors."""


@dataclass(frozen=True)
class MatchOutcome:
    """A matching run as saved for publishing: its result and the person behind every participant in it."""

    run: MatchRun
    result: MatchResult
    people: dict[int, Person]
    """Participant id -> person, for everyone the run considered."""


@dataclass(frozen=True)
class Published:
    """What publishing a run did: pairs introduced, pairs skipped (already paired), unmatched people told why."""

    introduced: int
    skipped: int
    told: int


@dataclass(frozen=True)
class Suggestion:
    """A ready mentee and the mentors suggested to them, best first, each with the reasons they fit."""

    mentee: Participant
    person: Person
    mentors: list[tuple[Candidate, list[Reason]]]


@dataclass(frozen=True)
class ChoiceRound:
    """The suggestions for every ready mentee with enough mentors who fit; ``missing`` counts the others."""

    suggestions: list[Suggestion]
    missing: int


@dataclass(frozen=True)
class MatchingService(Rematching):
    """The matching of a programme, from the first run to a rematch (its rematch use cases are in
    :class:`~bot.services.rematch.Rematching`)."""

    participants: ParticipantRepository
    people: PeopleRepository
    programmes: ProgrammeRepository
    matching: MatchingRepository
    coordinators: CoordinatorRepository
    audit: AuditRepository

    @classmethod
    def of(cls, uow: UnitOfWork) -> Self:
        """The service over the repositories of ``uow``."""
        return cls(uow.participants, uow.people, uow.programmes, uow.matching, uow.coordinators, uow.audit)

    # -- running ------------------------------------------------------------------------------------

    def run(
        self,
        programme: Programme,
        today: date,
        *,
        by: int | None = None,
        mode: Mode | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
        audit_as: str | None = None,
    ) -> MatchOutcome:
        """Run the matching (in the programme's mode and seed unless given) and save the run for publishing.
        From the command line, ``audit_as`` records the run in the programme's audit log as the operator's (in chat
        the engine records the coordinator's verb)."""
        from bot.matching.run import run_matching  # NumPy (and SciPy): loaded when a matching runs

        data = self.input(programme, today)
        settings = programme.settings
        result = run_matching(
            data,
            mode or settings.match_mode,
            settings.match_seed if seed is None else seed,
            topic_labels(),
            progress=progress,
        )
        run = self.matching.save_run(
            NewMatchRun(
                programme_id=programme.id,
                mode=result.mode,
                seed=result.seed,
                result=result_record(result),
                created_by=by,
            )
        )
        if audit_as is not None:
            self.audit.add(programme.tenant_id, programme.id, None, "match", audit_as)
        candidates = [*data.mentees, *data.mentors]
        people = self.people.many([c.person_id for c in candidates])
        return MatchOutcome(run, result, {c.participant_id: people[c.person_id] for c in candidates})

    def waiting_for_consent(self, programme: Programme) -> list[Person]:
        """People invited to the programme who have not said yes yet (not in any run), by name."""
        invited = [p for p in self.participants.in_programme(programme.id) if p.status == ParticipantStatus.INVITED]
        return sorted(self.people.many([p.person_id for p in invited]).values(), key=lambda p: p.name)

    # -- the coordinator's rules ----------------------------------------------------------------------

    def pair_of(self, programme: Programme, people: Sequence[Person]) -> tuple[Participant, Participant]:
        """Two people of the programme as (mentee, mentor): both taking part, one of each role."""
        found = [self.participants.find(programme.id, p.id) for p in people]
        missing = [
            p.name
            for p, participant in zip(people, found, strict=True)
            if participant is None or participant.status != ParticipantStatus.ACTIVE
        ]
        if missing:
            raise CommandError("matching.not_participants", names=missing, programme=programme)
        a, b = [participant for participant in found if participant is not None]
        if a.role == b.role:
            raise CommandError("matching.same_role", role=a.role.value)
        return (a, b) if a.role == Role.MENTEE else (b, a)

    def pin(
        self, programme: Programme, mentee: Participant, mentor: Participant, by: int, today: date
    ) -> Reason | None:
        """Pair these two in every run. Returns the hard rule a pin would break (and pins nothing), or None."""
        data = self.input(programme, today)
        only = MatchInput(
            mentees=[c for c in data.mentees if c.participant_id == mentee.id],
            mentors=[c for c in data.mentors if c.participant_id == mentor.id],
            managers=data.managers,
            rules=data.rules,
            weights=data.weights,
        )
        if only.mentees and only.mentors:
            from bot.matching.rules import feasibility  # NumPy: loaded when a matching is worked out
            from bot.matching.run import mentee_reason

            only.rules.forbidden.discard((mentee.id, mentor.id))
            blocked = feasibility(only).mentee_blocked_by[0]
            if blocked is not None:
                return mentee_reason(only, blocked, 0)
        self._rule(programme, "pin", mentee, mentor, by)
        return None

    def forbid(self, programme: Programme, mentee: Participant, mentor: Participant, by: int) -> None:
        """Never pair these two in the programme."""
        self._rule(programme, "forbid", mentee, mentor, by)

    def _rule(self, programme: Programme, kind: str, mentee: Participant, mentor: Participant, by: int) -> None:
        self.matching.remove_rules(programme.id, mentee.id, mentor.id)
        self.matching.add_rule(
            NewMatchRule(programme_id=programme.id, kind=kind, mentee_id=mentee.id, mentor_id=mentor.id, created_by=by)
        )

    def weights(self, programme: Programme, changes: Sequence[tuple[str, str]] = ()) -> Weights:
        """The programme's weights after ``changes`` (lower-case name and value pairs), which are saved."""
        current = Weights.from_dict(programme.settings.match_weights)
        if not changes:
            return current
        for name, value in changes:
            if name in WEIGHT_NAMES:
                try:
                    number = float(value)
                except ValueError:
                    raise CommandError("matching.weights_bad_number", given=value) from None
                if not 0 <= number <= 100:
                    raise CommandError("matching.weights_bad_number", given=value)
                setattr(current, name, number)
            elif name in DIVERSITY_DIMENSIONS:
                preference = PREFERENCES.get(value)
                if preference is None:
                    raise CommandError("matching.weights_bad_preference", given=value)
                current.diversity_prefs[name] = preference
            else:
                raise CommandError("matching.weights_bad_name", given=name)
        if current.topic + current.diversity + current.style + current.choice <= 0:
            raise CommandError("matching.weights_all_zero")
        programme.settings = programme.settings.model_copy(update={"match_weights": current.as_dict()})
        self.programmes.save(programme)
        return current

    def set_offline_depth(self, programme: Programme, person_id: int, depth: int | None) -> int:
        """How far below someone the reporting-line rule reaches (None: the programme's setting again);
        returns the reach that now applies to them."""
        overrides = dict(programme.settings.offline_depth_for)
        if depth is None:
            overrides.pop(str(person_id), None)
        else:
            overrides[str(person_id)] = depth
        programme.settings = programme.settings.model_copy(update={"offline_depth_for": overrides})
        self.programmes.save(programme)
        return overrides.get(str(person_id), programme.settings.offline_depth)

    # -- publishing -----------------------------------------------------------------------------------

    def publish(self, turn: Turn, programme: Programme) -> Published:
        """Publish the programme's latest run, unless there is none or it was published already."""
        run = self.matching.latest_run(programme.id)
        if run is None:
            raise CommandError("matching.nothing_to_publish")
        if run.published_at is not None:
            raise CommandError("matching.already_published")
        return self.publish_run(turn, programme, run)

    def publish_saved(self, turn: Turn, programme_id: int, run_id: int, audit_as: str = "") -> Published | None:
        """Publish the run an operator saved (``rmbot match --publish``), if it is still the latest and
        unpublished, recording ``audit_as`` in the audit log as the operator's; None otherwise."""
        run = self.matching.latest_run(programme_id)
        programme = self.programmes.get(programme_id)
        if run is None or run.id != run_id or run.published_at is not None or programme is None:
            return None
        published = self.publish_run(turn, programme, run)
        if audit_as:
            self.audit.add(programme.tenant_id, programme.id, None, "match publish", audit_as)
        return published

    def publish_run(self, turn: Turn, programme: Programme, run: MatchRun) -> Published:
        """Store a run's pairs, introduce each new pair in a group message, tell each unmatched person why,
        and offer the new pairs times. Pairs already stored (a second publish) are neither stored nor
        introduced again."""
        active_mentees = {p.mentee_id for p in self.matching.pairs(programme.id) if p.status != PairStatus.ENDED}
        introduced = skipped = 0
        labels = topic_labels()
        newcomers: set[int] = set()
        for record in run.result["pairs"]:
            pair = (
                None
                if record["mentee"] in active_mentees
                else self.matching.add_pair(stored_pair(programme.id, record))
            )
            if pair is None:
                skipped += 1
                continue
            self.introduce(turn, programme, pair, labels)
            newcomers.add(pair.mentee_id)
            introduced += 1
        told = 0
        for record in run.result["unmatched"]:
            participant = self.participants.get(record["participant"])
            if participant is None or participant.status != ParticipantStatus.ACTIVE:
                continue
            notices.tell_unmatched(turn, programme, participant, record["reason"])
            told += 1
        self.matching.mark_published(run.id)
        for circle in circles_of(turn.uow, programme):
            if join_group(turn, circle, newcomers):  # into a group that already meets
                continue
            if not circle.pairs[0].scheduling and not turn.uow.sessions.of_circle(circle.key):
                offer_slots(turn, circle)
                schedule_gap_check(turn, circle, turn.now)
        if introduced:
            FeedbackService.of(turn.uow).schedule_programme_rhythm(programme, turn.now)
        return Published(introduced, skipped, told)

    # -- participant choice ---------------------------------------------------------------------------

    def choice_round(self, programme: Programme, today: date) -> ChoiceRound:
        """For each ready mentee, 3 to 5 mentors who fit, best first (participant choice must be on)."""
        if not programme.settings.participant_choice:
            raise CommandError("matching.choices_off", programme=programme)
        from bot.matching.rules import feasibility  # NumPy: loaded when a matching is worked out
        from bot.matching.scoring import explain, score

        data = self.input(programme, today)
        allowed, scores = feasibility(data).allowed, score(data).total
        labels = topic_labels()
        fewest, most = SUGGESTED_MENTORS
        suggestions: list[Suggestion] = []
        missing = 0
        for i, mentee in enumerate(data.mentees):
            if not mentee.ready:
                continue
            order = [j for j in scores[i].argsort()[::-1] if allowed[i, j] and data.mentors[j].capacity > 0][:most]
            if len(order) < fewest:
                missing += 1
                continue
            mentors = [(data.mentors[j], explain(data, mentee, data.mentors[j], labels)) for j in order]
            participant = required(self.participants.get(mentee.participant_id), "participant", mentee.participant_id)
            person = required(self.people.get(mentee.person_id), "person", mentee.person_id)
            suggestions.append(Suggestion(participant, person, mentors))
        return ChoiceRound(suggestions, missing)

    def save_choices(self, participant_id: int, ranking: Sequence[int]) -> None:
        """Keep a mentee's ranking of their suggested mentors, best first, for the matching to honour."""
        participant = required(self.participants.get(participant_id), "participant", participant_id)
        participant.intake = {**participant.intake, "mentor_choices": list(ranking)}
        self.participants.save(participant)

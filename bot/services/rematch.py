"""Rematch, a part of :class:`bot.services.matching.MatchingService`: propose a new partner under the same rules,
then confirm it or end the pair; nothing changes until the coordinator decides.

Also what both parts share: the matcher's input, people's names, and introducing a new pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.commitment import schedule_gap_check
from bot.context import Turn
from bot.domain import MatchPair, NewMatchPair, PairStatus, Participant, Person, Programme, Role
from bot.errors import CommandError, Outdated, required
from bot.matching import notices
from bot.matching.load import candidate_of, read_input, topic_labels
from bot.matching.model import MatchInput, Pair, Reason
from bot.ports import (
    AuditRepository,
    CoordinatorRepository,
    MatchingRepository,
    ParticipantRepository,
    PeopleRepository,
    ProgrammeRepository,
)
from bot.sessions.circles import circles_of
from bot.sessions.places import join_group, set_circle
from bot.sessions.scheduling import offer_slots


@dataclass(frozen=True)
class RematchCase:
    """Someone's current pair and what a rematch would give them: a new pair, or the reason nobody fits."""

    participant: Participant
    pair: MatchPair
    partner_id: int
    proposal: Pair | Reason

    @property
    def new_partner(self) -> int | None:
        """The proposed partner's participant id, when someone fits."""
        if isinstance(self.proposal, Reason):
            return None
        return self.proposal.mentor if self.participant.role == Role.MENTEE else self.proposal.mentee


class Rematching:
    """The rematch use cases of the matching service, and what they share with the rest of it."""

    participants: ParticipantRepository
    people: PeopleRepository
    programmes: ProgrammeRepository
    matching: MatchingRepository
    coordinators: CoordinatorRepository
    audit: AuditRepository

    def input(self, programme: Programme, today: date) -> MatchInput:
        """Everyone in the programme who is ready to be considered, with its rules and weights."""
        return read_input(self.participants, self.people, self.matching, programme, today)

    def names(self, participant_ids: Sequence[int]) -> dict[int, str]:
        """Participant id -> the person's name."""
        found = [required(self.participants.get(pid), "participant", pid) for pid in participant_ids]
        people = self.people.many([p.person_id for p in found])
        return {p.id: people[p.person_id].name for p in found}

    def introduce(self, turn: Turn, programme: Programme, pair: MatchPair, labels: dict[str, str]) -> None:
        """Introduce a stored pair to both people, and note when."""
        mentee = required(self.participants.get(pair.mentee_id), "participant", pair.mentee_id)
        mentor = required(self.participants.get(pair.mentor_id), "participant", pair.mentor_id)
        people = self.people.many([mentee.person_id, mentor.person_id])
        notices.introduce(turn, programme, pair, mentee, mentor, people, labels)
        pair.introduced_at = turn.now
        self.matching.save_pair(pair)

    def current_pair(self, programme: Programme, participant: Participant) -> MatchPair | None:
        """The pair someone is in now (active or paused), if any."""
        return next(
            (
                p
                for p in self.matching.pairs(programme.id)
                if p.status != PairStatus.ENDED and participant.id in (p.mentee_id, p.mentor_id)
            ),
            None,
        )

    def rematch_case(self, programme: Programme, person: Person, today: date) -> RematchCase:
        """Someone's current pair and the best new partner for them (or why nobody fits); changes nothing."""
        participant = self.participants.find(programme.id, person.id)
        pair = None if participant is None else self.current_pair(programme, participant)
        if participant is None or pair is None:
            raise CommandError("matching.not_paired", name=person.name, programme=programme)
        partner_id = pair.mentor_id if participant.id == pair.mentee_id else pair.mentee_id
        return RematchCase(participant, pair, partner_id, self.propose(programme, participant, pair, today))

    def propose(self, programme: Programme, participant: Participant, pair: MatchPair, today: date) -> Pair | Reason:
        """The best new partner for ``participant`` under every hard rule, or the precise reason nobody fits."""
        from bot.matching.run import run_matching  # NumPy (and SciPy): loaded when a matching runs

        data = self._input_without(programme, participant, pair, today)
        settings = programme.settings
        result = run_matching(data, settings.match_mode, settings.match_seed, topic_labels())
        mine = next((p for p in result.pairs if participant.id in (p.mentee, p.mentor)), None)
        if mine is not None:
            return mine
        missing = next((u for u in result.unmatched if u.participant_id == participant.id), None)
        return missing.reason if missing else Reason("matching.unmatched_capacity")

    def _input_without(
        self, programme: Programme, participant: Participant, pair: MatchPair, today: date
    ) -> MatchInput:
        """The programme's matching input for ``participant`` alone, as if ``pair`` had ended (and may not recur)."""
        data = self.input(programme, today)
        data.rules.forbidden.add((pair.mentee_id, pair.mentor_id))
        data.rules.pins = [pin for pin in data.rules.pins if participant.id in pin]
        if participant.role == Role.MENTEE:
            data.mentees = [candidate_of(self.people, programme, participant)]
        else:
            held = sum(
                1
                for p in self.matching.pairs(programme.id)
                if p.status != PairStatus.ENDED and p.mentor_id == participant.id and p.id != pair.id
            )
            data.mentors = [candidate_of(self.people, programme, participant, max(0, participant.capacity - held))]
        return data

    def decided_pair(self, programme_id: int, pair_id: int, tenant_id: int, by: int) -> tuple[Programme, MatchPair]:
        """The still-current pair a rematch decision names, in a programme of the tenant that ``by`` coordinates."""
        programme = self.programmes.get(programme_id)
        if (
            programme is None
            or programme.tenant_id != tenant_id
            or by not in self.coordinators.of_programme(programme.id)
        ):
            raise CommandError("matching.rematch_not_yours")
        pair = next((p for p in self.matching.pairs(programme.id) if p.id == pair_id), None)
        if pair is None:
            raise CommandError("matching.rematch_not_yours")
        if pair.status == PairStatus.ENDED:
            raise Outdated("matching.rematch_already_decided")
        return programme, pair

    def confirm_rematch(
        self, turn: Turn, programme: Programme, pair: MatchPair, participant_id: int, partner_id: int
    ) -> tuple[str, str]:
        """End the old pair, store and introduce the new one (if it is still the proposal) and offer it times.
        Returns the names of the participant and their new partner."""
        participant = self.participants.get(participant_id)
        if participant is None or participant.id not in (pair.mentee_id, pair.mentor_id):
            raise CommandError("matching.rematch_not_yours")
        fresh = self.propose(programme, participant, pair, turn.now.date())  # the programme may have changed
        if isinstance(fresh, Reason):
            raise Outdated("matching.rematch_stale")
        chosen = fresh.mentor if participant.role == Role.MENTEE else fresh.mentee
        if chosen != partner_id:
            raise Outdated("matching.rematch_stale")
        self._end(turn, programme, pair, replaced=participant.id)
        stored = self.matching.add_pair(
            NewMatchPair(
                programme_id=programme.id,
                mentee_id=fresh.mentee,
                mentor_id=fresh.mentor,
                score=fresh.score,
                reasons=[{"key": r.key, "values": r.values} for r in fresh.reasons],
            )
        )
        if stored is None:
            raise Outdated("matching.rematch_stale")
        self.introduce(turn, programme, stored, topic_labels())
        for circle in circles_of(turn.uow, programme):
            if stored.id not in {p.id for p in circle.pairs} or join_group(turn, circle, {stored.mentee_id}):
                continue  # not theirs, or a group that already meets took the newcomer in
            if not circle.pairs[0].scheduling:
                offer_slots(turn, circle)
                schedule_gap_check(turn, circle, turn.now)
        names = self.names([participant.id, chosen])
        self.audit.add(
            turn.tenant.id,
            programme.id,
            turn.me.id,
            "rematch",
            f"confirmed: {names[participant.id]} with {names[chosen]}",
        )
        return names[participant.id], names[chosen]

    def end_pair(self, turn: Turn, programme: Programme, pair: MatchPair) -> None:
        """End the pair although nobody new fits; both are told kindly."""
        self._end(turn, programme, pair, replaced=None)
        self.audit.add(turn.tenant.id, programme.id, turn.me.id, "rematch", "ended without a new partner")

    def _end(self, turn: Turn, programme: Programme, pair: MatchPair, replaced: int | None) -> None:
        """End a pair and tell both people; ``replaced`` is the participant who got a new partner, if any.

        In a group only that mentee's place ends: the group's sessions go on for the others. Someone who
        paused hears of it when they resume."""
        for circle in circles_of(turn.uow, programme):
            if pair.id in {p.id for p in circle.pairs}:
                set_circle(turn, circle, PairStatus.ENDED, "rematch", who=pair.mentee_id)
        ended = next((p for p in self.matching.pairs(programme.id) if p.id == pair.id), pair)
        ended.status, ended.ended_at, ended.end_reason = PairStatus.ENDED, turn.now, "rematch"
        self.matching.save_pair(ended)
        notices.tell_pair_ended(turn, programme, pair, self.names([pair.mentee_id, pair.mentor_id]), replaced)

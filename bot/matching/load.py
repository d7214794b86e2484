"""Reading a programme into the matcher's input, and its result back into words."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.domain import NewMatchPair, PairStatus, Participant, Programme, Role
from bot.intake_flow import topic_tags
from bot.matching.collector import collector_paused
from bot.matching.model import STYLE_KEYS, Candidate, MatchInput, MatchResult, Reason, Rules, Weights
from bot.ports import MatchingRepository, ParticipantRepository, PeopleRepository, UnitOfWork
from bot.ports.match_facts import MatchFacts
from bot.wording import say

UNDISCLOSED = {None, "", "prefer_not", "self_describe"}


def topic_labels() -> dict[str, str]:
    return {tag["value"]: tag["label"] for tag in topic_tags()}


def self_identified_gender(intake: dict[str, Any], directory_gender: str | None) -> str | None:
    """The gender matching may use: the person's own intake answer always wins. Someone who was shown the
    optional questions and declined them, skipped the question or chose "prefer not to say" has none, whatever
    the HR directory holds; their own words when they described it. Only someone never asked (imported with
    their answers from elsewhere) falls back on the directory's ``directory_gender``."""
    if "diversity_ok" not in intake and "gender" not in intake:
        return directory_gender
    answer = intake.get("gender")
    if answer == "self_describe":
        return str(intake.get("gender_words") or "").strip() or None
    return None if answer in UNDISCLOSED else str(answer)


def _candidate(facts: MatchFacts, capacity: int, offline_depth: int = 0) -> Candidate:
    intake = facts.intake or {}
    topics = intake.get("teach_topics" if facts.role == Role.MENTOR else "learn_topics") or []
    generation = intake.get("generation") if intake.get("generation") not in UNDISCLOSED else None
    return Candidate(
        participant_id=facts.participant_id,
        person_id=facts.person_id,
        name=facts.name,
        seniority=facts.seniority,
        time_zone=facts.time_zone,
        working_hours=facts.working_hours,
        department=facts.department,
        division=facts.division,
        location=facts.location,
        gender=self_identified_gender(intake, facts.gender),
        generation=generation,
        topics=frozenset(topics),
        style={k: intake[k] for k in STYLE_KEYS if intake.get(k)},
        capacity=capacity,
        rankings=tuple(intake.get("mentor_choices") or ()),
        ready=facts.intake_done and facts.onboarded,
        waiting_for="onboarding" if facts.intake_done else "intake",
        offline_depth=offline_depth,
    )


def offline_depth(programme: Programme, person_id: int) -> int:
    """How far below ``person_id`` the reporting-line rule reaches in ``programme`` (0: the whole subtree)."""
    settings = programme.settings
    return settings.offline_depth_for.get(str(person_id), settings.offline_depth)


def candidate_of(
    people: PeopleRepository, programme: Programme, participant: Participant, capacity: int = 1
) -> Candidate:
    """One participant as the matcher sees them, whatever their pairs (for a rematch)."""
    person = people.get(participant.person_id)
    if person is None:
        raise LookupError(f"person {participant.person_id} does not exist")
    facts = MatchFacts(
        participant_id=participant.id,
        person_id=person.id,
        role=participant.role,
        capacity=participant.capacity,
        intake=participant.intake,
        intake_done=participant.intake_completed_at is not None,
        onboarded=participant.onboarded_at is not None,
        name=person.name,
        seniority=person.seniority,
        time_zone=person.time_zone,
        working_hours=person.working_hours,
        department=person.department,
        division=person.division,
        location=person.location,
        gender=person.gender,
    )
    return _candidate(facts, capacity, offline_depth(programme, participant.person_id))


def load_input(uow: UnitOfWork, programme: Programme, today: date) -> MatchInput:
    """Everyone in the programme who is active and not yet paired, with the programme's rules and weights."""
    return read_input(uow.participants, uow.people, uow.matching, programme, today)


def read_input(
    participants_of: ParticipantRepository,
    people_of: PeopleRepository,
    matching: MatchingRepository,
    programme: Programme,
    today: date,
) -> MatchInput:
    """:func:`load_input` from the three repositories it reads (only the columns matching compares)."""
    with collector_paused():
        return _read_input(participants_of, people_of, matching, programme, today)


def _read_input(
    participants_of: ParticipantRepository,
    people_of: PeopleRepository,
    matching: MatchingRepository,
    programme: Programme,
    today: date,
) -> MatchInput:
    participants = participants_of.match_facts(programme.id)
    pairs = matching.pairs(programme.id)
    live = [p for p in pairs if p.status != PairStatus.ENDED]
    paired_mentees = {p.mentee_id for p in live}
    load: dict[int, int] = {}
    for pair in live:
        load[pair.mentor_id] = load.get(pair.mentor_id, 0) + 1
    settings = programme.settings
    depth_for, depth = settings.offline_depth_for, settings.offline_depth
    mentees = [
        _candidate(p, 1, depth_for.get(str(p.person_id), depth) if depth_for else depth)
        for p in participants
        if p.role == Role.MENTEE and p.participant_id not in paired_mentees
    ]
    mentors = [
        _candidate(
            p,
            max(0, p.capacity - load.get(p.participant_id, 0)),
            depth_for.get(str(p.person_id), depth) if depth_for else depth,
        )
        for p in participants
        if p.role == Role.MENTOR
    ]
    rules = Rules(
        seniority_gap=settings.seniority_gap,
        allow_peer=settings.allow_peer,
        no_shared_manager=settings.no_shared_manager,
        min_overlap_minutes=settings.min_overlap_minutes,
        reference_date=programme.starts_on if programme.starts_on and programme.starts_on > today else today,
        allow_repeat=settings.allow_repeat_pairs,
        previous=matching.previous_pairs(programme.tenant_id, programme.id),
    )
    for rule in matching.rules(programme.id):
        if rule.kind == "forbid":
            rules.forbidden.add((rule.mentee_id, rule.mentor_id))
        else:
            rules.pins.append((rule.mentee_id, rule.mentor_id))
    rules.forbidden |= {(p.mentee_id, p.mentor_id) for p in pairs if p.status == PairStatus.ENDED}
    return MatchInput(
        mentees=mentees,
        mentors=mentors,
        managers=people_of.managers(programme.tenant_id),
        rules=rules,
        weights=Weights.from_dict(settings.match_weights),
        uses_choice=settings.participant_choice,
    )


def reason_text(reasons: list[Reason] | list[dict[str, Any]]) -> str:
    """The plain-language explanation of a pair."""
    parts = []
    for reason in reasons:
        key, values = (reason.key, reason.values) if isinstance(reason, Reason) else (reason["key"], reason["values"])
        parts.append(say(key, **values))
    return say("matching.reasons", parts=parts)


def result_record(result: MatchResult) -> dict[str, Any]:
    """A result as stored with its run (JSON)."""
    return {
        "mode": result.mode,
        "seed": result.seed,
        "average": round(result.average_score, 2),
        "pairs": [
            {
                "mentee": p.mentee,
                "mentor": p.mentor,
                "score": p.score,
                "pinned": p.pinned,
                "reasons": [{"key": r.key, "values": r.values} for r in p.reasons],
            }
            for p in result.pairs
        ],
        "unmatched": [
            {
                "participant": u.participant_id,
                "role": u.role,
                "reason": {"key": u.reason.key, "values": u.reason.values},
            }
            for u in result.unmatched
        ],
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
    }


def stored_pair(programme_id: int, pair: dict[str, Any]) -> NewMatchPair:
    """A pair of a stored run, ready to be stored as published."""
    return NewMatchPair(
        programme_id=programme_id,
        mentee_id=pair["mentee"],
        mentor_id=pair["mentor"],
        score=pair["score"],
        reasons=pair["reasons"],
    )

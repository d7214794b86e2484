"""Matching: the reason given to unmatched people, the store round trip, and regressions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.commands.programmes import new_programme
from bot.directory import DirectoryRow
from bot.domain import (
    NewMatchPair,
    NewMatchRule,
    NewParticipant,
    PairStatus,
    ParticipantStatus,
    Programme,
    ProgrammeSettings,
    Role,
)
from bot.matching.load import load_input, reason_text
from bot.matching.model import Candidate, MatchInput, Rules, Weights
from bot.matching.run import run_matching
from bot.matching.scoring import score
from bot.participants_import import ParticipantRow as ImportRow
from bot.wording import say
from directory_support import directory_emails, import_directory, import_participants
from matching_support import (
    DATES,
    FAST,
    MODES,
    Org,
    achieved,
    assert_hard_rules,
    broken_rules,
    chain_above,
    descendants,
    instances,
    orgs,
    overlap,
)
from storage.store import SqlStore

# ----------------------------------------------------------------------------------------------------
# Targeted reasons
# ----------------------------------------------------------------------------------------------------


@FAST
@given(org=orgs(min_people=4, max_people=14), data=st.data())
def test_a_mentee_whose_every_possible_mentor_is_in_their_reporting_line_is_told_so(
    org: Org, data: st.DataObject
) -> None:
    heads = [p for p in org.people if descendants(org, p)]
    assume(heads)
    head = data.draw(st.sampled_from(heads))
    line = descendants(org, head)
    if data.draw(st.booleans()):
        line += chain_above(head, org.managers)  # their own managers are in the line too
    chosen = data.draw(st.lists(st.sampled_from(line), min_size=1, max_size=4, unique=True))
    mentee = Candidate(participant_id=1, person_id=head, name="Head", seniority=9, time_zone="Europe/London")
    mentors = [
        Candidate(
            participant_id=10 + k,
            person_id=p,
            name=f"M{k}",
            seniority=1,
            time_zone="Europe/London",
            capacity=data.draw(st.integers(1, 3)),
        )
        for k, p in enumerate(chosen)
    ]
    rules = Rules(
        seniority_gap=data.draw(st.integers(0, 2)),
        no_shared_manager=data.draw(st.booleans()),
        min_overlap_minutes=60,
        reference_date=data.draw(st.sampled_from(DATES)),
    )
    match = MatchInput(mentees=[mentee], mentors=mentors, managers=org.managers, rules=rules)
    for mode in MODES:
        result = run_matching(match, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == []
        reasons = {u.participant_id: u.reason.key for u in result.unmatched}
        assert reasons[1] == "matching.unmatched_offline"
        assert "reporting line" in say(reasons[1])


def test_a_senior_manager_is_never_paired_below_one_of_their_direct_reports() -> None:
    # 1 -> 2 -> 3 -> ... -> 14: a chain; 1 is the mentee, everyone below is junior and otherwise perfect.
    managers: dict[int, int | None] = {1: None, **{k: k - 1 for k in range(2, 15)}, 99: None}
    mentee = Candidate(participant_id=1, person_id=1, name="CEO", seniority=9, topics=frozenset({"ai_tools"}))
    mentors = [
        Candidate(participant_id=100 + k, person_id=k, name=f"M{k}", seniority=1, topics=frozenset({"ai_tools"}))
        for k in range(3, 15)
    ]
    outsider = Candidate(participant_id=999, person_id=99, name="Out", seniority=8)  # poor score, but off-line
    data = MatchInput(
        mentees=[mentee],
        mentors=[*mentors, outsider],
        managers=managers,
        rules=Rules(reference_date=DATES[0]),
        weights=Weights(topic=100, diversity=0, style=0),
    )
    for mode in MODES:
        result = run_matching(data, mode, 3)  # type: ignore[arg-type]
        assert [(p.mentee, p.mentor) for p in result.pairs] == [(1, 999)]


TIME_CASES = [
    # (reference date, mentee zone, mentee hours, mentor zone, mentor hours, min overlap)
    (date(2025, 1, 15), "Australia/Sydney", "09:00-11:00", "Europe/London", "09:00-17:00", 30),
    (date(2025, 7, 1), "Asia/Kolkata", "09:00-13:00", "America/Los_Angeles", "09:00-17:00", 30),
    # New York is on daylight time from 9 March, London only from 30 March: no overlap in January ...
    (date(2025, 1, 15), "Europe/London", "09:00-17:00", "America/New_York", "12:00-16:00", 60),
    # ... and only half an hour in late October, when London is back on GMT and New York not yet.
    (date(2025, 10, 29), "Europe/London", "09:00-16:30", "America/New_York", "12:00-16:00", 60),
    (date(2025, 12, 1), "Australia/Sydney", "08:00-12:00", "America/Los_Angeles", "16:00-17:30", 61),  # 60 min
]


@pytest.mark.parametrize("day, zone_e, hours_e, zone_o, hours_o, minimum", TIME_CASES)
def test_a_mentee_without_overlapping_hours_is_told_so(
    day: date, zone_e: str, hours_e: str, zone_o: str, hours_o: str, minimum: int
) -> None:
    mentee = Candidate(participant_id=1, person_id=1, name="E", seniority=8, time_zone=zone_e, working_hours=hours_e)
    mentors = [
        Candidate(
            participant_id=10 + k, person_id=10 + k, name="O", seniority=2, time_zone=zone_o, working_hours=hours_o
        )
        for k in range(3)
    ]
    assert all(overlap(mentee, o, day) < minimum for o in mentors)  # our own clock agrees
    data = MatchInput(
        mentees=[mentee],
        mentors=mentors,
        managers={1: None, 10: None, 11: None, 12: None},
        rules=Rules(min_overlap_minutes=minimum, reference_date=day),
    )
    for mode in MODES:
        result = run_matching(data, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == []
        assert {u.participant_id: u.reason.key for u in result.unmatched}[1] == "matching.unmatched_time"


def test_the_same_hours_overlap_when_daylight_saving_brings_the_zones_closer() -> None:
    # 2025-03-20: New York on EDT (UTC-4), London still on GMT: 12:00-16:00 New York is 16:00-20:00 UTC.
    mentee = Candidate(
        participant_id=1, person_id=1, name="E", seniority=8, time_zone="Europe/London", working_hours="09:00-17:00"
    )
    mentor = Candidate(
        participant_id=2, person_id=2, name="O", seniority=2, time_zone="America/New_York", working_hours="12:00-16:00"
    )
    assert overlap(mentee, mentor, date(2025, 3, 20)) == 60
    data = MatchInput(
        mentees=[mentee],
        mentors=[mentor],
        managers={1: None, 2: None},
        rules=Rules(min_overlap_minutes=60, reference_date=date(2025, 3, 20)),
    )
    assert [(p.mentee, p.mentor) for p in run_matching(data).pairs] == [(1, 2)]
    data.rules = replace(data.rules, reference_date=date(2025, 1, 15))
    assert run_matching(data).pairs == []


@FAST
@given(data=instances(), pick=st.data())
def test_an_unfinished_intake_is_the_reason_given(data: MatchInput, pick: st.DataObject) -> None:
    assume(data.mentees and data.mentors)
    lazy_e = pick.draw(st.sets(st.sampled_from(range(len(data.mentees))), min_size=1))
    lazy_o = pick.draw(st.sets(st.sampled_from(range(len(data.mentors)))))
    for i in lazy_e:
        data.mentees[i].ready = False
    for j in lazy_o:
        data.mentors[j].ready = False
    for mode in MODES:
        result = run_matching(data, mode, 5)  # type: ignore[arg-type]
        reasons = {(u.role, u.participant_id): u.reason.key for u in result.unmatched}
        for i in lazy_e:
            expected = f"matching.unmatched_{data.mentees[i].waiting_for}"  # intake, or onboarding after it
            assert reasons[("mentee", data.mentees[i].participant_id)] == expected
        for j in lazy_o:
            expected = f"matching.unmatched_{data.mentors[j].waiting_for}"
            assert reasons[("mentor", data.mentors[j].participant_id)] == expected
        assert say("matching.unmatched_intake") == "intake not finished"
        assert say("matching.unmatched_onboarding") == "intake done, onboarding not finished"


# ----------------------------------------------------------------------------------------------------
# Through the store: load_input reads back what was written, and the result still keeps every rule
# ----------------------------------------------------------------------------------------------------

TENANTS = itertools.count(1)


def write_programme(store: SqlStore, data: MatchInput) -> tuple[Programme, dict[int, int], dict[int, int]]:
    """Write ``data`` as a tenant's directory, an earlier cohort, a programme, participants, pins and forbids.

    Returns the programme and maps from the store's person and participant ids back to ``data``'s."""
    email = lambda person: f"p{person}@example.com"  # noqa: E731
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", f"t{next(TENANTS)}").id
    people = {c.person_id: c for c in (*data.mentees, *data.mentors)}

    def row(person: int, boss: int | None) -> DirectoryRow:
        c = people.get(person) or Candidate(participant_id=0, person_id=person, name="", seniority=5)
        return DirectoryRow(
            email=email(person),
            name=f"P{person}",
            seniority=c.seniority or 1,
            department=c.department,
            division=c.division,
            location=c.location,
            time_zone=c.time_zone,
            working_hours=c.working_hours,
            gender=c.gender,
            manager_email=email(boss) if boss is not None else None,
        )

    import_directory(store, tenant, [row(p, boss) for p, boss in data.managers.items()])
    rules = data.rules
    settings_ = ProgrammeSettings(
        seniority_gap=rules.seniority_gap,
        allow_peer=rules.allow_peer,
        no_shared_manager=rules.no_shared_manager,
        min_overlap_minutes=rules.min_overlap_minutes,
        participant_choice=data.uses_choice,
        allow_repeat_pairs=rules.allow_repeat,
        match_weights=data.weights.as_dict(),
        offline_depth_for={
            str(stored[email(c.person_id)]): c.offline_depth
            for stored in [directory_emails(store, tenant)]
            for c in (*data.mentees, *data.mentors)
            if c.offline_depth
        },
    )
    assert rules.reference_date is not None
    with store.unit_of_work() as uow:
        earlier = new_programme(uow, tenant, "Earlier cohort", settings=settings_)
        programme = new_programme(
            uow,
            tenant,
            "This cohort",
            settings=settings_,
            starts_on=rules.reference_date,
            ends_on=rules.reference_date + timedelta(days=90),
        )
    directory = directory_emails(store, tenant)
    rows = [
        ImportRow(
            consented_at=now,
            onboarded_at=now,
            line=2 + k,
            email=email(c.person_id),
            role="mentee",
            topics=tuple(sorted(c.topics)),
            rankings=tuple(email(people_of[r]) for r in c.rankings),
        )
        for people_of in [{o.participant_id: o.person_id for o in data.mentors}]
        for k, c in enumerate(data.mentees)
    ]
    rows += [
        ImportRow(
            line=100 + k,
            email=email(c.person_id),
            role="mentor",
            capacity=c.capacity,
            topics=tuple(sorted(c.topics)),
            consented_at=now,
            onboarded_at=now,
        )
        for k, c in enumerate(data.mentors)
    ]
    import_participants(store, programme.id, rows, now)
    person_back = {directory[email(p)]: p for p in data.managers}
    with store.unit_of_work() as uow:
        assert programme.id is not None and earlier.id is not None
        participants = {person_back[p.person_id]: p for p in uow.participants.in_programme(programme.id)}
        for c in (*data.mentees, *data.mentors):
            participant = participants[c.person_id]
            participant.intake = {
                **participant.intake,
                **c.style,
                **({"generation": c.generation} if c.generation else {}),
            }
            participant.intake_completed_at = now if c.ready or c.waiting_for == "onboarding" else None
            participant.onboarded_at = now if c.ready else None
            uow.participants.save(participant)
        by_pid = {c.participant_id: participants[c.person_id].id for c in (*data.mentees, *data.mentors)}
        for kind, pairs in (("forbid", sorted(rules.forbidden)), ("pin", rules.pins)):
            for mentee, mentor in pairs:
                uow.matching.add_rule(
                    NewMatchRule(
                        programme_id=programme.id, kind=kind, mentee_id=by_pid[mentee], mentor_id=by_pid[mentor]
                    )
                )
        old: dict[int, int] = {}
        for pair in sorted(sorted(p) for p in rules.previous):
            for person in pair:
                if person not in old:
                    old[person] = uow.participants.add(
                        NewParticipant(
                            programme_id=earlier.id,
                            person_id=directory[email(person)],
                            role=Role.MENTEE,
                            status=ParticipantStatus.ACTIVE,
                        )
                    ).id
            uow.matching.add_pair(
                NewMatchPair(
                    programme_id=earlier.id, mentee_id=old[pair[0]], mentor_id=old[pair[1]], status=PairStatus.ENDED
                )
            )
    participant_back = {v: k for k, v in by_pid.items()}
    return programme, person_back, participant_back


@settings(
    deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=instances(with_pins=True))
def test_load_input_reads_back_the_programme_and_every_rule_still_holds(store: SqlStore, data: MatchInput) -> None:
    assume({c.person_id for c in data.mentees}.isdisjoint({c.person_id for c in data.mentors}))
    programme, person_back, participant_back = write_programme(store, data)
    with store.unit_of_work() as uow:
        # The programme starts on the reference date, after "today": its start date is the one compared.
        loaded = load_input(uow, programme, data.rules.reference_date - timedelta(days=10))  # type: ignore[operator]

    def original(c: Candidate) -> tuple:
        return (
            c.participant_id,
            c.person_id,
            c.seniority,
            c.time_zone,
            c.working_hours,
            c.department,
            c.division,
            c.location,
            c.gender,
            c.generation,
            c.topics,
            c.style,
            c.capacity,
            c.rankings,
            c.ready,
            c.offline_depth,
        )

    def mapped(c: Candidate) -> tuple:
        return (
            participant_back[c.participant_id],
            person_back[c.person_id],
            c.seniority,
            c.time_zone,
            c.working_hours,
            c.department,
            c.division,
            c.location,
            c.gender,
            c.generation,
            c.topics,
            c.style,
            c.capacity,
            tuple(participant_back[r] for r in c.rankings),
            c.ready,
            c.offline_depth,
        )

    assert sorted(map(mapped, loaded.mentees)) == sorted(map(original, data.mentees))
    assert sorted(map(mapped, loaded.mentors)) == sorted(map(original, data.mentors))
    assert {person_back[p]: person_back.get(b) for p, b in loaded.managers.items()} == data.managers
    assert loaded.rules.reference_date == data.rules.reference_date
    assert {(participant_back[e], participant_back[o]) for e, o in loaded.rules.forbidden} == data.rules.forbidden
    assert [(participant_back[e], participant_back[o]) for e, o in loaded.rules.pins] == list(
        dict.fromkeys(data.rules.pins)
    )
    assert {frozenset(person_back[p] for p in pair) for pair in loaded.rules.previous} == data.rules.previous
    assert loaded.weights.as_dict() == data.weights.as_dict() and loaded.uses_choice == data.uses_choice
    matrix = score(data).total
    for mode in MODES:
        result = run_matching(loaded, mode, 3)  # type: ignore[arg-type]
        assert_hard_rules(loaded, result)
    optimum = achieved(data, run_matching(data, "optimal"), matrix)
    from_store = achieved(loaded, run_matching(loaded, "optimal"), score(loaded).total)
    assert from_store[0] == optimum[0]
    assert from_store[1] == pytest.approx(optimum[1], abs=1e-3)  # scores are float32; they are shown to 0.1


# ----------------------------------------------------------------------------------------------------
# Regressions: bugs found by these properties, kept as tests
# ----------------------------------------------------------------------------------------------------


def test_two_reports_of_person_zero_share_a_manager() -> None:
    managers: dict[int, int | None] = {0: None, 1: 0, 2: 0}
    data = MatchInput(
        mentees=[Candidate(participant_id=10, person_id=1, name="E", seniority=5)],
        mentors=[Candidate(participant_id=20, person_id=2, name="O", seniority=2)],
        managers=managers,
        rules=Rules(no_shared_manager=True, reference_date=DATES[0]),
    )
    assert broken_rules(data, data.mentees[0], data.mentors[0]) == ["shared_manager"]
    assert run_matching(data).pairs == []


def test_a_programme_with_nobody_in_it_matches_nobody() -> None:
    data = MatchInput(mentees=[], mentors=[], managers={1: None}, rules=Rules(reference_date=DATES[0]))
    for mode in MODES:
        result = run_matching(data, mode, 1)  # type: ignore[arg-type]
        assert result.pairs == [] and result.unmatched == []


def test_working_hours_across_a_daylight_saving_change_are_measured_in_real_time() -> None:
    day = date(2025, 3, 30)
    mentee = Candidate(
        participant_id=10, person_id=1, name="E", seniority=5, time_zone="Europe/London", working_hours="00:00-04:00"
    )
    mentor = Candidate(
        participant_id=20, person_id=2, name="O", seniority=2, time_zone="UTC", working_hours="03:00-05:00"
    )
    assert overlap(mentee, mentor, day) == 0
    data = MatchInput(
        mentees=[mentee],
        mentors=[mentor],
        managers={1: None, 2: None},
        rules=Rules(min_overlap_minutes=60, reference_date=day),
    )
    assert run_matching(data).pairs == []


def test_a_mentor_ranked_twice_counts_as_the_first_choice() -> None:
    mentee = Candidate(participant_id=10, person_id=1, name="E", seniority=5, rankings=(20, 21, 20))
    mentors = [
        Candidate(participant_id=20, person_id=2, name="A", seniority=2),
        Candidate(participant_id=21, person_id=3, name="B", seniority=2),
    ]
    data = MatchInput(
        mentees=[mentee],
        mentors=mentors,
        managers={1: None, 2: None, 3: None},
        rules=Rules(reference_date=DATES[0]),
        uses_choice=True,
    )
    for mode in ("optimal", "stable"):
        pairs = run_matching(data, mode).pairs
        assert [(p.mentee, p.mentor) for p in pairs] == [(10, 20)], mode
        assert "the mentee's choice #1" in reason_text(pairs[0].reasons), mode

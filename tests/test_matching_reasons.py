"""Matching: the reason given to unmatched people, and regressions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.matching.load import reason_text
from bot.matching.model import Candidate, MatchInput, Rules, Weights
from bot.matching.run import run_matching
from bot.wording import say
from matching_support import (
    DATES,
    FAST,
    MODES,
    Org,
    broken_rules,
    chain_above,
    descendants,
    instances,
    orgs,
    overlap,
)

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

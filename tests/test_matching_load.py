"""Matching through the store: ``load_input`` reads back what was written, and the result still keeps every rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings

from bot.matching.load import load_input
from bot.matching.model import Candidate, MatchInput
from bot.matching.run import run_matching
from bot.matching.scoring import score
from matching_store_support import write_programme
from matching_support import MODES, achieved, assert_hard_rules, instances
from storage.store import SqlStore


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

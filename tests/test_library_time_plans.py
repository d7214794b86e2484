"""Session time plans (bot/library.py): minutes given to each step of a framework, always the session's length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.library import Framework, FrameworkStep, Library, load_library, parse_library
from library_support import good_framework


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.mark.parametrize("minutes", [30, 45, 60, 90])
def test_time_plans_fill_the_session(library: Library, minutes: int) -> None:
    for framework in library.frameworks.values():
        plan = framework.time_plan(minutes)
        assert [name for name, _ in plan] == [step.name for step in framework.steps]
        assert sum(share for _, share in plan) == minutes, framework.id
        assert all(share >= 1 for _, share in plan), (framework.id, plan)
        for (_, given_minutes), step in zip(plan, framework.steps, strict=True):
            assert abs(given_minutes - step.share * minutes) < 1.5, (framework.id, plan)


def test_time_plan_uses_largest_remainders() -> None:
    framework = parse_library(
        [],
        [
            good_framework(
                steps=[
                    {"name": "A", "share": 0.45, "guide": "A."},
                    {"name": "B", "share": 0.35, "guide": "B."},
                    {"name": "C", "share": 0.2, "guide": "C."},
                ]
            )
        ],
        "test",
    ).framework("test_framework")
    # 10 minutes: 4.5, 3.5, 2 -> floors 4, 3, 2 and one minute left for the earlier tie.
    assert framework.time_plan(10) == [("A", 5), ("B", 3), ("C", 2)]
    assert framework.time_plan(0) == [("A", 0), ("B", 0), ("C", 0)]
    with pytest.raises(ValueError):
        framework.time_plan(-1)


def test_time_plan_gives_every_step_a_minute_when_there_are_enough() -> None:
    framework = parse_library(
        [],
        [
            good_framework(
                steps=[
                    {"name": "Long", "share": 0.9, "guide": "Long."},
                    {"name": "Short", "share": 0.05, "guide": "Short."},
                    {"name": "Shorter", "share": 0.05, "guide": "Shorter."},
                ]
            )
        ],
        "test",
    ).framework("test_framework")
    assert framework.time_plan(3) == [("Long", 1), ("Short", 1), ("Shorter", 1)]
    assert framework.time_plan(5) == [("Long", 3), ("Short", 1), ("Shorter", 1)]
    assert framework.time_plan(2) == [("Long", 2), ("Short", 0), ("Shorter", 0)]


@st.composite
def frameworks(draw: st.DrawFn) -> Framework:
    weights = draw(st.lists(st.integers(min_value=1, max_value=100), min_size=3, max_size=6))
    total = sum(weights)
    steps = tuple(
        FrameworkStep(name=f"step {n}", share=weight / total, guide="Guide.") for n, weight in enumerate(weights)
    )
    return Framework(id="drawn", name="Drawn", summary="Drawn.", good_for=("test",), steps=steps)


@settings(max_examples=300, deadline=None)
@given(framework=frameworks(), minutes=st.integers(min_value=1, max_value=240))
def test_time_plan_always_sums_to_the_session_length(framework: Framework, minutes: int) -> None:
    plan = framework.time_plan(minutes)
    assert sum(share for _, share in plan) == minutes
    assert all(share >= 0 for _, share in plan)
    if minutes >= len(framework.steps):
        assert all(share >= 1 for _, share in plan)


@settings(max_examples=100, deadline=None)
@given(minutes=st.integers(min_value=1, max_value=240))
def test_shipped_time_plans_always_sum_to_the_session_length(minutes: int) -> None:
    for framework in load_library().frameworks.values():
        plan = framework.time_plan(minutes)
        assert sum(share for _, share in plan) == minutes
        assert all(share >= 0 for _, share in plan)

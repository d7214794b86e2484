"""The number, yes/no and email value parsers in bot/values.py."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.values import (
    ValueProblem,
    is_email,
    parse_number,
    parse_yes_no,
)
from value_support import problem

# --- numbers ---------------------------------------------------------------------------------------


def test_parse_number_integer_and_float() -> None:
    assert parse_number("12", integer=True, minimum=None, maximum=None) == 12
    assert isinstance(parse_number("12", integer=True, minimum=None, maximum=None), int)
    assert parse_number("3.5", integer=False, minimum=None, maximum=None) == 3.5
    assert isinstance(parse_number("3", integer=False, minimum=None, maximum=None), float)
    assert parse_number(" 1,200 ", integer=True, minimum=None, maximum=None) == 1200
    assert parse_number("20%", integer=False, minimum=0, maximum=100) == 20.0
    assert parse_number("20 %", integer=True, minimum=0, maximum=100) == 20
    assert parse_number("-4", integer=True, minimum=None, maximum=None) == -4


def test_parse_number_bounds_are_inclusive() -> None:
    assert parse_number("15", integer=True, minimum=15, maximum=180) == 15
    assert parse_number("180", integer=True, minimum=15, maximum=180) == 180


@pytest.mark.parametrize(
    ("raw", "minimum", "maximum", "shown_min", "shown_max"),
    [
        ("14", 15, 180, "15", "180"),
        ("181", 15, 180, "15", "180"),
        ("-1", 0, None, "0", ""),
        ("11", None, 10, "", "10"),
        ("0.4", 0.5, 2.5, "0.5", "2.5"),
    ],
)
def test_parse_number_out_of_range(raw: str, minimum, maximum, shown_min: str, shown_max: str) -> None:
    caught = problem(parse_number, raw, integer="." not in raw, minimum=minimum, maximum=maximum)
    assert caught.key == "input.out_of_range"
    assert caught.values == {"given": raw, "minimum": shown_min, "maximum": shown_max}


@pytest.mark.parametrize(
    ("raw", "integer", "key"),
    [
        ("3.5", True, "input.bad_integer"),
        ("forty", True, "input.bad_integer"),
        ("forty", False, "input.bad_number"),
        ("", False, "input.bad_number"),
        ("1.2.3", False, "input.bad_number"),
    ],
)
def test_parse_number_not_a_number(raw: str, integer: bool, key: str) -> None:
    caught = problem(parse_number, raw, integer=integer, minimum=None, maximum=None)
    assert caught.key == key
    assert caught.values == {"given": raw}


@given(st.integers(-10_000, 10_000), st.integers(-100, 100), st.integers(0, 200))
def test_parse_number_integer_bounds_property(value: int, low: int, width: int) -> None:
    high = low + width
    if low <= value <= high:
        assert parse_number(str(value), integer=True, minimum=low, maximum=high) == value
    else:
        assert problem(parse_number, str(value), integer=True, minimum=low, maximum=high).key == "input.out_of_range"


def test_parse_number_nan_is_not_within_bounds() -> None:
    with pytest.raises(ValueProblem):
        parse_number("nan", integer=False, minimum=0, maximum=10)


@pytest.mark.parametrize("raw", ["inf", "-Infinity", "NaN"])
def test_parse_number_rejects_non_finite(raw: str) -> None:
    try:
        value = parse_number(raw, integer=False, minimum=None, maximum=None)
    except ValueProblem:
        return
    assert math.isfinite(value)


# --- yes / no --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["yes", "Y", "yeah", "Yep!", "sure", "OK", "okay.", "true", "1", " yes "])
def test_parse_yes(raw: str) -> None:
    assert parse_yes_no(raw) is True


@pytest.mark.parametrize("raw", ["no", "N", "nope", "No.", "false", "0"])
def test_parse_no(raw: str) -> None:
    assert parse_yes_no(raw) is False


@pytest.mark.parametrize("raw", ["", "maybe", "yes please", "nah?"])
def test_parse_yes_no_other(raw: str) -> None:
    caught = problem(parse_yes_no, raw)
    assert caught.key == "input.bad_yes_no"


def test_is_email() -> None:
    assert is_email("ana@example.org")
    assert not is_email("ana@example")
    assert not is_email("<ana@example.org>")
    assert not is_email("ana example@x.org")

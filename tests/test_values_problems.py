"""The value parsers in bot/values.py fail only with ``ValueProblem``, and each problem re-prompts specifically."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup import plain_text
from bot.values import (
    ValueProblem,
    parse_cadence,
    parse_date,
    parse_number,
    parse_time_zone,
    parse_working_hours,
    parse_yes_no,
)
from bot.wording import say, wording
from value_support import problem

# --- robustness: only ValueProblem ever escapes a parser -------------------------------------------


_NASTY = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list("0123456789:-/ %.,wdmto")), max_size=30)


@settings(max_examples=150)
@given(_NASTY)
def test_parsers_fail_only_with_value_problems(raw: str) -> None:
    for function in (
        parse_date,
        parse_cadence,
        parse_working_hours,
        parse_yes_no,
        lambda r: parse_number(r, integer=True, minimum=0, maximum=100),
        lambda r: parse_number(r, integer=False, minimum=0, maximum=100),
    ):
        try:
            function(raw)
        except ValueProblem as caught:
            assert wording().has(caught.key)


@settings(max_examples=25)
@given(st.text(max_size=20))
def test_parse_time_zone_fails_only_with_value_problems(raw: str) -> None:
    try:
        zone = parse_time_zone(raw)
    except ValueProblem as caught:
        assert caught.key == "input.bad_time_zone"
    else:
        assert zone


# --- every re-prompt is specific --------------------------------------------------------------------

_GIVEN = "31/13/2027 *x* _y_ [z](w)"
_BAD_VALUES = [
    (parse_date, ("garbage",), {}),
    (parse_date, (_GIVEN,), {}),
    (parse_cadence, ("1d",), {}),
    (parse_cadence, ("20w",), {}),
    (parse_cadence, ("every `blue` moon",), {}),
    (parse_time_zone, ("Mars/Base",), {}),
    (parse_working_hours, ("17-9",), {}),
    (parse_working_hours, ("nine_to_five",), {}),
    (parse_number, ("3.5",), {"integer": True, "minimum": None, "maximum": None}),
    (parse_number, ("forty*",), {"integer": False, "minimum": None, "maximum": None}),
    (parse_number, ("200",), {"integer": True, "minimum": 15, "maximum": 180}),
    (parse_number, ("2",), {"integer": True, "minimum": 15, "maximum": None}),
    (parse_number, ("200",), {"integer": True, "minimum": None, "maximum": 180}),
    (parse_number, ("0",), {"integer": True, "minimum": 1, "maximum": 5}),
    (parse_yes_no, ("maybe",), {}),
]


@pytest.mark.parametrize(("function", "args", "kwargs"), _BAD_VALUES)
def test_each_problem_renders_a_specific_message(function, args, kwargs) -> None:
    caught = problem(function, *args, **kwargs)
    message = say(caught.key, **caught.values)
    assert message.strip()
    shown = plain_text(message)
    source = wording()._sources[caught.key]
    for name, value in caught.values.items():
        if "{{ " + name in source and value not in ("", None):
            assert str(value) in shown, (caught.key, name, value, shown)


def test_out_of_range_message_states_the_bounds() -> None:
    both = problem(parse_number, "200", integer=True, minimum=15, maximum=180)
    assert plain_text(say(both.key, **both.values)) == "200 is out of range: between 15 and 180, please."
    low = problem(parse_number, "2", integer=True, minimum=15, maximum=None)
    assert "at least 15" in say(low.key, **low.values)
    high = problem(parse_number, "200", integer=True, minimum=None, maximum=180)
    assert "at most 180" in say(high.key, **high.values)
    zero = problem(parse_number, "9", integer=True, minimum=0, maximum=5)
    assert "between 0 and 5" in say(zero.key, **zero.values)

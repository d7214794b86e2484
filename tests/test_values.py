"""Behaviour of the value parsers in bot/values.py and the re-prompts their problems produce."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup import plain_text
from bot.values import (
    ValueProblem,
    describe_cadence,
    is_email,
    parse_cadence,
    parse_date,
    parse_number,
    parse_time_zone,
    parse_working_hours,
    parse_yes_no,
)
from bot.wording import say, wording


def problem(function, *args, **kwargs) -> ValueProblem:
    with pytest.raises(ValueProblem) as caught:
        function(*args, **kwargs)
    return caught.value


# --- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2027-03-31",
        "31 Mar 2027",
        "31 March 2027",
        "31/03/2027",
        "Mar 31 2027",
        "March 31, 2027",
        "  31   Mar   2027  ",
        "31 mar 2027",
    ],
)
def test_parse_date_accepts_the_documented_spellings(raw: str) -> None:
    assert parse_date(raw) == date(2027, 3, 31)


@pytest.mark.parametrize("raw", ["", "tomorrow", "31/13/2027", "2027-02-30", "32 Mar 2027", "03/31/2027x", "soon-ish"])
def test_parse_date_rejects_garbage_with_the_typed_text(raw: str) -> None:
    caught = problem(parse_date, raw)
    assert caught.key == "input.bad_date"
    assert caught.values == {"given": raw}


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)))
def test_parse_date_round_trips_every_format(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(f"{day.day} {day.strftime('%b')} {day.year}") == day


# --- cadence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("weekly", 7),
        ("Weekly", 7),
        ("fortnightly", 14),
        ("biweekly", 14),
        ("every other week", 14),
        ("every two weeks", 14),
        ("monthly", 28),
        ("every month", 28),
        ("2w", 14),
        ("2 weeks", 14),
        ("every 2 weeks", 14),
        ("every 3 weeks", 21),
        ("  EVERY   3   WEEKS ", 21),
        ("10d", 10),
        ("10 days", 10),
        ("1m", 28),
        ("2 months", 56),
        ("8 weeks", 56),
        ("7d", 7),
        ("62 days", 62),
    ],
)
def test_parse_cadence_accepts_words_and_counts(raw: str, days: int) -> None:
    assert parse_cadence(raw) == days


@pytest.mark.parametrize("raw", ["1d", "6 days", "20w", "63d", "3 months", "9w", "0w"])
def test_parse_cadence_out_of_range(raw: str) -> None:
    caught = problem(parse_cadence, raw)
    assert caught.key == "input.cadence_range"
    assert caught.values == {"given": raw}


@pytest.mark.parametrize("raw", ["", "sometimes", "every blue moon", "2 fortnights", "w2", "100d", "2.5w"])
def test_parse_cadence_nonsense(raw: str) -> None:
    caught = problem(parse_cadence, raw)
    assert caught.key == "input.bad_cadence"
    assert caught.values == {"given": raw}


@pytest.mark.parametrize(
    ("days", "text"), [(7, "weekly"), (14, "every 2 weeks"), (21, "every 3 weeks"), (28, "monthly")]
)
def test_describe_cadence_round_trips(days: int, text: str) -> None:
    assert describe_cadence(days) == text
    assert parse_cadence(describe_cadence(days)) == days


def test_describe_cadence_odd_days() -> None:
    assert describe_cadence(10) == "every 10 days"
    assert parse_cadence(describe_cadence(10)) == 10


@given(
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["d", "day", "days", "w", "wk", "week", "weeks", "m", "month", "months"]),
    st.booleans(),
    st.booleans(),
)
def test_parse_cadence_counts_are_in_range_or_explained(count: int, unit: str, every: bool, space: bool) -> None:
    raw = ("every " if every else "") + str(count) + (" " if space else "") + unit
    days = count * {"d": 1, "w": 7, "m": 28}[unit[0]]
    if 7 <= days <= 62:
        assert parse_cadence(raw) == days
        assert parse_cadence(describe_cadence(days)) == days
    else:
        assert problem(parse_cadence, raw).key == "input.cadence_range"


# --- time zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("EUROPE/BERLIN", "Europe/Berlin"),
        ("America/New_York", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("Bengaluru", "Asia/Kolkata"),
        ("bangalore", "Asia/Kolkata"),
        ("london", "Europe/London"),
        ("New York", "America/New_York"),
        ("San Francisco", "America/Los_Angeles"),
        ("Tokyo", "Asia/Tokyo"),
        ("Kolkata", "Asia/Kolkata"),
        ("lisbon", "Europe/Lisbon"),
        ("UTC", "UTC"),
        ("gmt", "UTC"),
        ("  Asia/Singapore  ", "Asia/Singapore"),
    ],
)
def test_parse_time_zone_names_and_cities(raw: str, zone: str) -> None:
    assert parse_time_zone(raw) == zone


@pytest.mark.parametrize("raw", ["Mars/Base", "", "Springfield", "Europe/Atlantis", "+05:30"])
def test_parse_time_zone_rejects_unknown(raw: str) -> None:
    caught = problem(parse_time_zone, raw)
    assert caught.key == "input.bad_time_zone"
    assert caught.values["given"] == raw
    assert parse_time_zone(caught.values["suggestion"])  # the suggestion is itself a real zone


def test_an_unknown_time_zone_suggests_the_closest_real_one() -> None:
    assert problem(parse_time_zone, "Europe/Berlinn").values["suggestion"] == "Europe/Berlin"


# --- working hours ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "hours"),
    [
        ("9-17", "09:00-17:00"),
        ("09:00-17:00", "09:00-17:00"),
        ("08:30 to 16:30", "08:30-16:30"),
        ("8:30 TO 16:30", "08:30-16:30"),
        ("9 - 17", "09:00-17:00"),
        ("9–17", "09:00-17:00"),
        ("0-24", "00:00-23:59"),
        ("  7:15-15:45 ", "07:15-15:45"),
    ],
)
def test_parse_working_hours(raw: str, hours: str) -> None:
    assert parse_working_hours(raw) == hours


@pytest.mark.parametrize("raw", ["17-9", "9-9", "16:30 to 08:30", "12:00-11:59"])
def test_parse_working_hours_end_before_start(raw: str) -> None:
    caught = problem(parse_working_hours, raw)
    assert caught.key == "input.working_hours_order"
    assert caught.values == {"given": raw}


@pytest.mark.parametrize("raw", ["", "nine to five", "9", "9-17-20", "25-26", "9:60-17", "9am-5pm", "9:5-17"])
def test_parse_working_hours_junk(raw: str) -> None:
    caught = problem(parse_working_hours, raw)
    assert caught.key == "input.bad_working_hours"
    assert caught.values == {"given": raw}


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["-", " - ", " to ", "–"]),
)
def test_parse_working_hours_any_span(h1: int, m1: int, h2: int, m2: int, sep: str) -> None:
    raw = f"{h1}:{m1:02d}{sep}{h2}:{m2:02d}"
    if (h2, m2) > (h1, m1):
        assert parse_working_hours(raw) == f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    else:
        assert problem(parse_working_hours, raw).key == "input.working_hours_order"


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

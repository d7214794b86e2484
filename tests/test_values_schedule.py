"""The schedule value parsers in bot/values.py: dates, cadences, time zones and working hours."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.values import (
    describe_cadence,
    parse_cadence,
    parse_date,
    parse_time_zone,
    parse_working_hours,
)
from value_support import problem

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

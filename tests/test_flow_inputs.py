"""How typed answers to flow steps are validated and shown back (bot/flows/inputs.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.flows.definition import Step
from bot.flows.inputs import parse_answer, show_answer
from bot.markup import plain_text
from bot.values import ValueProblem
from bot.wording import say, wording
from flow_support import FOCUS, TODAY, step


def answer(the_step: Step, raw: Any, answers: dict[str, Any] | None = None) -> Any:
    return parse_answer(the_step, raw, answers or {}, TODAY)


def problem(the_step: Step, raw: Any, answers: dict[str, Any] | None = None) -> ValueProblem:
    with pytest.raises(ValueProblem) as caught:
        answer(the_step, raw, answers)
    # every problem a step raises must turn into a non-empty, specific re-prompt
    message = plain_text(say(caught.value.key, **caught.value.values))
    assert message.strip()
    source = wording()._sources[caught.value.key]
    for name, value in caught.value.values.items():
        if "{{ " + name in source:
            assert str(value) in message, (caught.value.key, name, message)
    return caught.value


# --- empty ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["text", "long_text", "integer", "number", "date", "yes_no", "time_zone", "working_hours", "cadence"]
)
@pytest.mark.parametrize("raw", ["", "   ", "\n\t", []])
def test_empty_answers_are_refused_for_every_kind(kind: str, raw: Any) -> None:
    assert problem(step(kind), raw).key == "input.empty"


# --- text ---------------------------------------------------------------------------------------------


def test_text_is_trimmed_and_bounded() -> None:
    name = step("text", min_length=3, max_length=10)
    assert answer(name, "  Digital  ") == "Digital"
    assert answer(name, "abc") == "abc"
    assert answer(name, "a" * 10) == "a" * 10
    short = problem(name, "  ab  ")
    assert (short.key, short.values) == ("input.too_short", {"minimum": 3})
    long = problem(name, "a" * 11)
    assert (long.key, long.values) == ("input.too_long", {"maximum": 10, "length": 11})


def test_long_text_keeps_inner_newlines() -> None:
    notes = step("long_text", min_length=5, max_length=2000)
    assert answer(notes, "\n line one\nline two \n") == "line one\nline two"
    assert problem(notes, "x" * 2001).key == "input.too_long"
    assert problem(notes, "abcd").key == "input.too_short"


def test_text_keeps_markup_characters_as_typed() -> None:
    assert answer(step("text"), "**not bold** <!channel>") == "**not bold** <!channel>"


@given(st.text(min_size=1, max_size=40))
def test_text_accepts_exactly_the_trimmed_lengths_in_bounds(raw: str) -> None:
    the_step = step("text", min_length=2, max_length=20)
    trimmed = raw.strip()
    if not trimmed:
        assert problem(the_step, raw).key == "input.empty"
    elif len(trimmed) < 2:
        assert problem(the_step, raw).key == "input.too_short"
    elif len(trimmed) > 20:
        assert problem(the_step, raw).key == "input.too_long"
    else:
        assert answer(the_step, raw) == trimmed


# --- numbers ------------------------------------------------------------------------------------------


def test_integer_step() -> None:
    minutes = step("integer", minimum=15, maximum=180)
    assert answer(minutes, "45") == 45
    assert problem(minutes, "45.5").key == "input.bad_integer"
    out = problem(minutes, "10")
    assert (out.key, out.values["minimum"], out.values["maximum"]) == ("input.out_of_range", "15", "180")


def test_number_step() -> None:
    baseline = step("number")
    assert answer(baseline, "5.2") == 5.2
    assert answer(baseline, "20%") == 20.0
    assert problem(baseline, "five").key == "input.bad_number"
    assert problem(step("number", minimum=0, maximum=10), "10.5").key == "input.out_of_range"


# --- dates --------------------------------------------------------------------------------------------


def test_date_step_returns_iso() -> None:
    assert answer(step("date"), "31 Mar 2027") == "2027-03-31"
    assert answer(step("date"), "2020-01-01") == "2020-01-01"  # no `after`: the past is fine
    assert problem(step("date"), "someday").key == "input.bad_date"


def test_date_after_today() -> None:
    goal = step("date", after="today")
    assert answer(goal, "2027-01-11") == "2027-01-11"
    for raw in ("2027-01-10", "09/01/2027"):
        caught = problem(goal, raw)
        assert (caught.key, caught.values) == ("input.date_not_future", {"given": raw})


def test_date_after_another_step() -> None:
    ends = step("date", id="ends_on", after="starts_on")
    answers = {"starts_on": "2027-01-15"}
    assert answer(ends, "2027-07-15", answers) == "2027-07-15"
    caught = problem(ends, "15/01/2027", answers)
    assert (caught.key, caught.values) == ("input.date_not_after", {"given": "15/01/2027", "earlier": "2027-01-15"})
    assert problem(ends, "2026-12-31", answers).key == "input.date_not_after"
    # without the earlier answer (skipped) there is nothing to compare against
    assert answer(ends, "2026-12-31", {}) == "2026-12-31"


# --- choices ------------------------------------------------------------------------------------------


def test_choice_by_number_value_or_label() -> None:
    focus = step("choice", choices=FOCUS)
    assert answer(focus, "1") == "digital"
    assert answer(focus, " 4 ") == "custom"
    assert answer(focus, "social_media") == "social_media"
    assert answer(focus, "SOCIAL_MEDIA") == "social_media"
    assert answer(focus, "social media") == "social_media"
    assert answer(focus, "digital TOOLS") == "digital"
    assert answer(focus, "Something Else") == "custom"


# "¹" and "²" are digits to str.isdigit, not to int()
@pytest.mark.parametrize("raw", ["0", "5", "digit", "Social", "1, 2", "¹", "²"])
def test_choice_refuses_anything_else_listing_the_options(raw: str) -> None:
    caught = problem(step("choice", choices=FOCUS), raw)
    assert caught.key == "input.bad_choice"
    assert caught.values == {"given": raw, "options": "Digital tools, Social media, Inclusion, Something else"}


def test_multi_choice() -> None:
    topics = step("multi_choice", choices=FOCUS, max_selected=2)
    assert answer(topics, "1, social media") == ["digital", "social_media"]
    assert answer(topics, "3;1") == ["inclusion", "digital"]
    assert answer(topics, "1, digital, Digital tools") == ["digital"]  # duplicates count once
    assert answer(topics, ["inclusion", "custom"]) == ["inclusion", "custom"]  # buttons send a list
    too_many = problem(topics, "1,2,3")
    assert (too_many.key, too_many.values) == ("input.too_many", {"maximum": 2})
    assert problem(topics, "1, nonsense").key == "input.bad_choice"
    assert answer(step("multi_choice", choices=FOCUS), "1,2,3,4") == ["digital", "social_media", "inclusion", "custom"]


def test_rank_needs_exactly_three_distinct() -> None:
    rank = step("rank", choices=FOCUS)
    assert answer(rank, "3, 1, 2") == ["inclusion", "digital", "social_media"]
    for raw in ("1, 2", "1, 1, 2", "1, 2, 3, 4"):
        caught = problem(rank, raw)
        assert (caught.key, caught.values) == ("input.rank_count", {"wanted": 3})


def test_rank_with_fewer_choices_wants_them_all() -> None:
    rank = step("rank", choices=FOCUS[:2])
    assert answer(rank, "2,1") == ["social_media", "digital"]
    assert problem(rank, "2").values == {"wanted": 2}


# --- the rest -----------------------------------------------------------------------------------------


def test_yes_no_time_zone_working_hours_cadence() -> None:
    assert answer(step("yes_no"), "Yes") is True
    assert answer(step("yes_no"), "nope") is False
    assert problem(step("yes_no"), "perhaps").key == "input.bad_yes_no"
    assert answer(step("time_zone"), "Bengaluru") == "Asia/Kolkata"
    assert problem(step("time_zone"), "Mars/Base").key == "input.bad_time_zone"
    assert answer(step("working_hours"), "9-17") == "09:00-17:00"
    assert problem(step("working_hours"), "17-9").key == "input.working_hours_order"
    assert answer(step("cadence"), "every 2 weeks") == 14
    assert problem(step("cadence"), "1d").key == "input.cadence_range"


def test_unknown_kind_is_explained() -> None:
    caught = problem(step("colour"), "red")
    assert (caught.key, caught.values) == ("input.bad_kind", {"kind": "colour"})


# --- reading answers back -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_step", "value", "shown"),
    [
        (step("text"), "Digital 2027", "Digital 2027"),
        (step("long_text"), "line one\nline two", "line one\nline two"),
        (step("integer"), 45, "45"),
        (step("number"), 5.2, "5.2"),
        (step("date"), "2027-03-31", "2027-03-31"),
        (step("choice", choices=FOCUS), "social_media", "Social media"),
        (step("choice", choices=FOCUS), "retired", "retired"),
        (step("multi_choice", choices=FOCUS), ["custom", "digital"], "Something else, Digital tools"),
        (
            step("rank", choices=FOCUS),
            ["inclusion", "digital", "social_media"],
            "Inclusion, Digital tools, Social media",
        ),
        (step("yes_no"), True, "Yes"),
        (step("yes_no"), False, "No"),
        (step("time_zone"), "Asia/Kolkata", "Asia/Kolkata"),
        (step("working_hours"), "09:00-17:00", "09:00-17:00"),
        (step("cadence"), 7, "weekly"),
        (step("cadence"), 14, "every 2 weeks"),
        (step("cadence"), 28, "monthly"),
        (step("text"), None, "(skipped)"),
        (step("yes_no"), None, "(skipped)"),
    ],
)
def test_show_answer(the_step: Step, value: Any, shown: str) -> None:
    assert show_answer(the_step, value) == shown


@pytest.mark.parametrize(
    ("the_step", "raw"),
    [
        (step("text"), "Digital 2027"),
        (step("integer"), "45"),
        (step("date"), "31 Mar 2027"),
        (step("choice", choices=FOCUS), "2"),
        (step("multi_choice", choices=FOCUS), "1,3"),
        (step("rank", choices=FOCUS), "4,2,1"),
        (step("yes_no"), "y"),
        (step("time_zone"), "london"),
        (step("working_hours"), "8:30 to 16:30"),
        (step("cadence"), "3w"),
    ],
)
def test_shown_answers_parse_back_to_the_same_value(the_step: Step, raw: str) -> None:
    value = answer(the_step, raw)
    assert answer(the_step, show_answer(the_step, value)) == value

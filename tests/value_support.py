"""Shared helper for the value-parser tests: the ``ValueProblem`` a parser raises."""

from __future__ import annotations

import pytest

from bot.values import ValueProblem


def problem(function, *args, **kwargs) -> ValueProblem:
    """The ``ValueProblem`` that ``function(*args, **kwargs)`` raises (the test fails if it raises none)."""
    with pytest.raises(ValueProblem) as caught:
        function(*args, **kwargs)
    return caught.value

"""Shared helpers for the flow tests: a fixed today, a list of focus choices, and a step built from its kind."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.flows.definition import Step, StepChoice

TODAY = date(2027, 1, 10)

FOCUS = (
    StepChoice("digital", "Digital tools"),
    StepChoice("social_media", "Social media"),
    StepChoice("inclusion", "Inclusion"),
    StepChoice("custom", "Something else"),
)


def step(kind: str, **fields: Any) -> Step:
    """A ``kind`` step; ``id`` defaults to the kind and ``prompt`` to a placeholder."""
    return Step(id=fields.pop("id", kind), kind=kind, prompt=fields.pop("prompt", "Question?"), **fields)

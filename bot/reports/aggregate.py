"""Aggregates that never rest on fewer than *k* people.

Every figure built from pulses, surveys or diversity answers goes through :func:`summarise` or
:func:`breakdown`. A group with fewer than *k* respondents is withheld; when withholding exactly one group
of a breakdown would let it be worked out from the total and the others, the next smallest group is
withheld too (complementary suppression).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean


@dataclass(frozen=True)
class Figure:
    """An aggregate that may be shown: how many people it rests on, and their mean."""

    respondents: int
    mean: float


def summarise(values_by_person: dict[int, list[float]], k: int) -> Figure | None:
    """The mean over everyone's answers, or None when fewer than ``k`` people answered."""
    people = {p: v for p, v in values_by_person.items() if v}
    if len(people) < k:
        return None
    return Figure(respondents=len(people), mean=mean(x for v in people.values() for x in v))


def breakdown(groups: dict[str, dict[int, list[float]]], k: int) -> dict[str, Figure | None]:
    """A figure per group; groups under ``k`` (and their complement when needed) are withheld."""
    figures = {name: summarise(values, k) for name, values in groups.items()}
    hidden = [name for name, figure in figures.items() if figure is None and any(groups[name].values())]
    shown = sorted((name for name, figure in figures.items() if figure is not None),
                   key=lambda name: figures[name].respondents)  # type: ignore[union-attr]
    if len(hidden) == 1 and shown:
        figures[shown[0]] = None
    return figures

"""Aggregates that never rest on fewer than *k* people.

Every figure built from pulses, surveys or diversity answers goes through :func:`summarise` or
:func:`breakdown`. A group with fewer than *k* respondents is withheld; when withholding exactly one group
of a breakdown would let it be worked out from the total and the others, the next smallest group is
withheld too (complementary suppression).

Across time, :func:`steady` keeps two reports from being subtracted: a figure that was shown is shown
again unchanged until at least *k* people's answers have changed since (new answers, or people whose
answers were deleted); only then does it move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Protocol


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
    present = {name: figure for name, figure in figures.items() if figure is not None}
    shown = sorted(present, key=lambda name: present[name].respondents)
    if len(hidden) == 1 and shown:
        figures[shown[0]] = None
    return figures


@dataclass(frozen=True)
class Released:
    """A figure as it was last shown, and the newest answer it included."""

    figure: Figure
    as_of: datetime


class FigureLedger(Protocol):
    """Where the last shown value of each aggregate (a *cell*) is kept."""

    def released(self, programme_id: int, cell: str) -> Released | None: ...
    def release(self, programme_id: int, cell: str, released: Released) -> None: ...


def changed_people(stamps: dict[int, list[datetime]], since: Released) -> int:
    """The fewest people whose answers can differ from the shown figure's: those who answered again since,
    plus the difference between those who only answered since and those no longer there (on a timestamp tie,
    more people than it counted). An answer given only since may be someone's whose earlier one was removed,
    the same again: such a pair changes nothing, so only the surplus on either side counts."""
    again = sum(1 for times in stamps.values() if any(t > since.as_of for t in times) and min(times) <= since.as_of)
    only_new = sum(1 for times in stamps.values() if times and min(times) > since.as_of)
    still_there = sum(1 for times in stamps.values() if any(t <= since.as_of for t in times))
    missing = since.figure.respondents - still_there
    return again + abs(only_new - missing)


def steady(
    ledger: FigureLedger, programme_id: int, cell: str, figure: Figure | None, stamps: dict[int, list[datetime]], k: int
) -> Figure | None:
    """``figure``, or the one shown before when fewer than ``k`` people's answers changed since then.

    ``stamps`` holds, per person, when each answer behind ``figure`` was given. A withheld figure stays
    withheld; the first figure to reach ``k`` people is shown and remembered."""
    if figure is None:
        return None
    shown = ledger.released(programme_id, cell)
    if shown is not None and changed_people(stamps, shown) < k:
        return shown.figure
    newest = max((t for times in stamps.values() for t in times), default=None)
    if newest is not None:
        ledger.release(programme_id, cell, Released(figure=figure, as_of=newest))
    return figure

"""Aggregates over answers, what tells two of them apart, and where released ones are kept.

A *cell* is one aggregate that may be shown: the pulse, the mentors' pulse, Engineering's pulse, how many people
said "woman". It rests on answers, each given by one *contributor*: a pseudonym of a person (see
:meth:`ReleaseLedger.pseudonyms`), never a name. Anyone who sees two cells can subtract them; what that reveals is
the answers of the people whose answers differ between the two (:func:`differing`). Disclosure control
(:mod:`bot.reports.disclosure`) keeps that number at 0 or at least *k* for every pair of released cells.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol

Basis = Mapping[str, frozenset[str]]
"""What a cell rests on: per contributor, the ids of the answers they gave to it."""


@dataclass(frozen=True)
class Figure:
    """An aggregate that may be shown: how many people it rests on, and the mean of their answers."""

    respondents: int
    mean: float


@dataclass(frozen=True)
class Cell:
    """A candidate aggregate: its answers, by id, each with its contributor and value."""

    name: str
    answers: Mapping[str, tuple[str, float]]

    @cached_property
    def basis(self) -> dict[str, frozenset[str]]:
        ids: dict[str, set[str]] = {}
        for answer, (contributor, _) in self.answers.items():
            ids.setdefault(contributor, set()).add(answer)
        return {contributor: frozenset(answers) for contributor, answers in ids.items()}

    @cached_property
    def answer_ids(self) -> frozenset[str]:
        return frozenset(self.answers)

    @property
    def respondents(self) -> int:
        return len(self.basis)

    @property
    def figure(self) -> Figure:
        values = [value for _, value in self.answers.values()]
        return Figure(respondents=self.respondents, mean=sum(values) / len(values) if values else 0.0)

    def without(self, name: str, parts: Iterable[Cell]) -> Cell:
        """This cell's answers that are in none of ``parts``, as a cell named ``name``."""
        taken = set().union(*(part.answers for part in parts))
        return Cell(name, {a: given for a, given in self.answers.items() if a not in taken})


def union(name: str, parts: Iterable[Cell]) -> Cell:
    """The answers of ``parts`` together, as one cell."""
    answers: dict[str, tuple[str, float]] = {}
    for part in parts:
        answers.update(part.answers)
    return Cell(name, answers)


@dataclass(frozen=True)
class StoredCell:
    """A released cell: its figure, and (when read for a check) its basis."""

    name: str
    figure: Figure
    basis: Basis = field(default_factory=dict)

    @cached_property
    def answer_ids(self) -> frozenset[str]:
        return frozenset().union(*self.basis.values())


@dataclass(frozen=True)
class Release:
    """The figures released at one measurement point or closed period, computed once over the answers given
    before ``cutoff``."""

    period: str
    """``baseline``, ``midpoint``, ``final``, or the month it closes (``2030-03``)."""
    cutoff: datetime
    released_at: datetime
    cells: dict[str, StoredCell] = field(default_factory=dict)


class ReleaseLedger(Protocol):
    """Where releases are kept, and the pseudonyms their bases are written in."""

    def releases(self, programme_id: int, with_bases: bool = False) -> list[Release]:
        """Every release of the programme, oldest first (with every cell's basis, when asked)."""
        ...

    def bases(self, programme_id: int, cells: Mapping[str, datetime]) -> dict[str, Basis]:
        """The bases of the cells named, each in the release of the cutoff given."""
        ...

    def record(self, programme_id: int, release: Release) -> None: ...

    def pseudonyms(self, programme_id: int, scope: str, person_ids: Collection[int]) -> dict[int, str]:
        """A stable pseudonym per person, made on first use; erased with :meth:`forget`."""
        ...

    def forget(self, person_id: int) -> None:
        """Erase the person's pseudonyms: what was released stays, and no longer leads to them."""
        ...


def aliases(bases: Iterable[Basis]) -> dict[str, str]:
    """Pseudonyms that are one person: those that share an answer (someone forgotten keeps their ratings, which
    come back under a new pseudonym), each mapped to one of them. Pseudonyms of no one else are left out."""
    root: dict[str, str] = {}

    def find(key: str) -> str:
        root.setdefault(key, key)
        while root[key] != key:
            root[key] = root[root[key]]
            key = root[key]
        return key

    seen: dict[str, str] = {}
    for basis in bases:
        for key, answers in basis.items():
            for answer in answers:
                first = seen.setdefault(answer, key)
                if first != key and find(first) != find(key):
                    root[find(key)] = find(first)
    return {key: find(key) for key in root if find(key) != key}


def rename(basis: Basis, alias: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """``basis`` with each pseudonym replaced by the one ``alias`` keeps for its person."""
    people: dict[str, frozenset[str]] = {}
    for key, answers in basis.items():
        person = alias.get(key, key)
        people[person] = people.get(person, frozenset()) | answers
    return people


def differing(a: Basis, b: Basis) -> int:
    """How many people's answers differ between two cells: people in one of them only, and people in both whose
    answers are not the same. That is who subtracting one cell from the other would reveal.

    The same answer under two pseudonyms is one person (someone whose pseudonym was erased, whose kept ratings
    then came back under a new one): their pseudonyms are joined before counting."""
    changed = {key for key in a.keys() | b.keys() if a.get(key) != b.get(key)}
    if not changed:
        return 0
    root = {key: key for key in changed}

    def find(key: str) -> str:
        while root[key] != key:
            root[key] = root[root[key]]
            key = root[key]
        return key

    seen: dict[str, str] = {}
    for basis in (a, b):
        for key in changed:
            for answer in basis.get(key, ()):
                first = seen.setdefault(answer, key)
                if find(first) != find(key):
                    root[find(key)] = find(first)
    people: dict[str, tuple[set[str], set[str]]] = {}
    for key in changed:
        mine = people.setdefault(find(key), (set(), set()))
        mine[0].update(a.get(key, ()))
        mine[1].update(b.get(key, ()))
    return sum(1 for before, after in people.values() if before != after)

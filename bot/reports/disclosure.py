"""Disclosure control: which cells of a release may be shown, so that none can be differenced.

A release offers *families*: a main figure (the *parent*: the pulse, the goal, the self-identification
answers) and its breakdowns (by role, department, topic, framework, week; by each answer). :func:`disclose`
decides what is released:

- every released cell rests on at least *k* people;
- a breakdown is released only with its parent; its groups that are not shown are merged into one unlabelled
  remainder, ``<breakdown>#other`` (the parent's answers in no shown group), which is itself a released cell, and
  so is ``<breakdown>#shown`` (the shown groups together, which the parent and the remainder give away);
- for every pair of released cells, of this release and of every earlier one, the people whose answers differ
  (:func:`~bot.reports.aggregate.differing`) are none or at least *k*.

While a rule is broken, the cell whose suppression loses least is withheld (complementary suppression): a group
(fewest people first; a breakdown that is shown whole or not at all goes as a whole), else the parent with all its
breakdowns. The remainder and the shown groups together change by merging the smallest shown group into the
remainder. Every step withholds something, so it ends; the order is fixed, so the outcome is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.reports.aggregate import Basis, Cell, StoredCell, aliases, differing, rename, union

OTHER, SHOWN = "#other", "#shown"


@dataclass
class Breakdown:
    """Groups of a parent's answers: ``groups`` by full cell name (``pulse:department:Sales``)."""

    name: str
    """The breakdown's own name (``pulse:department``); its groups are named ``<name>:<label>``."""
    groups: dict[str, Cell]
    whole: bool = False
    """Shown whole or not at all (the two roles: hiding one would name it anyway)."""


@dataclass
class Family:
    parent: Cell
    breakdowns: list[Breakdown] = field(default_factory=list)


@dataclass(frozen=True)
class _Owner:
    """Which decision a released cell follows from: the parent of family ``family``, or breakdown ``breakdown``
    (a group of it, or its remainder / shown groups when ``group`` is empty)."""

    family: int
    breakdown: int = -1
    group: str = ""


def _renamed(family: Family, alias: dict[str, str]) -> Family:
    def cell(c: Cell) -> Cell:
        return Cell(c.name, {a: (alias.get(who, who), value) for a, (who, value) in c.answers.items()})

    breakdowns = [Breakdown(b.name, {n: cell(g) for n, g in b.groups.items()}, b.whole) for b in family.breakdowns]
    return Family(cell(family.parent), breakdowns)


class _Plan:
    def __init__(self, families: list[Family], earlier: list[StoredCell], k: int) -> None:
        self.families, self.earlier, self.k = families, earlier, k
        self.on = [family.parent.respondents >= k for family in families]
        self.shown: dict[tuple[int, int], set[str]] = {}
        for f, family in enumerate(families):
            for b, breakdown in enumerate(family.breakdowns):
                enough = {name for name, cell in breakdown.groups.items() if cell.respondents >= k}
                whole = len(enough) == sum(1 for cell in breakdown.groups.values() if cell.answers)
                self.shown[(f, b)] = enough if whole or not breakdown.whole else set()
        self._derived: dict[tuple[int, int, frozenset[str]], list[Cell]] = {}
        self._verdicts: dict[tuple[int, int], bool] = {}

    def derived(self, f: int, b: int) -> list[Cell]:
        """The remainder and the shown groups together, for the groups shown now (memoised: the same objects)."""
        shown = frozenset(self.shown[(f, b)])
        key = (f, b, shown)
        if key not in self._derived:
            family, breakdown = self.families[f], self.families[f].breakdowns[b]
            groups = [breakdown.groups[name] for name in sorted(shown)]
            rest = family.parent.without(breakdown.name + OTHER, groups)
            cells = []
            if rest.answers:
                cells.append(rest)
                if len(groups) > 1:
                    cells.append(union(breakdown.name + SHOWN, groups))
            self._derived[key] = cells
        return self._derived[key]

    def cells(self) -> Iterator[tuple[Cell, _Owner]]:
        """Every cell released under the current decisions, in a fixed order."""
        for f, family in enumerate(self.families):
            if not self.on[f]:
                continue
            yield family.parent, _Owner(f)
            for b, breakdown in enumerate(family.breakdowns):
                if not self.shown[(f, b)]:
                    continue
                for name in sorted(self.shown[(f, b)]):
                    yield breakdown.groups[name], _Owner(f, b, name)
                for cell in self.derived(f, b):
                    yield cell, _Owner(f, b)

    def apart(self, a: Cell, basis: Basis, ids: frozenset[str], respondents: int) -> bool:
        """Whether ``a`` and another cell can be told apart safely: the same people's same answers, or at least k
        people's answers differing."""
        if abs(a.respondents - respondents) >= self.k or a.answer_ids.isdisjoint(ids):
            return True  # at least k people differ (both rest on at least k, and disjoint answers differ in all)
        return not 0 < differing(a.basis, basis) < self.k

    def problem(self) -> list[_Owner] | None:
        """The owners of the first broken rule, or None when every rule holds."""
        current = list(self.cells())
        for cell, owner in current:
            if cell.respondents < self.k:
                return [owner]
        for i, (cell, owner) in enumerate(current):
            for other, other_owner in current[i + 1 :]:
                key = (id(cell), id(other))
                if key not in self._verdicts:
                    self._verdicts[key] = self.apart(cell, other.basis, other.answer_ids, other.respondents)
                if not self._verdicts[key]:
                    return [owner, other_owner]
            for n, stored in enumerate(self.earlier):
                key = (id(cell), -1 - n)
                if key not in self._verdicts:
                    self._verdicts[key] = self.apart(cell, stored.basis, stored.answer_ids, stored.figure.respondents)
                if not self._verdicts[key]:
                    return [owner]
        return None

    def _victim(self, owner: _Owner) -> tuple[int, int, str]:
        """What withholding for ``owner`` loses: (rank, people, group to withhold); parents rank last."""
        if owner.breakdown < 0:
            return 1, self.families[owner.family].parent.respondents, ""
        breakdown = self.families[owner.family].breakdowns[owner.breakdown]
        shown = self.shown[(owner.family, owner.breakdown)]
        if breakdown.whole:
            return 0, sum(breakdown.groups[name].respondents for name in shown), ""
        name = owner.group or min(shown, key=lambda n: (breakdown.groups[n].respondents, n))
        return 0, breakdown.groups[name].respondents, name

    def withhold(self, owners: list[_Owner]) -> None:
        """Withhold what loses least among ``owners``."""
        costs = [(self._victim(owner), owner.family, owner.breakdown, owner.group, owner) for owner in owners]
        (rank, _, name), *_, owner = min(costs, key=lambda c: c[:4])
        if rank == 1:
            self.on[owner.family] = False
        elif name:
            self.shown[(owner.family, owner.breakdown)].discard(name)
        else:
            self.shown[(owner.family, owner.breakdown)] = set()


def disclose(families: list[Family], earlier: list[StoredCell], k: int) -> list[StoredCell]:
    """The cells of a release: every rule of the module holds among them and with every ``earlier`` cell.

    Pseudonyms that are one person (:func:`~bot.reports.aggregate.aliases`) are counted as one throughout."""
    cells = [family.parent for family in families]
    alias = aliases([cell.basis for cell in cells] + [cell.basis for cell in earlier])
    if alias:
        earlier = [StoredCell(cell.name, cell.figure, rename(cell.basis, alias)) for cell in earlier]
        families = [_renamed(family, alias) for family in families]
    plan = _Plan(families, earlier, k)
    while (owners := plan.problem()) is not None:
        plan.withhold(owners)
    return [StoredCell(name=cell.name, figure=cell.figure, basis=cell.basis) for cell, _ in plan.cells()]

"""The reporting-line rule's walk up the manager chain (plain Python: the chat path needs it without NumPy)."""

from __future__ import annotations


def levels_below(managers: dict[int, int | None], upper: int, lower: int) -> int | None:
    """How many levels ``lower`` reports below ``upper``, walking up the manager chain (None: not below)."""
    seen = {lower}
    boss, levels = managers.get(lower), 1
    while boss is not None and boss not in seen:
        if boss == upper:
            return levels
        seen.add(boss)
        boss, levels = managers.get(boss), levels + 1
    return None


def within_reach(levels: int, reach: int) -> bool:
    """Whether someone ``levels`` below a person is inside that person's reporting-line exclusion."""
    return reach <= 0 or levels <= reach

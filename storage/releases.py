"""Released figures and the pseudonyms their bases are written in (see ``bot.reports.releases``)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, delete
from sqlalchemy import select as core_select

from bot.reports.aggregate import Basis, Figure, Release, StoredCell
from storage.repositories import _Repo
from storage.sql import col, insert_many_ignoring_duplicates, select, table
from storage.tables import FigureContributorRow, FigureReleaseRow, ReleasedCellRow

_CONTRIBUTORS = table(FigureContributorRow)
_TOKENS = core_select(_CONTRIBUTORS.c.person_id, _CONTRIBUTORS.c.token).where(
    _CONTRIBUTORS.c.programme_id == bindparam("programme_id"), _CONTRIBUTORS.c.scope == bindparam("scope")
)
"""A programme's pseudonyms in one scope, by person (a Core read: thousands of rows)."""

CELL_LENGTH = 255


def cell_key(cell: str) -> str:
    """The cell as stored: a very long name (a long department name) keeps its start and gains a digest."""
    if len(cell) <= CELL_LENGTH:
        return cell
    return f"{cell[: CELL_LENGTH - 17]}#{hashlib.sha256(cell.encode()).hexdigest()[:16]}"


class FiguresRepo(_Repo):
    """Releases of a programme's figures, each cell with its basis, and the pseudonyms of the people behind them."""

    def releases(self, programme_id: int, with_bases: bool = False) -> list[Release]:
        rows = list(
            self.session.exec(
                select(FigureReleaseRow)
                .where(FigureReleaseRow.programme_id == programme_id)
                .order_by(col(FigureReleaseRow.cutoff))
            )
        )
        ids = [row.id for row in rows]
        cells: dict[int, dict[str, StoredCell]] = {release_id: {} for release_id in ids if release_id is not None}
        figures = self.session.exec(
            select(
                ReleasedCellRow.release_id, ReleasedCellRow.cell, ReleasedCellRow.respondents, ReleasedCellRow.mean
            ).where(col(ReleasedCellRow.release_id).in_(ids))
        )
        for release_id, cell, respondents, mean in figures:
            cells[release_id][cell] = StoredCell(cell, Figure(respondents=respondents, mean=mean))
        if with_bases:
            query = select(ReleasedCellRow.release_id, ReleasedCellRow.cell, ReleasedCellRow.basis).where(
                col(ReleasedCellRow.release_id).in_(ids)
            )
            for release_id, cell, basis in self.session.exec(query):
                stored = cells[release_id][cell]
                people = {who: frozenset(answers) for who, answers in basis.items()}
                cells[release_id][cell] = StoredCell(cell, stored.figure, people)
        return [
            Release(period=row.period, cutoff=row.cutoff, released_at=row.released_at, cells=cells[row.id])
            for row in rows
            if row.id is not None
        ]

    def bases(self, programme_id: int, cells: Mapping[str, datetime]) -> dict[str, Basis]:
        wanted = {(cutoff, cell_key(name)): name for name, cutoff in cells.items()}
        if not wanted:
            return {}
        query = (
            select(FigureReleaseRow.cutoff, ReleasedCellRow.cell, ReleasedCellRow.basis)
            .where(
                FigureReleaseRow.programme_id == programme_id, col(FigureReleaseRow.id) == ReleasedCellRow.release_id
            )
            .where(col(ReleasedCellRow.cell).in_({cell for _, cell in wanted}))
        )
        found: dict[str, Basis] = {}
        for cutoff, cell, basis in self.session.exec(query):
            if (cutoff, cell) in wanted:
                found[wanted[(cutoff, cell)]] = {who: frozenset(answers) for who, answers in basis.items()}
        return found

    def record(self, programme_id: int, release: Release) -> None:
        row = FigureReleaseRow(
            programme_id=programme_id, period=release.period, cutoff=release.cutoff, released_at=release.released_at
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        for cell in release.cells.values():
            self.session.add(
                ReleasedCellRow(
                    release_id=row.id,
                    cell=cell_key(cell.name),
                    respondents=cell.figure.respondents,
                    mean=cell.figure.mean,
                    basis={who: sorted(answers) for who, answers in sorted(cell.basis.items())},
                )
            )
        self.session.flush()

    def pseudonyms(self, programme_id: int, scope: str, person_ids: Collection[int]) -> dict[int, str]:
        def known() -> dict[int, str]:
            rows = self.session.execute(_TOKENS, {"programme_id": programme_id, "scope": scope})
            return dict(cast(Any, rows.all()))

        tokens = known()
        missing = [pid for pid in person_ids if pid not in tokens]
        rows = [
            {"programme_id": programme_id, "person_id": pid, "scope": scope, "token": secrets.token_hex(8)}
            for pid in missing
        ]
        insert_many_ignoring_duplicates(
            self.session, FigureContributorRow, rows, ["programme_id", "person_id", "scope"]
        )
        return known() if missing else tokens

    def forget(self, person_id: int) -> None:
        self.session.execute(delete(FigureContributorRow).where(col(FigureContributorRow.person_id) == person_id))
        self.session.flush()

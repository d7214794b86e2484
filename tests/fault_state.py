"""Two stores compared table by table: every row, without row ids and times, which legitimately differ."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, text

from storage.store import SqlStore

TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")
FAKE_URL = re.compile(r"http://127\.0\.0\.1:\d+")
"""Each side has its own fake platform, on its own port."""
PSEUDONYM = re.compile(r"\b[0-9a-f]{16}\b")
"""Random pseudonyms behind released figures (``figure_contributor.token``) differ between two runs, like ids."""
VOLATILE_COLUMNS = {"id", "at", "as_of", "not_before"}
"""Besides every ``*_at`` column: row ids and times legitimately differ between two runs."""


def plain(value: Any) -> Any:
    """A value with times replaced by ``<time>`` and the fake's address by ``<fake>`` (also inside JSON)."""
    if isinstance(value, datetime):
        return "<time>"
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return plain(json.loads(value))
            except ValueError:
                pass
        return PSEUDONYM.sub("<pseudonym>", FAKE_URL.sub("<fake>", TIME.sub("<time>", value)))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dump(store: SqlStore) -> dict[str, list[str]]:
    """Every table's rows, normalised (no ids, no times) and sorted, by table."""
    found = {}
    with store.engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            if table == "alembic_version":
                continue
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            found[table] = sorted(
                json.dumps(
                    plain({k: v for k, v in row.items() if k not in VOLATILE_COLUMNS and not k.endswith("_at")}),
                    sort_keys=True,
                    default=str,
                )
                for row in rows
            )
    return found


def differences(once: dict[str, list[str]], four: dict[str, list[str]]) -> list[str]:
    """What differs between two dumps: per table, the row counts, else the first differing row."""
    problems = []
    for table in sorted(set(once) | set(four)):
        a, b = once.get(table, []), four.get(table, [])
        if len(a) != len(b):
            problems.append(f"{table}: {len(a)} row(s) after one delivery, {len(b)} after four")
        elif a != b:
            first = next(n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            problems.append(f"{table}: row differs\n  once: {a[first][:600]}\n  four: {b[first][:600]}")
    return problems

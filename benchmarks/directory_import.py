"""Time the HR directory import: parse and write 10,000 people with a deep management tree.

Run: ``.venv/bin/python benchmarks/directory_import.py [--rows N]``. Measures a fresh SQLite file,
and PostgreSQL too when TEST_DATABASE_URL is set (in a private schema, dropped afterwards).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.directory import DirectoryRow, parse_directory  # noqa: E402
from bot.services.directory import DirectoryService, ImportSummary  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.store import SqlStore  # noqa: E402

ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
]
DEPARTMENTS = ["Engineering", "Marketing", "Sales", "People", "Finance", "Operations", "Customer Success"]
CHAIN = 400
"""The first people form one long reporting chain, so the tree is deep as well as wide."""


def organisation(rows: int, seed: int = 7) -> list[dict[str, Any]]:
    """A synthetic organisation: a chain of CHAIN managers, then a tree of fan-out 4, shuffled."""
    rng = random.Random(seed)
    people = []
    for index in range(rows):
        if index == 0:
            manager = None
        elif index < CHAIN:
            manager = index - 1
        else:
            manager = rng.randrange(max(1, (index - CHAIN) // 4), index)
        people.append(
            {
                "email": f"person{index:05d}@example.com",
                "name": f"Person {index}",
                "title": "Engineer",
                "seniority": max(1, 9 - index * 9 // rows),
                "department": rng.choice(DEPARTMENTS),
                "division": "Division " + "ABC"[index % 3],
                "location": "Office",
                "time_zone": rng.choice(ZONES),
                "working_hours": "09:00-17:30",
                "manager_email": f"person{manager:05d}@example.com" if manager is not None else "",
                "gender": rng.choice(["woman", "man", "non-binary", ""]),
                "slack_user_id": f"U{index:07d}",
                "teams_user_id": "",
            }
        )
    rng.shuffle(people)
    return people


def write_csv(path: Path, people: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(people[0]))
        writer.writeheader()
        writer.writerows(people)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def existing_managers(store: SqlStore, tenant: int) -> dict[str, str | None]:
    with store.unit_of_work() as uow:
        return DirectoryService.of(uow).existing_managers(tenant)


def import_directory(store: SqlStore, tenant: int, rows: list[DirectoryRow]) -> ImportSummary:
    """One import in one transaction, as ``rmbot directory import`` runs it."""
    with store.unit_of_work() as uow:
        found = uow.tenants.get(tenant)
        assert found is not None
        return DirectoryService.of(uow).import_directory(found, rows, store.now())


def line(label: str, what: str, seconds: float, summary: Any = "") -> None:
    print(f"{label:<11} {what:<42} {seconds:7.3f} s  {summary}")


def run(label: str, store: SqlStore, path: Path, changed_path: Path) -> None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console").id
    text_in = path.read_text(encoding="utf-8")
    seconds, parsed = timed(lambda: parse_directory(text_in, existing_managers(store, tenant)))
    assert not parsed.errors, parsed.errors[:5]
    line(label, f"parse {len(parsed.rows)} rows (with existing_managers)", seconds)
    seconds, summary = timed(lambda: import_directory(store, tenant, parsed.rows))
    line(label, "import into an empty directory", seconds, summary)
    seconds, summary = timed(lambda: import_directory(store, tenant, parsed.rows))
    line(label, "re-import, nothing changed", seconds, summary)
    changed = parse_directory(changed_path.read_text(encoding="utf-8"), existing_managers(store, tenant))
    assert not changed.errors, changed.errors[:5]
    seconds, summary = timed(lambda: import_directory(store, tenant, changed.rows))
    line(label, "re-import, every row changed", seconds, summary)


@contextmanager
def postgres_store(url: str) -> Iterator[SqlStore]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = SqlStore.open(url, schema=schema)
    try:
        yield store
    finally:
        store.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    """Generate the organisation, then time parse and import on each available database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    people = organisation(rows)
    changed = [dict(person, title="Senior Engineer", slack_user_id=person["slack_user_id"] + "X") for person in people]
    with tempfile.TemporaryDirectory() as folder:
        path, changed_path = Path(folder) / "organisation.csv", Path(folder) / "changed.csv"
        write_csv(path, people)
        write_csv(changed_path, changed)
        print(f"{rows} people, reporting chain {min(CHAIN, rows)} deep, file {path.stat().st_size // 1024} KiB")
        seconds, parsed = timed(lambda: parse_directory(path.read_text(encoding="utf-8"), {}))
        line("-", "parse only (no database)", seconds)
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            run("sqlite", store, path, changed_path)
        finally:
            store.close()
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            with postgres_store(url) as pg:
                run("postgresql", pg, path, changed_path)
        else:
            print("postgresql: skipped (TEST_DATABASE_URL is not set)")


if __name__ == "__main__":
    main()

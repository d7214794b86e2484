"""Fuzzing the CSV imports an operator runs: ``rmbot directory import`` and ``rmbot participants import``.

Hypothesis writes the file: random text in any column, columns missing, unknown or repeated, rows too
short or too long, bad emails, unknown managers, cycles in the management chain, duplicate emails, a
BOM, other encodings, CRLF line ends, semicolons. Whatever the file, the command either imports it and
says how many people it took, or names each bad row (``line N: …``) and writes nothing at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

import adapters.wiring
from adapters.cli import app as rmbot
from bot.commands.programmes import new_programme
from bot.domain import NewPerson
from bot.intake_flow import topic_tags
from storage.store import SqlStore
from storage.tables import ParticipantRow, PersonIdentityRow, PersonRow

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PEOPLE = ["ana@example.com", "bo@example.com", "cy@example.com", "di@example.com", "ed@example.com"]
EXISTING = "boss@example.com"
CHAOS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "not-an-email",
            "x@y",
            "a@b@c.com",
            "-3",
            "1e3",
            "99999999999999999999",
            "\u00b2",
            "\u0663",
            "Mars/Base",
            "17:00-09:00",
            "25:00-26:00",
            "=cmd|' /C calc'!A0",
            "\u0000",
            "a\nb",
            'say "hi"',
            "x" * 300,
            "mentor;mentee",
            "ghost@nowhere.example",
            "MENTOR",
            "0",
            "21",
            "every fortnight",
            "365d",
        ]
    ),
)


def cell(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly a plausible value, sometimes anything at all."""
    return st.one_of(good, good, good, CHAOS)


@st.composite
def csv_bytes(draw: st.DrawFn, columns: dict[str, st.SearchStrategy[str]], required: tuple[str, ...]) -> bytes:
    """A CSV file as someone's spreadsheet might save it (a third of them tidy: likely to import)."""
    tidy = draw(st.integers(0, 2)) == 0
    names = [c for c in required if tidy or draw(st.integers(0, 19)) > 0]  # a required column is sometimes missing
    names += draw(st.lists(st.sampled_from([c for c in columns if c not in required]), unique=True, max_size=6))
    if not tidy:
        names += draw(st.lists(st.sampled_from(["notes", "favourite colour", "", "email"]), max_size=2))
    names = draw(st.permutations(names))
    shown = [draw(st.sampled_from([n, n.upper(), n.replace("_", " "), f" {n} "])) for n in names]
    emails = draw(st.permutations(PEOPLE))
    rows = []
    for number in range(draw(st.integers(0 if not tidy else 1, len(PEOPLE) if tidy else 7))):
        if tidy:
            rows.append([emails[number] if n == "email" else draw(columns[n]) for n in names])
            continue
        cells = [draw(cell(columns[n]) if n in columns else CHAOS) for n in names]
        cut = draw(st.sampled_from([len(cells)] * 6 + [max(0, len(cells) - 2), len(cells) + 2]))
        rows.append((cells + ["extra"] * cut)[:cut])
    out = io.StringIO()
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(shown)
    writer.writerows(rows)
    text = out.getvalue() + draw(st.sampled_from(["", "\n", "\n\n,,,\n"]))
    encodings = ["utf-8", "utf-8-sig"] if tidy else ["utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]
    return text.encode(draw(st.sampled_from(encodings)), errors="replace")


DIRECTORY_COLUMNS = {
    "email": st.sampled_from(PEOPLE),
    "name": st.sampled_from(["Ana", "Bo Li", "Zo\u00eb \u00dcnal", "O'Neil, Jr."]),
    "seniority": st.integers(0, 10).map(str),
    "title": st.sampled_from(["", "Analyst", "VP"]),
    "department": st.sampled_from(["", "IT"]),
    "division": st.just(""),
    "location": st.sampled_from(["", "Leeds"]),
    "time_zone": st.sampled_from(["", "UTC", "Europe/London", "america/new_york"]),
    "working_hours": st.sampled_from(["", "09:00-17:00", "8:30-16:30"]),
    "manager_email": st.sampled_from(["", EXISTING, *PEOPLE]),
    "gender": st.sampled_from(["", "f", "m", "x"]),
    "slack_user_id": st.sampled_from(["", "U1", "U2"]),
    "teams_user_id": st.sampled_from(["", "t-1", "t-2"]),
}


class Borrowed:
    """The test's store lent to a command that closes what it opens."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:
        pass


def snapshot(store: SqlStore) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.unit_of_work() as uow:
        people = uow.session.execute(
            select(
                PersonRow.email,
                PersonRow.name,
                PersonRow.seniority,
                PersonRow.manager_id,
                PersonRow.time_zone,
                PersonRow.working_hours,
                PersonRow.left_at,
            ).order_by(PersonRow.id)
        ).all()
        identities = uow.session.execute(
            select(PersonIdentityRow.person_id, PersonIdentityRow.external_id).order_by(PersonIdentityRow.id)
        ).all()
        participants = uow.session.execute(
            select(
                ParticipantRow.person_id, ParticipantRow.role, ParticipantRow.capacity, ParticipantRow.intake
            ).order_by(ParticipantRow.id)
        ).all()
    return [tuple(r) for r in people], [tuple(r) for r in identities], [tuple(r) for r in participants]


def count(store: SqlStore, table: Any) -> int:
    with store.unit_of_work() as uow:
        return uow.session.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def seeded(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    """The console tenant with one person already in the directory and a programme; commands use ``store``."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        boss = uow.people.add(NewPerson(tenant_id=tenant.id, name="Boss", email=EXISTING, seniority=9))
        for email in PEOPLE:
            uow.people.add(NewPerson(tenant_id=tenant.id, name=email.split("@")[0], email=email, seniority=3))
        new_programme(uow, tenant.id, "Digital 2030", coordinator_id=boss.id)
    # the commands import the wiring's open_store when they run (`rmbot --help` imports no store)
    monkeypatch.setattr(adapters.wiring, "open_store", lambda settings: Borrowed(store))
    return store


def line_ends(content: bytes) -> int:
    """Line ends in a file, as a spreadsheet or editor counts them (LF, CRLF, or a lone CR of old Macs)."""
    return len(re.findall(rb"\r\n|\r|\n", content))


def check_refusal(output: str, text_lines: int) -> None:
    """Every problem is on its own line, names the line of the file, and says what is wrong."""
    problems = [line for line in output.splitlines() if line.startswith("line ")]
    assert problems, output
    for problem in problems:
        found = re.match(r"line (\d+): (.+)$", problem)
        assert found and 1 <= int(found.group(1)) <= text_lines + 1 and found.group(2).strip(), problem
    assert "Traceback" not in output


@FUZZ
@given(content=csv_bytes(DIRECTORY_COLUMNS, ("email", "name", "seniority")))
@example(content=b"email,name,seniority\nana@example.com,Ana,99999999999999999999\n")
@example(
    content=b"email,name,seniority,manager_email\nana@example.com,Ana,2,bo@example.com\n"
    b"bo@example.com,Bo,3,ana@example.com\n"
)
@example(content=codecs.BOM_UTF8 + b"Email;Name;Seniority\r\nana@example.com;Ana;2\r\n")
@example(content=b"email,name,seniority,title,notes\nana@example.com,Ana,0,,\r,\n")  # a stray CR in a cell
@example(content=b"email,name,title,seniority\n\r,Ana,\r,0,\n")
@example(content=b"email,name,seniority\nana@example.com,\x00,0\n")  # a NUL: PostgreSQL stores no such text
def test_any_directory_file_is_imported_whole_or_refused_row_by_row(
    seeded: SqlStore, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    before = snapshot(seeded)
    people_before = count(seeded, PersonRow)
    result = CliRunner().invoke(rmbot, ["directory", "import", str(path)])
    assert isinstance(result.exception, (SystemExit, type(None))), (result.exception, result.output)
    assert result.exit_code in (0, 1, 2), result.output
    event(f"exit code {result.exit_code}")
    if result.exit_code == 0:
        summary = re.search(r"(\d+) new, (\d+) updated, (\d+) unchanged", result.stdout)
        assert summary, result.stdout
        assert count(seeded, PersonRow) == people_before + int(summary.group(1))
        return
    assert snapshot(seeded) == before, result.stderr  # nothing written
    if result.exit_code == 2:
        assert "is not UTF-8 text" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    else:
        check_refusal(result.stderr, line_ends(content))
        assert "nothing was imported" in result.stderr


TAGS = sorted(tag["value"] for tag in topic_tags())
PARTICIPANT_COLUMNS = {
    "email": st.sampled_from([*PEOPLE, EXISTING, "ghost@example.com"]),
    "role": st.sampled_from(["mentor", "mentee", "Mentor"]),
    "capacity": st.sampled_from(["", "1", "2", "3"]),
    "can_teach": st.lists(st.sampled_from(TAGS), max_size=3).map(";".join),
    "want_to_learn": st.lists(st.sampled_from(TAGS), max_size=3).map(";".join),
    "cadence": st.sampled_from(["", "2w", "weekly", "monthly"]),
    "working_hours": st.sampled_from(["", "09:00-17:00"]),
    "rankings": st.just("") | st.lists(st.sampled_from(PEOPLE), max_size=2).map(";".join),
}


@FUZZ
@given(content=csv_bytes(PARTICIPANT_COLUMNS, ("email", "role")))
@example(content=b"email,role\nana@example.com,mentor,surplus cell\n")
@example(content="email,role,capacity\nana@example.com,mentor,\u00b2\n".encode())
@example(content=codecs.BOM_UTF8 + b"email,role\r\nana@example.com,mentee\r\n")
def test_any_participants_file_is_imported_whole_or_refused_row_by_row(
    seeded: SqlStore, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "participants.csv"
    path.write_bytes(content)
    before = snapshot(seeded)
    participants_before = count(seeded, ParticipantRow)
    result = CliRunner().invoke(rmbot, ["participants", "import", "digital-2030", str(path)])
    assert isinstance(result.exception, (SystemExit, type(None))), (result.exception, result.output)
    event(f"exit code {result.exit_code}")
    if result.exit_code == 0:
        summary = re.search(r"Imported (\d+) new and (\d+) updated", result.stdout)
        assert summary, result.stdout
        assert count(seeded, ParticipantRow) == participants_before + int(summary.group(1))
        return
    assert snapshot(seeded) == before, result.stderr  # nothing written
    if result.exit_code == 2:
        assert "Cannot read" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    else:
        assert result.exit_code == 1, result.output
        check_refusal(result.stderr, line_ends(content))
        assert "nothing was imported" in result.stderr

"""The HR directory as a CSV file: parse and validate it before anything is written, and who it says left.

Pure and platform-neutral: text in, validated rows and row errors out. ``bot/services/directory.py``
imports what this module accepts; an import with any error writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.directory_columns import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from bot.ports import DirectoryEntry
from bot.seniority import SeniorityMap
from bot.values import ValueProblem, parse_time_zone, parse_working_hours
from bot.wording import say, unescape

LEFT_JOB = "left_organisation"
"""The scheduled job a directory import adds for each person it no longer lists: their participation ends."""
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_WORKING_HOURS = "09:00-17:00"

# Column widths of the ``person`` and ``person_identity`` tables: longer values are refused here.
MAX_LENGTH = {
    "email": 254,
    "name": 200,
    "title": 200,
    "department": 200,
    "division": 200,
    "location": 200,
    "gender": 100,
    "slack_user_id": 128,
    "teams_user_id": 128,
}
IDENTITY_COLUMNS = {"slack_user_id": "slack", "teams_user_id": "teams"}
DIRECTORY_FIELDS = (
    "name",
    "title",
    "seniority",
    "department",
    "division",
    "location",
    "time_zone",
    "working_hours",
    "gender",
)
"""The person's fields an import sets from the file (besides the email and the manager)."""
MAX_SENIORITY = 1000

_EMAIL = re.compile(r"[^\s@,;<>()\[\]\"]+@[^\s@,;<>()\[\]\".]+(?:\.[^\s@,;<>()\[\]\".]+)+")
_SENIORITY = re.compile(r"[+-]?\d+")
_CHAIN_SHOWN = 8
_WHY_EMPTY = "why empty:"
"""Key prefix under which a source's row carries why a required value is empty (e.g. no seniority mapping)."""


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    """One valid person from the file, normalised (email lower-cased, defaults filled in)."""

    email: str
    name: str
    seniority: int
    title: str = ""
    department: str = ""
    division: str = ""
    location: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    working_hours: str = DEFAULT_WORKING_HOURS
    manager_email: str | None = None
    gender: str | None = None
    slack_user_id: str | None = None
    teams_user_id: str | None = None
    line: int = 0
    """Where the person is in the file (the header is line 1)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem on one physical line of the file (the header is line 1)."""

    line: int
    email: str
    reason: str


@dataclass(slots=True)
class DirectoryParse:
    """What a file holds: the valid rows, and every problem found (sorted by line)."""

    rows: list[DirectoryRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file may be imported."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class Departures:
    """Who an import finds gone from the organisation, and who it finds back (person ids, ascending)."""

    left: list[int]
    back: list[int]


def departures(current: Mapping[str, DirectoryEntry], listed: Collection[str]) -> Departures:
    """The directory is a full snapshot: someone it no longer lists has left the organisation (noted once: who
    left before keeps that date), and someone it lists again after they left is back.

    ``current`` is the directory before the import by lower-cased email, ``listed`` the emails of the file."""
    left = sorted(entry.id for email, entry in current.items() if email not in listed and entry.left_at is None)
    back = sorted(entry.id for email, entry in current.items() if email in listed and entry.left_at is not None)
    return Departures(left=left, back=back)


def _plain(key: str, **values: Any) -> str:
    """A reason as plain text (the catalogue renders neutral markdown)."""
    return unescape(say(f"directory.{key}", **values))


def _column_name(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def _delimiter(text: str) -> str:
    """Comma, or the semicolon or tab of a spreadsheet export when the header line has no comma."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," in header:
        return ","
    return max((";", "\t"), key=header.count) if (";" in header or "\t" in header) else ","


class Unreadable(Exception):
    """The file stops being CSV at ``line`` (a quote never closed, a cell over the csv module's limit)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(first physical line, cells) of every non-blank CSV record; line ends may be LF, CRLF or CR."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=_delimiter(text[:4096]))
    previous = 0
    found = []
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                found.append((start, cells))
    except csv.Error as problem:
        raise Unreadable(reader.line_num or 1, str(problem)) from None
    return found


def parse_directory(text: str, existing: Mapping[str, str | None]) -> DirectoryParse:
    """Parse and validate an HR directory CSV.

    ``existing`` maps the lower-cased emails already in the tenant's directory to their manager's
    email (or None): managers may be named from there, and cycles through them are detected.
    """
    text = text.lstrip("\ufeff")
    result = DirectoryParse()
    try:
        records = iter(_records(text))
    except Unreadable as problem:
        result.errors.append(RowError(problem.line, "", _plain("unreadable", reason=problem.reason)))
        return result
    header = next(records, None)
    if header is None:
        result.errors.append(RowError(1, "", _plain("empty_file")))
        return result
    header_line, header_cells = header
    columns: dict[str, int] = {}
    for position, cell in enumerate(header_cells):
        columns.setdefault(_column_name(cell), position)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        found = ", ".join(cell.strip() for cell in header_cells if cell.strip()) or "-"
        result.errors.append(
            RowError(
                header_line, "", _plain("missing_columns", columns=", ".join(missing), count=len(missing), found=found)
            )
        )
        return result
    wanted = [(name, columns[name]) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if name in columns]

    def values() -> Iterator[tuple[int, dict[str, str]]]:
        for line, cells in records:
            width = len(cells)
            yield line, {name: cells[pos].strip() if pos < width else "" for name, pos in wanted}

    return _validate(values(), existing, header_line, result)


def parse_rows(
    rows: Iterable[Mapping[str, str]],
    existing: Mapping[str, str | None],
    seniority: SeniorityMap | None = None,
    source: str = "",
) -> DirectoryParse:
    """Validate people a directory source listed (rows in the CSV's columns, as ``rmbot directory sync`` reads
    them) exactly as :func:`parse_directory` validates a file's rows. A row's "line" is its position (from 1).

    A row without a seniority gets the level ``seniority`` (the operator's mapping) derives; a row's own value
    wins. A row left without one is an error naming why (``source`` names where the rows came from)."""

    def numbered() -> Iterator[tuple[int, dict[str, str]]]:
        for position, row in enumerate(rows, start=1):
            v = {name: str(row.get(name) or "").strip() for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
            if not v["seniority"]:
                if seniority is None:
                    v[_WHY_EMPTY + "seniority"] = unescape(say("directory_sync.seniority_no_mapping", source=source))
                else:
                    v["seniority"], v[_WHY_EMPTY + "seniority"] = seniority.seniority(row)
            yield position, v

    return _validate(numbered(), existing, 0, DirectoryParse())


def _validate(
    records: Iterable[tuple[int, dict[str, str]]],
    existing: Mapping[str, str | None],
    header_line: int,
    result: DirectoryParse,
) -> DirectoryParse:
    """The checks every person gets, from a file or a source: all rows are checked, and any error refuses all."""

    first_line: dict[str, int] = {}  # email -> line of its first (kept) occurrence
    stated_manager: dict[str, str | None] = {}  # email -> manager email as the file states it
    identity_owner: dict[tuple[str, str], tuple[str, int]] = {}
    candidates: list[tuple[int, DirectoryRow | None]] = []
    errors = result.errors
    seen_any = False

    for line, v in records:
        seen_any = True
        for name in OPTIONAL_COLUMNS:
            v.setdefault(name, "")
        raw_email = v["email"]
        email = raw_email.lower()
        problems: list[str] = []

        for name in ("email", "name", "seniority"):
            if not v[name]:
                problems.append(v.get(_WHY_EMPTY + name) or _plain("missing_field", field=name))
        for name, limit in MAX_LENGTH.items():
            if len(v[name]) > limit:
                problems.append(_plain("too_long", field=name, length=len(v[name]), limit=limit))
            if "\x00" in v[name]:  # no database stores it, and no person's name or title holds one
                problems.append(_plain("nul_character", field=name))

        if email and not _EMAIL.fullmatch(email):
            problems.append(_plain("malformed_email", email=raw_email))
            email_ok = False
        else:
            email_ok = bool(email)
        if email_ok and email in first_line:
            errors.append(RowError(line, email, _plain("duplicate_email", email=email, first_line=first_line[email])))
            continue

        seniority = 0
        if v["seniority"]:
            if not _SENIORITY.fullmatch(v["seniority"]):
                problems.append(_plain("seniority_not_number", value=v["seniority"]))
            else:
                seniority = int(v["seniority"])
                if seniority < 0:
                    problems.append(_plain("seniority_negative", value=seniority))
                elif seniority > MAX_SENIORITY:
                    problems.append(_plain("seniority_too_high", value=v["seniority"], limit=MAX_SENIORITY))

        zone = DEFAULT_TIME_ZONE
        if v["time_zone"]:
            try:
                zone = parse_time_zone(v["time_zone"])
            except ValueProblem as problem:
                problems.append(
                    _plain("unknown_time_zone", value=v["time_zone"], suggestion=problem.values["suggestion"])
                )

        hours = DEFAULT_WORKING_HOURS
        if v["working_hours"]:
            try:
                hours = parse_working_hours(v["working_hours"])
            except ValueProblem as problem:
                key = "working_hours_backwards" if problem.key == "input.working_hours_order" else "bad_working_hours"
                problems.append(_plain(key, value=v["working_hours"]))

        manager = v["manager_email"].lower() or None
        if manager is not None:
            if not _EMAIL.fullmatch(manager):
                problems.append(_plain("malformed_manager_email", manager=v["manager_email"]))
                manager = None
            elif manager == email:
                problems.append(_plain("manager_is_self"))
                manager = None

        for column, platform in IDENTITY_COLUMNS.items():
            value = v[column]
            if value:
                owner = identity_owner.setdefault((platform, value), (email or raw_email, line))
                if owner[1] != line:
                    problems.append(
                        _plain(
                            "duplicate_identity", platform=platform, value=value, other=owner[0], first_line=owner[1]
                        )
                    )

        if email_ok:
            first_line[email] = line
            stated_manager[email] = manager
        errors.extend(RowError(line, email, reason) for reason in problems)
        row = None
        if not problems:
            row = DirectoryRow(
                line=line,
                email=email,
                name=v["name"],
                seniority=seniority,
                title=v["title"],
                department=v["department"],
                division=v["division"],
                location=v["location"],
                time_zone=zone or DEFAULT_TIME_ZONE,
                working_hours=hours or DEFAULT_WORKING_HOURS,
                manager_email=manager,
                gender=v["gender"] or None,
                slack_user_id=v["slack_user_id"] or None,
                teams_user_id=v["teams_user_id"] or None,
            )
        candidates.append((line, row))

    if not seen_any:
        errors.append(RowError(header_line, "", _plain("no_people")))
        return result

    known = {key.lower(): (value.lower() if value else None) for key, value in existing.items()}
    _check_managers(first_line, stated_manager, known, errors)
    refused = {error.line for error in errors}
    result.rows = [row for line, row in candidates if row is not None and line not in refused]
    errors.sort(key=lambda error: error.line)
    return result


def _check_managers(
    first_line: dict[str, int], stated: dict[str, str | None], known: dict[str, str | None], errors: list[RowError]
) -> None:
    """Report unknown managers, and every file row on a cycle of the management chain."""
    chain_of = dict(known)
    for email, manager in stated.items():
        if manager is not None and manager not in stated and manager not in known:
            line = first_line[email]
            errors.append(RowError(line, email, _plain("unknown_manager", manager=manager)))
            chain_of[email] = None
        else:
            chain_of[email] = manager

    done: set[str] = set()
    for start in stated:
        if start in done:
            continue
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = chain_of.get(node)
        if node is not None and node in position:
            cycle = path[position[node] :]
            for index, member in enumerate(cycle):
                if member in stated:
                    line = first_line[member]
                    chain = _chain(cycle[index:] + cycle[:index])
                    errors.append(RowError(line, member, _plain("manager_cycle", chain=chain)))
        done.update(path)


def _chain(cycle: list[str]) -> str:
    """``a -> b -> a``, shortened in the middle for very long cycles."""
    if len(cycle) > _CHAIN_SHOWN:
        shown = cycle[: _CHAIN_SHOWN - 2] + [f"... ({len(cycle) - _CHAIN_SHOWN + 1} more)", cycle[-1]]
    else:
        shown = list(cycle)
    return " -> ".join(shown + [cycle[0]])

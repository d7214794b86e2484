"""The operator's managers file for directory sync from Slack: who reports to whom, where Slack does not say.

A CSV file with the columns ``email`` and ``manager_email`` (other columns are ignored; headers are matched
without regard to case or surrounding spaces). It is read whole before anything is applied: an unreadable
file, a missing column or a bad line raises :class:`SourceError` naming the file and the line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from adapters.directory_sync.sources import SourceError
from bot.values import is_email
from bot.wording import say, unescape

COLUMNS = ("email", "manager_email")


def _plain(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sources.{key}", **values))


def read_managers(path: str) -> dict[str, str]:
    """Email -> manager email (both lower-cased) from the managers CSV at ``path``; an empty manager is left out."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SourceError(_plain("managers_unreadable", file=path, reason=reason)) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    columns = {cell.strip().lower(): index for index, cell in enumerate(header)}
    if any(name not in columns for name in COLUMNS):
        found = ", ".join(cell.strip() for cell in header if cell.strip()) or "-"
        raise SourceError(_plain("managers_columns", file=path, found=found))
    managers: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        email, manager = (row[columns[name]].strip() if columns[name] < len(row) else "" for name in COLUMNS)
        problem = _problem(email, manager, first_line)
        if problem:
            raise SourceError(_plain("managers_row", file=path, line=line, reason=problem))
        first_line[email.lower()] = line
        if manager:
            managers[email.lower()] = manager.lower()
    return managers


def _problem(email: str, manager: str, first_line: dict[str, int]) -> str:
    """What is wrong with one line of the managers file, or ""."""
    if not is_email(email):
        return _plain("managers_not_email", given=email)
    if manager and not is_email(manager):
        return _plain("managers_not_email", given=manager)
    if email.lower() in first_line:
        return _plain("managers_twice", email=email, first=first_line[email.lower()])
    if manager.lower() == email.lower():
        return _plain("managers_self", email=email)
    return ""

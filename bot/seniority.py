"""Seniority for directory sources that have none (Entra ID, Google Workspace, Slack): the operator's mapping.

The mapping (``RMBOT_SENIORITY_MAP``, a YAML file the adapter reads) lists job-title patterns in order, an
optional grade attribute with a grade -> level table, and an optional default. A row's own seniority always
wins; then the grade; then the first title pattern that matches; then the default. Pure: data in, levels out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.wording import say, unescape

MAX_LEVEL = 1000
GRADE_KEY = "grade"
"""The row key a source puts the grade attribute's value under (an extra column, not one of the CSV's)."""


class MappingProblem(ValueError):
    """The mapping file is not usable; ``str()`` says why, in one line."""


def _plain(message: str, **values: Any) -> str:
    return unescape(say(f"directory_sync.{message}", **values))


@dataclass(frozen=True)
class SeniorityMap:
    """Ordered title patterns, an optional grade table, and an optional default level."""

    titles: tuple[tuple[re.Pattern[str], int], ...] = ()
    grade_attribute: str = ""
    grades: Mapping[str, int] = field(default_factory=dict)
    default: int | None = None

    def level(self, row: Mapping[str, str]) -> int | None:
        """The level the mapping gives this row (its own seniority is not looked at), or None."""
        grade = (row.get(GRADE_KEY) or "").strip()
        if self.grade_attribute and grade:
            found = self.grades.get(grade.lower())
            if found is not None:
                return found
        title = (row.get("title") or "").strip()
        for pattern, level in self.titles:
            if title and pattern.search(title):
                return level
        return self.default

    def seniority(self, row: Mapping[str, str]) -> tuple[str, str]:
        """(seniority, problem): the row's own seniority if it has one, else the derived level; when neither
        exists, an empty seniority and the reason, naming the title and grade that matched nothing."""
        own = (row.get("seniority") or "").strip()
        if own:
            return own, ""
        level = self.level(row)
        if level is not None:
            return str(level), ""
        return "", _plain("seniority_underivable", title=row.get("title") or "", grade=row.get(GRADE_KEY) or "")


def _level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdecimal():
        raise MappingProblem(_plain("map_bad_level", where=where, value=str(value), limit=MAX_LEVEL))
    level = int(str(value).strip())
    if level > MAX_LEVEL:
        raise MappingProblem(_plain("map_bad_level", where=where, value=str(value), limit=MAX_LEVEL))
    return level


def seniority_map(data: Any) -> SeniorityMap:
    """Check a mapping as loaded from YAML and build it; :class:`MappingProblem` names the first thing wrong."""
    if not isinstance(data, Mapping):
        raise MappingProblem(_plain("map_not_mapping"))
    for key in data:
        if key not in ("titles", "grade", "default"):
            raise MappingProblem(_plain("map_unknown_key", key=str(key)))
    titles: list[tuple[re.Pattern[str], int]] = []
    raw_titles = data.get("titles") or []
    if not isinstance(raw_titles, list):
        raise MappingProblem(_plain("map_titles_list"))
    for number, entry in enumerate(raw_titles, start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("pattern"), str) or "level" not in entry:
            raise MappingProblem(_plain("map_title_entry", number=number))
        try:
            pattern = re.compile(entry["pattern"], re.IGNORECASE)
        except re.error as problem:
            raise MappingProblem(
                _plain("map_bad_pattern", number=number, pattern=entry["pattern"], reason=str(problem))
            ) from None
        titles.append((pattern, _level(entry["level"], f"titles entry {number}")))
    attribute, grades = "", {}
    grade = data.get("grade")
    if grade is not None:
        levels = grade.get("levels") if isinstance(grade, Mapping) else None
        if (
            not isinstance(grade, Mapping)
            or not isinstance(grade.get("attribute"), str)
            or not isinstance(levels, Mapping)
        ):
            raise MappingProblem(_plain("map_grade"))
        attribute = grade["attribute"].strip()
        grades = {str(name).strip().lower(): _level(value, f"grade {name}") for name, value in levels.items()}
    default = _level(data["default"], "default") if data.get("default") is not None else None
    if not titles and not grades and default is None:
        raise MappingProblem(_plain("map_empty"))
    return SeniorityMap(titles=tuple(titles), grade_attribute=attribute, grades=grades, default=default)

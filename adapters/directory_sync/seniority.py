"""Read the operator's seniority mapping (RMBOT_SENIORITY_MAP, a YAML file) into :class:`bot.seniority.SeniorityMap`.

Example::

    titles:                      # in order: the first pattern found in the job title gives the level
      - {pattern: "chief|^vp|vice president", level: 6}
      - {pattern: "director|head of", level: 5}
      - {pattern: "senior|lead|principal", level: 3}
    grade:                       # optional: a user attribute holding a grade (Graph: employeeType, ...)
      attribute: employeeType
      levels: {G7: 6, G6: 5, G5: 4}
    default: 1                   # optional: without it, a person nothing matches is an error (nothing imported)
"""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.directory_sync.sources import SourceError
from adapters.settings import Settings
from bot.seniority import MappingProblem, SeniorityMap, seniority_map
from bot.wording import say, unescape


def load_seniority_map(settings: Settings) -> SeniorityMap | None:
    """The mapping RMBOT_SENIORITY_MAP names (None when unset); SourceError saying what is wrong with it."""
    path = settings.rmbot_seniority_map.strip()
    if not path:
        return None
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as problem:
        reason = getattr(problem, "strerror", None) or type(problem).__name__
        raise SourceError(unescape(say("directory_sync.map_unreadable", path=path, reason=reason))) from None
    try:
        return seniority_map(data)
    except MappingProblem as problem:
        raise SourceError(unescape(say("directory_sync.map_invalid", path=path, reason=str(problem)))) from None

"""Generated organisations and programmes for benchmarks/matching.py.

The same :class:`Plan` feeds a SQLite store (scenario A, read back with ``load_input``) or an in-memory
``MatchInput`` (scenario B). Everything is drawn from one seeded ``random.Random``, so a seed gives the
same organisation every time.

The parts: the organisation (``matching_organisation``), the programme and the scenario sizes
(``matching_programme``), and the plan written into a store (``matching_store_load``).
"""

from __future__ import annotations

from matching_organisation import (
    CHAIN,
    DEPARTMENTS,
    DIVISIONS,
    GENDERS,
    HOURS,
    LOCATIONS,
    Person,
    organisation,
)
from matching_programme import GENERATIONS, STYLES, TOPICS, Plan, Size, match_input, plan_for, programme, scenario_size
from matching_store_load import load_store

__all__ = [
    "CHAIN",
    "DEPARTMENTS",
    "DIVISIONS",
    "GENDERS",
    "GENERATIONS",
    "HOURS",
    "LOCATIONS",
    "STYLES",
    "TOPICS",
    "Person",
    "Plan",
    "Size",
    "load_store",
    "match_input",
    "organisation",
    "plan_for",
    "programme",
    "scenario_size",
]

"""Checkers, Hypothesis strategies and exact solvers for the matching property tests.

Everything here is written independently of bot/matching, so that the tests check it rather than repeat it.
The parts: the hard rules and the checks every result must pass (``matching_hard_rules``), random
organisations and programmes (``matching_strategies``) and independent solvers (``matching_solvers``); here,
the modes and the Hypothesis settings the tests share.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from matching_hard_rules import (
    MATCHING_KEYS,
    ROOT,
    RULE_ORDER,
    assert_hard_rules,
    broken_rules,
    chain_above,
    expected_unmatched_key,
    feasible_matrix,
    in_reporting_line,
    index_pairs,
    line_excludes,
    overlap,
    utc_interval,
)
from matching_solvers import achieved, exhaustive, milp_optimum, reference_stable
from matching_strategies import (
    COMMON_HOURS,
    DATES,
    GENDERS,
    GENERATIONS,
    PRIVATE_WORDS,
    STYLES,
    TAGS,
    ZONES,
    Org,
    candidate,
    descendants,
    hours,
    instances,
    orgs,
    weights,
)

MODES = ("optimal", "stable", "random")

FAST = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
CORE = settings(deadline=None, max_examples=160, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

__all__ = [
    "COMMON_HOURS",
    "CORE",
    "DATES",
    "FAST",
    "GENDERS",
    "GENERATIONS",
    "MATCHING_KEYS",
    "MODES",
    "PRIVATE_WORDS",
    "ROOT",
    "RULE_ORDER",
    "SLOW",
    "STYLES",
    "TAGS",
    "ZONES",
    "Org",
    "achieved",
    "assert_hard_rules",
    "broken_rules",
    "candidate",
    "chain_above",
    "descendants",
    "exhaustive",
    "expected_unmatched_key",
    "feasible_matrix",
    "hours",
    "in_reporting_line",
    "index_pairs",
    "instances",
    "line_excludes",
    "milp_optimum",
    "orgs",
    "overlap",
    "reference_stable",
    "utc_interval",
    "weights",
]

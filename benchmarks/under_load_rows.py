"""The rows of ``benchmarks/under_load.py``: each row of the table in docs/performance.md, the group of
measurements that fills it, its unit, its baseline and the issue's goal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One condition of a goal: ``measure`` is ``rmbot`` (the row's median), ``ratio`` (rmbot's median over the
    baseline's) or an extra series of the row (such as ``peak_gib``)."""

    measure: str
    op: str  # "<=", ">=" or "<"
    limit: float


@dataclass(frozen=True)
class Row:
    """One row of the table: what it measures, in which group, and its goal."""

    key: str  # selected by --rows (the key or a prefix of it)
    what: str
    group: str  # the child that measures it (with the other rows of its group)
    unit: str
    baseline: str  # what the baseline is, "" if the row has none
    goal: str  # the goal as the issue states it
    checks: tuple[Check, ...]  # empty: a row shown for context, no goal of its own


ROWS: tuple[Row, ...] = (
    Row("help-sqlite", "worker: `help` DM (SQLite)", "throughput-sqlite", "events/s", "Core-SQL floor", ">= 500/s", (Check("rmbot", ">=", 500),)),
    Row("consent-sqlite", "worker: consent button (SQLite)", "throughput-sqlite", "events/s", "", ">= 300/s", (Check("rmbot", ">=", 300),)),
    Row("intake-sqlite", "worker: intake answer (SQLite)", "throughput-sqlite", "events/s", "", ">= 400/s", (Check("rmbot", ">=", 400),)),
    Row("help-postgresql", "worker: `help` DM (PostgreSQL)", "throughput-postgresql", "events/s", "Core-SQL floor", ">= 350/s", (Check("rmbot", ">=", 350),)),
    Row("status-2000", "coordinator `status`, 2,000 participants", "status", "ms", "200 participants", "<= 50 ms", (Check("rmbot", "<=", 50),)),
    Row("status-statements", "`status` statements, 2,000 participants", "status", "statements", "200 participants", "bounded: within x1.1 of 200", (Check("ratio", "<=", 1.1),)),
    Row("ack-50-sqlite", "ack p99, 50 req/s (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "<= x3 bare", (Check("ratio", "<=", 3),)),
    Row("ack-only-50-sqlite", "ack p99, 50 req/s, acks only, no worker (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-200-sqlite", "ack p99, 200 req/s (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "<= x5 bare", (Check("ratio", "<=", 5),)),
    Row("ack-only-200-sqlite", "ack p99, 200 req/s, acks only, no worker (SQLite)", "ack-sqlite", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-50-postgresql", "ack p99, 50 req/s (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "<= x3 bare", (Check("ratio", "<=", 3),)),
    Row("ack-only-50-postgresql", "ack p99, 50 req/s, acks only, no worker (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "(context)", ()),
    Row("ack-200-postgresql", "ack p99, 200 req/s (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "<= x5 bare", (Check("ratio", "<=", 5),)),
    Row("ack-only-200-postgresql", "ack p99, 200 req/s, acks only, no worker (PostgreSQL)", "ack-postgresql", "ms", "bare slack-bolt", "(context)", ()),
    Row("reply-lane", "`help` p99 during a 5,000-DM fan-out", "reply-lane", "s", "first in, first out", "< 2 s", (Check("rmbot", "<", 2),)),
    Row("matching-stable-5k", "stable matching 5,000 x 1,500, end to end", "matching", "s", "", "<= 2 s", (Check("rmbot", "<=", 2),)),
    Row("matching-stable-10k", "stable matching 10,000 x 10,000, solve", "matching", "s", "", "<= 10 s, <= 2 GiB", (Check("rmbot", "<=", 10), Check("peak_gib", "<=", 2))),
    Row("matching-optimal-5k", "optimal matching 5,000 x 1,500, end to end", "matching", "s", "bare solver", "<= x1.2 bare", (Check("ratio", "<=", 1.2),)),
    Row("matching-optimal-10k", "optimal matching 10,000 x 10,000, end to end", "matching", "s", "bare solver", "<= x1.2 bare", (Check("ratio", "<=", 1.2),)),
    Row("start-help", "`rmbot --help`", "start-up", "s", "`import typer, rich`", "<= 0.3 s", (Check("rmbot", "<=", 0.3),)),
    Row("start-chat", "`rmbot chat`, first answer", "start-up", "s", "", "<= 1 s", (Check("rmbot", "<=", 1),)),
)  # fmt: skip
"""The rows, in the table's order, with the issue's goals."""

EXTRAS = {
    "sql": "{:.1f} SQL/event",
    "statements": "{:.0f} statements",
    "peak_gib": "{:.2f} GiB peak",
    "rss_mib": "{:.0f} MiB",
    "non_2xx": "{:.0f} non-2xx",
    "unanswered": "{:.0f} unanswered",
}
"""Series shown beside a median (their median), by name; ``baseline_<name>`` beside the baseline's."""

Series = dict[str, dict[str, list[float]]]
"""Per row key: its series by name (``rmbot``, ``baseline``, extras), one value per repetition."""

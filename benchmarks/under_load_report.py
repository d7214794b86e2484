"""The table of ``benchmarks/under_load.py``: each row's median and spread beside its baseline's, the ratio of
the medians and whether the goal is met."""

from __future__ import annotations

import statistics

from under_load_rows import EXTRAS, Row, Series


def shown(unit: str, value: float) -> str:
    """One value in the row's unit (``none`` for infinity: nothing was answered)."""
    if value == float("inf"):
        return "none"
    if unit == "events/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    return f"{value:.0f}"


def summary(unit: str, values: list[float], series: dict[str, list[float]], prefix: str = "") -> str:
    """``median (min-max)``, then the medians of the extra series."""
    if not values:
        return ""
    text = shown(unit, statistics.median(values))
    if len(values) > 1:
        low, high = shown(unit, min(values)), shown(unit, max(values))
        text += f" ({low.split()[0].removesuffix('/s')}-{high})"
    for name, form in EXTRAS.items():
        extra = series.get(prefix + name)
        if extra and (name not in ("non_2xx", "unanswered") or any(extra)):
            text += ", " + form.format(statistics.median(extra))
    return text


def verdict(row: Row, series: dict[str, list[float]]) -> tuple[str, str]:
    """The ratio of the medians (where the row has a baseline) and "met" / "not met" (or "" with no goal)."""
    rmbot, baseline = series.get("rmbot", []), series.get("baseline", [])
    ratio = (
        statistics.median(rmbot) / statistics.median(baseline)
        if rmbot and baseline and statistics.median(baseline)
        else None
    )
    as_ratio = any(check.measure == "ratio" for check in row.checks) or not row.checks
    ratio_text = f"x{ratio:.2f}" if ratio is not None and as_ratio else ""
    if not row.checks or not rmbot:
        return ratio_text, "" if rmbot else "not measured"
    compare = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    for check in row.checks:
        found = (
            ratio
            if check.measure == "ratio"
            else (statistics.median(series[check.measure]) if series.get(check.measure) else None)
        )
        if found is None or not compare[check.op](float(found), float(check.limit)):
            return ratio_text, "not met"
    return ratio_text, "met"  # fmt: skip


def table(rows: list[Row], found: Series, took: dict[str, float]) -> list[str]:
    """The Markdown table of ``rows``, one line each, with how long each group took on its first row."""
    lines = [
        "| row | rmbot, median (min-max) | baseline, same run | ratio | goal | verdict | group took |",
        "|---|---|---|---|---|---|---|",
    ]
    first_of_group: set[str] = set()
    for row in rows:
        series = found.get(row.key, {})
        base = summary(row.unit, series.get("baseline", []), series, "baseline_")
        base = f"{row.baseline}: {base}" if base else ""
        ratio, met = verdict(row, series)
        group_took = "" if row.group in first_of_group else f"{took.get(row.group, 0):.0f} s"
        first_of_group.add(row.group)
        cells = [
            row.what,
            summary(row.unit, series.get("rmbot", []), series) or "-",
            base,
            ratio,
            row.goal,
            met,
            group_took,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines

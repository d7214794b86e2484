"""Charts as PNG images (Matplotlib, no display needed): posted in chat or written to files.

Matplotlib (with NumPy) takes a large part of a second and tens of MiB to import, so it is imported when the
first chart is drawn, not when the engine that can draw one starts."""

from __future__ import annotations

import io
from functools import cache
from typing import TYPE_CHECKING

from bot.reports.health import Health
from bot.wording import say, unescape

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@cache
def _figures() -> type[Figure]:
    """Matplotlib's Figure, imported on first use with the headless Agg canvas (no display, no pyplot state)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure


def _new_axes() -> tuple[Figure, Axes]:
    """A new figure of the charts' size with one plot, as ``pyplot.subplots`` makes it (pyplot is not needed)."""
    figure = _figures()(figsize=(7, 3.2))
    axes: Axes = figure.subplots()
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _label(key: str, **values: object) -> str:
    return unescape(say(key, **values))


def _readable_weeks(axes: Axes, weeks: list[str]) -> None:
    """At most about a dozen week labels, so a long term stays legible."""
    step = max(1, (len(weeks) + 11) // 12)
    axes.set_xticks(range(len(weeks)))
    axes.set_xticklabels([w if n % step == 0 else "" for n, w in enumerate(weeks)], rotation=45, ha="right")


def sessions_per_week(health: Health) -> bytes:
    """Sessions held per week of the term; weeks without one show as zero; whole-number ticks."""
    figure, axes = _new_axes()
    weeks = [w for w, _ in health.held_weeks]
    counts = [n for _, n in health.held_weeks]
    axes.bar(range(len(weeks)), counts, color="#3b7dd8")
    _readable_weeks(axes, weeks)
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*counts, 1]) + 0.5)
    axes.set_title(_label("reports.chart_sessions_title", programme=health.programme.name))
    axes.set_ylabel(_label("reports.chart_sessions_axis"))
    if not any(counts):
        axes.text(0.5, 0.5, _label("reports.chart_empty"), ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def pulse_trend(health: Health) -> bytes:
    """Weekly pulse means that may be shown; a single week is drawn as a labelled point in the middle."""
    figure, axes = _new_axes()
    shown = [(w, f.mean) for w, f in health.pulse_weeks if f is not None]
    positions = list(range(len(shown)))
    axes.plot(positions, [m for _, m in shown], marker="o", markersize=8, color="#2a9d8f")
    for x, (_, value) in zip(positions, shown, strict=True):
        axes.annotate(f"{value:.1f}", (x, value), textcoords="offset points", xytext=(0, 8), ha="center")
    axes.set_xticks(positions)
    axes.set_xticklabels([w for w, _ in shown], rotation=45, ha="right")
    axes.set_xlim(-1, max(len(shown), 1))
    axes.set_ylim(1, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_title(_label("reports.chart_pulse_title", k=health.k))
    if not shown:
        axes.text(
            0.5, 0.5, _label("reports.chart_not_enough", k=health.k), ha="center", va="center", transform=axes.transAxes
        )
    return _png(figure)


def goal_progress(health: Health) -> bytes:
    """The baseline expected at set-up, the baseline measured by the baseline survey, now, and the target;
    a value not measured yet is named, never drawn as zero. "Now" is on the baseline's footing
    (:attr:`Health.goal_measured`): the end-of-term team rating once a team-rated baseline exists."""
    programme = health.programme
    figure, axes = _new_axes()
    bars = [
        (_label("reports.chart_expected_baseline"), programme.goal_baseline, "#cccccc"),
        (_label("reports.chart_baseline"), health.team_baseline.mean if health.team_baseline else None, "#999999"),
        (
            _label("reports.chart_now_team" if health.goal_basis == "team" else "reports.chart_now"),
            health.goal_measured.mean if health.goal_measured else None,
            "#e76f51",
        ),
        (_label("reports.chart_target"), programme.goal_target, "#264653"),
    ]
    positions = list(range(len(bars)))
    axes.bar(positions, [v or 0 for _, v, _ in bars], color=[c for _, _, c in bars])
    axes.set_xticks(positions)
    axes.set_xticklabels([label for label, _, _ in bars])
    top = max([v for _, v, _ in bars if v is not None] + [1])
    for x, (_, value, _) in zip(positions, bars, strict=True):
        text = f"{value:g}" if value is not None else _label("reports.chart_not_measured")
        axes.text(x, (value or 0) + top * 0.02, text, ha="center", va="bottom")
    axes.set_ylim(0, top * 1.2)
    axes.set_title(_label("reports.chart_goal_title", metric=programme.goal_metric or programme.name))
    return _png(figure)


def all_charts(health: Health) -> dict[str, bytes]:
    """File name -> PNG bytes."""
    return {
        "sessions-per-week.png": sessions_per_week(health),
        "pulse-trend.png": pulse_trend(health),
        "goal-progress.png": goal_progress(health),
    }

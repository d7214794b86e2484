"""Charts as PNG images (Matplotlib, no display needed): posted in chat or written to files."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.reports.health import Health  # noqa: E402
from bot.wording import (
    say,  # noqa: E402
    unescape,  # noqa: E402
)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _label(key: str, **values: object) -> str:
    return unescape(say(key, **values))


def sessions_per_week(health: Health) -> bytes:
    figure, axes = plt.subplots(figsize=(7, 3.2))
    weeks = [w for w, _ in health.held_weeks]
    axes.bar(weeks, [n for _, n in health.held_weeks], color="#3b7dd8")
    axes.set_title(_label("reports.chart_sessions_title", programme=health.programme.name))
    axes.set_ylabel(_label("reports.chart_sessions_axis"))
    axes.tick_params(axis="x", rotation=45)
    if not weeks:
        axes.text(0.5, 0.5, _label("reports.chart_empty"), ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def pulse_trend(health: Health) -> bytes:
    figure, axes = plt.subplots(figsize=(7, 3.2))
    shown = [(w, f.mean) for w, f in health.pulse_weeks if f is not None]
    axes.plot([w for w, _ in shown], [m for _, m in shown], marker="o", color="#2a9d8f")
    axes.set_ylim(1, 5)
    axes.set_title(_label("reports.chart_pulse_title", k=health.k))
    axes.tick_params(axis="x", rotation=45)
    if not shown:
        axes.text(
            0.5, 0.5, _label("reports.chart_not_enough", k=health.k), ha="center", va="center", transform=axes.transAxes
        )
    return _png(figure)


def goal_progress(health: Health) -> bytes:
    programme = health.programme
    figure, axes = plt.subplots(figsize=(7, 3.2))
    labels = [_label("reports.chart_baseline"), _label("reports.chart_now"), _label("reports.chart_target")]
    values = [programme.goal_baseline or 0, health.goal_now.mean if health.goal_now else 0, programme.goal_target or 0]
    axes.bar(labels, values, color=["#999999", "#e76f51", "#264653"])
    axes.set_title(_label("reports.chart_goal_title", metric=programme.goal_metric or programme.name))
    if health.goal_now is None:
        axes.text(
            0.5, 0.5, _label("reports.chart_not_enough", k=health.k), ha="center", va="center", transform=axes.transAxes
        )
    return _png(figure)


def all_charts(health: Health) -> dict[str, bytes]:
    """File name -> PNG bytes."""
    return {
        "sessions-per-week.png": sessions_per_week(health),
        "pulse-trend.png": pulse_trend(health),
        "goal-progress.png": goal_progress(health),
    }

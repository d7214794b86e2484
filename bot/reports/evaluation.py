"""The end-of-term evaluation: was the goal met against the baseline, what worked, what to change.

Built only from :class:`~bot.reports.health.Health`, so it rests on the same anonymity rule: a topic or
framework appears under "what worked" only when its figure may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.reports.aggregate import Figure
from bot.reports.health import Health

HELD_RATE_LOW = 0.75
MATCH_RATE_LOW = 0.9
PULSE_LOW = 3.5


@dataclass
class Evaluation:
    verdict: str
    """``met``, ``not_met`` or ``not_measured`` (fewer than k answers, no target set, or a team-rated
    baseline whose end-of-term team rating is not in yet: the self-assessment is never judged against it)."""
    worked: list[tuple[str, str, Figure]] = field(default_factory=list)
    """(kind ``topic``/``framework``, title, figure), best first."""
    changes: list[str] = field(default_factory=list)
    """Keys of ``reports.change_*`` suggestions, most pressing first."""


def _verdict(health: Health) -> str:
    programme, now, baseline = health.programme, health.goal_measured, health.baseline
    if now is None or programme.goal_target is None or baseline is None:
        return "not_measured"
    expected = programme.goal_baseline if programme.goal_baseline is not None else baseline
    # the direction the coordinator set (asked when the target is below the baseline); older goals by their numbers
    rising = programme.settings.goal_direction == "higher" and programme.goal_target >= expected
    met = now.mean >= programme.goal_target if rising else now.mean <= programme.goal_target
    return "met" if met else "not_met"


def _changes(health: Health, worked: list[tuple[str, str, Figure]]) -> list[str]:
    changes = []
    if health.held_rate is not None and health.held_rate < HELD_RATE_LOW:
        changes.append("sessions_slip")
    if health.cancellations.get("mentee", 0) > health.cancellations.get("mentor", 0):
        changes.append("seniors_cancel")
    if health.match_rate is not None and health.match_rate < MATCH_RATE_LOW:
        changes.append("unmatched")
    if health.pairs_at_risk:
        changes.append("at_risk")
    if health.mentors_over_80:
        changes.append("workload")
    if health.pulse is not None and health.pulse.mean < PULSE_LOW:
        changes.append("pulse_low")
    topics = [item for item in worked if item[0] == "topic"]
    if len(topics) >= 2 and topics[-1][2].mean < topics[0][2].mean:
        changes.append("weak_topic")
    return changes or ["keep"]


def evaluate(health: Health) -> Evaluation:
    """The evaluation of a programme from its health figures."""
    worked = [("topic", title, figure) for title, figure in health.pulse_by_topic.items() if figure is not None]
    worked += [("framework", name, figure) for name, figure in health.pulse_by_framework.items() if figure is not None]
    worked.sort(key=lambda item: (item[0] != "topic", -item[2].mean, item[1]))
    return Evaluation(verdict=_verdict(health), worked=worked, changes=_changes(health, worked))

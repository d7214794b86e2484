"""The invariants checked after every simulated day, and the reconciliation at the end of a term."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.sessions.circles import circle_by_key
from simulation.truth import expected, pulse_before, release_points, reported

if TYPE_CHECKING:
    from simulation.term import Simulation

GRACE = timedelta(days=3)
"""How long a pair may take to agree a time (plus twice its slowest member's delay) before "no next session" counts."""


def responsive(sim: Simulation, email: str) -> bool:
    behaviour = sim.behaviour.get(email)
    return behaviour is not None and behaviour.answer >= 0.8 and email not in sim.gone


def at_risk(sim: Simulation, key: str) -> bool:
    """The product marked the circle at risk (its coordinators were told why): the recorded reason."""
    with sim.store.unit_of_work() as uow:
        circle = circle_by_key(uow, key)
        return circle is not None and any(p.at_risk and p.risk_reason for p in circle.pairs)


def daily(sim: Simulation) -> None:
    """After each day: no error logged; every active pair has a next session (or a reason in the log)."""
    for record in sim.errors.records[sim.log.events["errors seen"] :]:
        sim.log.violate("no exception", sim.day, record.name, record.getMessage())
    sim.log.events["errors seen"] = len(sim.errors.records)
    end = sim.term[1]
    if (end - sim.now.date()).days < 21:
        return  # near the end of term there may be no further session
    for circle in sim.log.circles.values():
        slowest = max((sim.behaviour[m].delay_hours[1] for m in circle.members if m in sim.behaviour), default=0)
        if (
            circle.ended_at is not None
            or circle.paused
            or sim.now - circle.offered_at < GRACE + timedelta(hours=2 * slowest)
        ):
            continue
        if not all(responsive(sim, m) for m in circle.members):
            continue  # the log's reason: someone in it does not answer
        if any(m in sim.log.paused for m in circle.members):
            continue
        upcoming = [
            s
            for s in sim.log.sessions.values()
            if s.starts_at > sim.now
            and len(s.people & circle.members) >= min(2, len(circle.members))
            and not sim.log.stopped(s)
        ]
        if not upcoming and not at_risk(sim, circle.key):  # at risk, with its reason: a recorded reason why not
            sim.log.violate(
                "every active pair has a next session",
                sim.day,
                ", ".join(sorted(circle.members)),
                f"no session ahead since the offer of {circle.offered_at:%Y-%m-%d} (circle {circle.key})",
            )
            circle.ended_at = sim.now  # reported once: stop watching this circle


def questionnaires(sim: Simulation) -> None:
    """At the end of a term: each questionnaire sent is answered, still waiting (`todo`), or closed with a notice."""
    for email, records in sim.log.questionnaires.items():
        if email in sim.gone:
            continue
        open_ones = [r for r in records if r.done_at is None and not r.closed_with_notice]
        if not open_ones:
            continue
        replies = sim.chat.send(email, "todo")
        sim.flush()
        said = " ".join(replies)
        listed = sum(1 for m in sim.chat.last.get(email, []) for c in m.choices if c.action != "flow.answer")
        listed += 1 if sim.shown.get(email) is not None and sim.current.get(email) in open_ones else 0
        if listed < len(open_ones):
            sim.log.violate(
                "no questionnaire lost",
                sim.day,
                email,
                f"{len(open_ones)} questionnaire(s) neither answered nor closed with a notice "
                f"({', '.join(f'{r.flow} of {r.opened_at:%Y-%m-%d}' for r in open_ones)}), "
                f"but `todo` lists {listed}: {said[:160]!r}",
            )


def reconcile(sim: Simulation, report_text: str, k: int) -> None:
    """Every figure of the end-of-term report equals the one computed from the simulator's log."""
    truth = expected(sim.log, sim.now, k)
    shown, missing = reported(report_text)
    for name in missing:
        sim.log.violate(
            "report figures equal the truth", sim.day, "report", f"no {name} figure in: {report_text[:200]}"
        )
    for name in ("held", "due", "cancelled_mentees", "cancelled_mentors", "pulse", "goal"):
        if name in missing or (name.startswith("cancelled") and "sessions" in missing):
            continue
        if name in ("held", "due") and "sessions" in missing:
            continue
        want, got = getattr(truth, name), getattr(shown, name)
        if name == "pulse":  # released figures count the pulses given before their release
            points = release_points(*sim.term, sim.now)
            released = shown.pulse_released
            cutoff = datetime.combine(released, time(0), UTC) if released else (points[-1] if points else sim.now)
            if released and cutoff not in points:
                sim.log.violate(
                    "report figures equal the truth", sim.day, "report", f"released {released}: no release day"
                )
            want = pulse_before(sim.log, cutoff, k)
        if want != got:
            sim.log.violate("report figures equal the truth", sim.day, "report", f"{name}: shown {got}, truth {want}")

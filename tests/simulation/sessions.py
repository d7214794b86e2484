"""How simulated people meet sessions: picking offered times, and reporting what happened at a session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.model import Choice, OutgoingMessage
from bot.sessions.buttons import OutcomeValue, SlotOtherValue, SlotPickValue
from simulation.log import Circle

if TYPE_CHECKING:
    from simulation.term import Simulation


def on_offer(sim: Simulation, email: str, message: OutgoingMessage) -> None:
    """Times were offered to ``email`` (or none fit): the circle is logged and a time may be picked."""
    picks = [c for c in message.choices if c.action == "slot.pick"]
    first = (picks or [c for c in message.choices if c.action == "slot.other"])[0]
    key = (SlotPickValue if picks else SlotOtherValue).decode(first.value).circle
    circle = sim.log.circles.get(key)
    if circle is None or circle.ended_at is not None:
        circle = sim.log.circles[key] = Circle(key=key, members=set(), offered_at=sim.now)
    circle.members.add(email)
    circle.offered_at, circle.paused = sim.now, False
    mentor = key.split(":")[0]
    for earlier in sim.log.circles.values():  # the same mentor's group, as it was before someone joined it
        if earlier.key.split(":")[0] == mentor and email in earlier.members and earlier.ended_at is None:
            earlier.offered_at = sim.now
    behaviour = sim.behaviour[email]
    if not picks or sim.rng.random() >= behaviour.answer:
        return
    confirm = len(picks) == 1 and not message.question
    if confirm or sim.log.roles.get(email) == "mentor":
        chosen = picks[0]
        sim.later(sim.rng.uniform(*behaviour.delay_hours), lambda: act_if_here(sim, email, chosen))


def act_if_here(sim: Simulation, email: str, choice: Choice) -> None:
    """``email`` presses ``choice`` unless they have gone meanwhile."""
    if email not in sim.gone:
        sim.act(email, choice=choice)


def on_followup(sim: Simulation, email: str, message: OutgoingMessage) -> None:
    """``email`` was asked how a session went: the asking is logged and an answer may be planned."""
    value = next(c.value for c in message.choices if c.action == "session.outcome")
    session = str(OutcomeValue.decode(value).session)
    sim.followups.setdefault(session, set()).add(email)
    sim.log.asked.setdefault(session, set()).add(email)
    behaviour = sim.behaviour[email]
    if sim.rng.random() < behaviour.followup:
        sim.later(sim.rng.uniform(1, 6), lambda: report_outcome(sim, email, session, message))


def decide(sim: Simulation, session: str) -> tuple[str, str]:
    """What really happened at ``session`` (held, cancelled or missed, and by whom), decided once."""
    if session not in sim.truth:
        outcome = ("held", "")
        for person in sorted(sim.followups[session]):
            behaviour = sim.behaviour[person]
            roll = sim.rng.random()
            if roll < behaviour.cancel:
                outcome = ("cancelled", person)
                break
            if roll < behaviour.cancel + behaviour.no_show:
                outcome = ("no_show", person)
                break
        sim.truth[session] = outcome
    return sim.truth[session]


def report_outcome(sim: Simulation, email: str, session: str, message: OutgoingMessage) -> None:
    """``email`` reports the session's outcome as they saw it (one who did not show up says nothing)."""
    what, who = decide(sim, session)
    if what == "held":
        said = "held"
    elif what == "cancelled":
        said = "cancelled_me" if who == email else "cancelled_them"
    elif who == email:
        return  # the one who did not show up does not answer
    else:
        said = "no_show"
    answers = sim.log.outcomes.setdefault(session, {})
    answers.pop(email, None)  # a newer answer replaces the older one, and is the newest
    answers[email] = said
    sim.press(email, message, "session.outcome", f":{said}")

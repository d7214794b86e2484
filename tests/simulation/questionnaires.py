"""How simulated people meet questionnaires: which one a question belongs to, and when and what they answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.model import OutgoingMessage
from bot.wording import unescape
from simulation.log import Questionnaire
from simulation.reactions import TITLES, answer, flow_of
from simulation.wording import not_a_command

if TYPE_CHECKING:
    from simulation.term import Simulation


def survey_kind(text: str) -> str:
    """``midpoint`` or ``final`` for the first question of a survey (its introduction says which), else ""."""
    return (
        "midpoint"
        if "We're halfway through" in text
        else "final"
        if "is ending: a five-question survey" in text
        else ""
    )


def on_question(sim: Simulation, email: str, message: OutgoingMessage, solicited: bool) -> None:
    """A question reached ``email``: find or open its questionnaire and, if they will answer, plan the answer."""
    assert message.question is not None
    flow = flow_of(message)
    record = sim.current.get(email)
    same = record is not None and record.done_at is None and (flow == record.flow or record.flow in flow.split("/"))
    if same and sim.actor == email and solicited:
        sim.continued.add(email)
    else:
        record = next(
            (
                r
                for r in sim.log.questionnaires.get(email, [])
                if r.done_at is None and not r.closed_with_notice and r.flow == flow
            ),
            None,
        )
        if record is None:
            behaviour = sim.behaviour[email]
            record = Questionnaire(
                flow=flow,
                title=TITLES.get(flow.split("/")[0], flow),
                opened_at=sim.now,
                will_answer=sim.rng.random() < behaviour.answer,
            )
            sim.log.questionnaires.setdefault(email, []).append(record)
            sim.log.events[f"opened {flow}"] += 1
        sim.current[email] = record
    if flow == "survey" and (kind := survey_kind(unescape(message.text))):
        record.kind = kind  # a survey's first question says which one it is
    sim.shown[email] = message
    if record.will_answer:
        continuing = same and solicited
        delay = 0 if continuing else sim.rng.uniform(*sim.behaviour[email].delay_hours)
        sim.later(delay, lambda: answer_question(sim, email, message))


def answer_question(sim: Simulation, email: str, message: OutgoingMessage) -> None:
    """``email`` answers the question on their screen, unless a newer one replaced it; the log records the outcome."""
    if sim.shown.get(email) is not message or email in sim.gone:
        return  # a newer question is on the screen: that is the one to answer
    record = sim.current[email]
    if record.done_at is not None:
        return
    reply = answer(message, sim.behaviour[email], sim.rng, sim.now)
    step = message.question.id if message.question else ""
    sim.actor, sim.continued = email, sim.continued - {email}
    replies = sim.act(email, reply.text, reply.button)
    sim.actor = ""
    if any(r.question is not None and r.question.id == step and flow_of(r) == record.flow for r in replies):
        record.reprompts += 1
        if record.reprompts > 3:
            record.will_answer = False
            sim.log.violate("simulator answers", sim.day, email, f"{record.flow}.{step} refused {reply.text!r}")
        return
    if not any(r.question is not None for r in replies) and any(not_a_command() in r.text for r in replies):
        return  # the questionnaire had closed meanwhile (its notice may still be held): nothing was saved
    sim.log.events[f"answered {record.flow}.{step}"] += 1
    if record.flow == "pulse" and step == "session" and isinstance(reply.value, int):
        sim.log.pulses.append((email, reply.value, sim.now))
    if record.flow == "survey" and step == "goal_self" and sim.log.roles.get(email) == "mentee":
        record.goal = int(str(reply.value))
    if email not in sim.continued:
        record.done_at = sim.now
        if record.goal is not None:  # saved with the whole survey
            sim.log.goal_answers.append((email, record.kind, record.goal))
        sim.log.events[f"completed {record.flow}"] += 1

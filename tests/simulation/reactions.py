"""How a simulated person answers what is on their screen: the question shown, the buttons it has."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import yaml

from bot.flows.values import AnswerValue
from bot.model import Choice, OutgoingMessage
from bot.wording import PROMPTS
from simulation.behaviours import Behaviour

ANSWER = "flow.answer"


def _flows() -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
    steps: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    titles: dict[str, str] = {}
    for path in sorted((PROMPTS / "flows").glob("*.yml")):
        flow = yaml.safe_load(path.read_text(encoding="utf-8"))
        titles[flow["id"]] = flow.get("title", flow["id"])
        first[flow["id"]] = flow["steps"][0]["id"]
        for step in flow["steps"]:
            steps.setdefault(step["id"], []).append(flow["id"])
    return steps, first, titles


FLOWS_OF_STEP, FIRST_STEP, TITLES = _flows()


def flow_of(message: OutgoingMessage) -> str:
    """The questionnaire a question belongs to: from its buttons when it has them, else from the step."""
    for choice in message.choices:
        if choice.action == ANSWER:
            return AnswerValue.decode(choice.value).flow.split("@", 1)[0]
    assert message.question is not None
    candidates = FLOWS_OF_STEP.get(message.question.id, ["?"])
    return candidates[0] if len(candidates) == 1 else "/".join(sorted(candidates))


@dataclass
class Answer:
    """What to do with a question: press ``button``, or type ``text``; ``value`` is the meaning kept in the log."""

    button: Choice | None = None
    text: str = ""
    value: object = None


def answer(message: OutgoingMessage, behaviour: Behaviour, rng: random.Random, today: datetime) -> Answer:
    """An answer that a person of ``behaviour`` would give to the question shown in ``message``."""
    question = message.question
    assert question is not None
    buttons = [c for c in message.choices if c.action == ANSWER]
    step = question.id
    if buttons:

        def by_value(wanted: str) -> Choice | None:
            return next((c for c in buttons if AnswerValue.decode(c.value).answer == wanted), None)

        if question.kind == "yes_no":
            wanted = "no" if step in ("share",) else ("yes" if rng.random() < 0.8 else "no")
            if step == "profile_ok":
                wanted = "yes"
            chosen = by_value(wanted) or buttons[0]
            return Answer(button=chosen, value=AnswerValue.decode(chosen.value).answer)
        if step in ("session", "together"):
            score = str(rng.choice(behaviour.pulse_scores))
            chosen = by_value(score) or buttons[0]
            return Answer(button=chosen, value=int(AnswerValue.decode(chosen.value).answer))
        chosen = rng.choice(buttons) if question.kind != "ack" else buttons[0]
        return Answer(button=chosen, value=AnswerValue.decode(chosen.value).answer)
    kind = question.kind
    if kind in ("multi_choice", "rank"):
        count = question.max_selected or 2
        options = len(question.choices) or count
        count = min(count, options, 3)
        return Answer(text=", ".join(str(i) for i in range(1, count + 1)))
    if kind in ("integer", "number"):
        low = int(question.minimum if question.minimum is not None else 1)
        high = int(question.maximum if question.maximum is not None else 10)
        value = rng.randint(low, high)
        return Answer(text=str(value), value=value)
    if kind == "date":
        if not question.required:
            return Answer(text="skip")
        return Answer(text=(today + timedelta(days=7)).date().isoformat())
    if kind == "long_text":
        if not question.required and rng.random() < 0.5:
            return Answer(text="skip")
        return Answer(text="Learning how my colleague works with new tools, one example at a time.")
    if kind == "time_zone":
        return Answer(text="Europe/London")
    if kind == "working_hours":
        return Answer(text="09:00-17:00")
    if not question.required:
        return Answer(text="skip")
    return Answer(text="English")

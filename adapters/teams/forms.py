"""A Teams card form checked before it is accepted: mistakes shown in the card, nothing stored.

A card form built from a questionnaire carries its fields' rules on its submit button (``rmbot_rules``,
from ``bot.model.Form.rules``). When the button is pressed (an ``Action.Execute`` invoke), :func:`form_problems`
checks the entered values with the questionnaire's own validators (:func:`bot.flows.form_rules.check_form`:
pure, no store), and when something is wrong the invoke answer is the same card with what was entered still
filled in and each message under its input (:func:`problems_card`); the event is not committed, so nothing is
stored or answered. Only a form without such mistakes is accepted. (The ``Action.Submit`` fallback of older
clients cannot refresh a card: the engine then asks the first wrong answer again in the chat.)
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from adapters.teams.cards import ACTION, FORM_FIELDS, FORM_PREFIX, FORM_RULES, FORM_SUBMIT
from adapters.teams.inputs import field_value
from adapters.teams.limits import Overrun, refused_card
from bot.flows.form_rules import FormRulesError, check_form

log = logging.getLogger(__name__)


def _inputs_of(field: str, data: dict[str, Any]) -> list[str]:
    """The ids of a field's inputs in the submitted data (a ranking has one per place)."""
    own = FORM_PREFIX + field
    return [key for key in data if key == own or key.startswith(own + "__")]


def form_problems(data: dict[str, Any]) -> dict[str, str]:
    """Field id -> what is wrong (neutral markdown), for the fields of this card; empty when the submission can
    be accepted, or when it is not a form carrying rules (the engine checks it then)."""
    rules = data.get(FORM_RULES)
    declared = data.get(FORM_FIELDS)
    if data.get(ACTION) != FORM_SUBMIT or not rules or not isinstance(declared, dict):
        return {}
    values = {str(field): field_value(str(kind), FORM_PREFIX + str(field), data) for field, kind in declared.items()}
    try:
        checked = check_form(rules, {k: v for k, v in values.items() if v is not None}, datetime.now(UTC).date())
    except FormRulesError as problem:
        log.warning("a card form's rules could not be read (%s); the engine checks the submission", problem)
        return {}
    return {field: text for field, text in checked.problems.items() if _inputs_of(field, data)}  # this card's


def problems_card(parts: list[dict[str, Any]], data: dict[str, Any], problems: dict[str, str]) -> dict[str, Any] | None:
    """The card of ``parts`` that was submitted, with what was entered filled in and each problem under its
    input; None when no card holds them."""
    shown: dict[str, Any] | None = None
    for field, text in problems.items():
        inputs = _inputs_of(field, data)
        if not inputs:
            continue
        card = refused_card([shown] if shown is not None else parts, data, Overrun(inputs[0], 0, 0), text)
        shown = card if card is not None else shown
    return shown

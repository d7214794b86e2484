"""A submitted modal checked before it is accepted: mistakes answered inline, within Slack's three seconds.

A modal built from a questionnaire carries its fields' rules in ``private_metadata`` (``bot.model.Form.rules``).
:func:`modal_errors` checks the submitted values against them with the questionnaire's own validators
(:func:`bot.flows.form_rules.check_form`: pure, no store, no network), so ``on_view`` can answer
``response_action: errors`` (each message under its field, the modal left open, nothing stored) or, when
nothing is wrong, commit the submission to the inbox and only then close the modal.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from adapters.slack.forms import full_rules, submitted
from adapters.slack.mrkdwn import label
from bot.flows.form_rules import FormRulesError, check_form

log = logging.getLogger(__name__)
ERROR_TEXT = 300
"""Characters of one inline error: a sentence, never more."""


def modal_errors(body: dict[str, Any]) -> dict[str, str]:
    """The error to show under each wrong field of a submitted modal (block id to text); empty when the
    submission can be accepted, or when the modal carries no rules (the engine checks it then)."""
    view = body.get("view") or {}
    try:
        rules = json.loads(view.get("private_metadata") or "{}").get("rules")
    except (ValueError, AttributeError):
        return {}
    if not rules:
        return {}
    _action, _value, values, _conversation = submitted(view)
    try:
        checked = check_form(full_rules(rules, view), values, datetime.now(UTC).date())
    except (FormRulesError, TypeError) as problem:
        log.warning("a modal's rules could not be read (%s); the engine checks the submission", problem)
        return {}
    shown = {str(block.get("block_id")) for block in view.get("blocks") or [] if isinstance(block, dict)}
    return {field: label(text, ERROR_TEXT) for field, text in checked.problems.items() if field in shown}

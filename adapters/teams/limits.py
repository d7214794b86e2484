"""The card keeps the engine's limit on a multi-select: at most ``max_selected`` choices.

Adaptive Cards 1.5 (what Teams renders, ``tests/specs/teams/schemas``) give ``Input.ChoiceSet`` no maximum,
so a card cannot stop a seventh tick by itself. Instead the label of the input says how many it takes
(:func:`adapters.teams.inputs.selection_limit`, from the question's definition), the Send or Submit button
carries the same limits (``rmbot_limits``), and when the button is pressed (an ``Action.Execute`` invoke) a
choice over the limit is refused at once, in the card: the invoke answer is the same card with what the
person entered still filled in and the engine's own refusal (``input.too_many``) under the input. Nothing
reaches the engine then, so nothing is stored or answered twice. (The ``Action.Submit`` fallback of older
clients cannot refresh a card; the engine refuses the answer in the chat, with the same words.)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adapters.teams.cards import CONTROLS_ID, LIMITS
from adapters.teams.inputs import field_value
from adapters.teams.markdown import text_blocks


@dataclass(frozen=True)
class Overrun:
    """A multi-select submitted with more choices than it takes."""

    input_id: str
    maximum: int
    picked: int


def over_limit(data: dict[str, Any]) -> Overrun | None:
    """The first input of a pressed button's data with more choices than its limit, or None."""
    limits = data.get(LIMITS)
    if not isinstance(limits, dict):
        return None
    for input_id, maximum in limits.items():
        if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum < 1:
            continue
        picked = field_value("multi_choice", str(input_id), data) or []
        if len(dict.fromkeys(picked)) > maximum:
            return Overrun(str(input_id), maximum, len(dict.fromkeys(picked)))
    return None


def _elements(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _elements(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _elements(inner)


def _entered(element: dict[str, Any], raw: Any) -> Any:
    """What the person entered, as the input's ``value`` (None when it cannot be shown again)."""
    if element["type"] == "Input.Number":
        try:
            number = float(raw)
        except (TypeError, ValueError):
            return None
        return int(number) if number.is_integer() else number
    if element["type"] == "Input.ChoiceSet":
        known = {str(choice.get("value")) for choice in element.get("choices") or []}
        picked = [part.strip() for part in str(raw).split(",") if part.strip() in known]
        return ",".join(picked) if element.get("isMultiSelect") else (picked[0] if picked else None)
    return str(raw) if element["type"] in ("Input.Text", "Input.Date") else None


def refused_card(
    parts: list[dict[str, Any]], data: dict[str, Any], overrun: Overrun, refusal: str
) -> dict[str, Any] | None:
    """The card of ``parts`` that holds the overrun input, with the inputs filled in from ``data`` and
    ``refusal`` (neutral markdown) shown under that input; None when no card holds it."""
    for part in parts:
        inputs = [e for e in _elements(part.get("body")) if str(e.get("type", "")).startswith("Input.")]
        if not any(e.get("id") == overrun.input_id for e in inputs):
            continue
        card = copy.deepcopy(part)
        for element in _elements(card.get("body")):
            if str(element.get("type", "")).startswith("Input.") and element.get("id") in data:
                value = _entered(element, data[element["id"]])
                if value is None:
                    element.pop("value", None)
                else:
                    element["value"] = value
        blocks = text_blocks(refusal)
        for block in blocks:
            for run in block["inlines"]:
                run["color"] = "Attention"
        for container in _elements(card.get("body")):
            items = container.get("items")
            if not str(container.get("id", "")).startswith(CONTROLS_ID) or not isinstance(items, list):
                continue
            at = next((i for i, e in enumerate(items) if e.get("id") == overrun.input_id), None)
            if at is not None:
                container["items"] = [*items[: at + 1], *blocks, *items[at + 1 :]]
                return card
        return None
    return None

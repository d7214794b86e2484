"""Form fields as Adaptive Card inputs (``Input.Text``, ``Input.Number``, ``Input.Date``, ``Input.ChoiceSet``).

One function per direction: :func:`field_inputs` builds the inputs of a field under a given id, and
:func:`field_value` reads a submitted card's data back into the value the engine expects for that field.
A ranking is one drop-down per place (``ID__1``, ``ID__2``…), read back in place order.
"""

from __future__ import annotations

from typing import Any

from adapters.teams.markdown import label
from bot.model import Choice, FormField
from bot.wording import say

TEXT_MAX = 3000
CHOICE_TITLE = 120
EXPANDED_UP_TO = 5
"""Choice lists this short are shown as radio buttons or check boxes; longer ones as a drop-down."""


def field_choices(field: FormField) -> list[Choice]:
    """The options of a field (yes and no for a yes/no field without its own)."""
    if field.kind == "yes_no" and not field.choices:
        return [
            Choice(label=say("input.yes"), action="", value="yes"),
            Choice(label=say("input.no"), action="", value="no"),
        ]
    return list(field.choices)


def selection_limit(field: FormField) -> int | None:
    """How many choices a multi-select takes at most, from the question's definition (None: no limit, or one
    no larger than the list). Adaptive Cards 1.5 have no maximum for ``Input.ChoiceSet``: the label shows it
    and :mod:`adapters.teams.limits` checks it when the card is submitted."""
    if field.kind != "multi_choice" or not field.max_selected or field.max_selected >= len(field_choices(field)):
        return None
    return field.max_selected


def text_limit(field: FormField) -> int:
    """The most characters a text input takes: the question's own ``max_length`` (from its definition in
    ``prompts/flows``), so the card stops where the engine would refuse; ``TEXT_MAX`` for other typed answers."""
    if field.max_length is not None and 0 < field.max_length < TEXT_MAX:
        return field.max_length
    return TEXT_MAX


def _current(field: FormField) -> list[str]:
    if field.current is None:
        return []
    if isinstance(field.current, bool):
        return ["yes" if field.current else "no"]
    if isinstance(field.current, list):
        return [str(v) for v in field.current]
    return [str(field.current)]


def _choice_set(
    input_id: str,
    choices: list[Choice],
    *,
    multi: bool = False,
    value: list[str] | None = None,
    compact: bool | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "wrap": True,
        "choices": [{"title": label(c.label, CHOICE_TITLE), "value": c.value} for c in choices],
        "style": "compact" if (compact if compact is not None else len(choices) > EXPANDED_UP_TO) else "expanded",
    }
    if multi:
        element["isMultiSelect"] = True
    if element["style"] == "compact" and not multi:
        element["placeholder"] = say("teams.choose")
    known = {c.value for c in choices}
    chosen = [v for v in value or [] if v in known]
    if chosen:
        element["value"] = ",".join(chosen) if multi else chosen[0]
    return element


def _number(value: Any) -> float | int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def field_inputs(field: FormField, input_id: str, with_label: bool = True) -> list[dict[str, Any]]:
    """The input element(s) for ``field``, with its current answer filled in."""
    current = _current(field)
    common: dict[str, Any] = {}
    if with_label:
        common["label"] = label(field.label or field.id, 200)
    if field.required:
        common.update(isRequired=True, errorMessage=say("teams.input_required"))
    kind = field.kind
    if kind == "rank" and field.choices:
        places = min(field.max_selected or 3, len(field.choices))
        out = []
        for place in range(1, places + 1):
            element = _choice_set(f"{input_id}__{place}", field.choices, value=current[place - 1 : place], compact=True)
            element["label"] = say("teams.rank_place", place=place)
            if field.required:
                element.update(isRequired=True, errorMessage=say("teams.input_required"))
            out.append(element)
        if with_label:
            out.insert(
                0, {"type": "TextBlock", "text": label(field.label or field.id, 200), "wrap": True, "weight": "Bolder"}
            )
        return out
    if kind in ("choice", "yes_no", "multi_choice") and field_choices(field):
        element = _choice_set(input_id, field_choices(field), multi=kind == "multi_choice", value=current)
        limit = selection_limit(field)
        if limit is not None:
            named = field.label or field.id if with_label else ""
            common["label"] = label(say("teams.pick_up_to", name=named, maximum=limit), 200)
        return [{**element, **common}]
    placeholder = {"placeholder": label(field.hint, 200)} if field.hint else {}
    if kind in ("integer", "number"):
        element = {"type": "Input.Number", "id": input_id, **placeholder}
        for key, bound in (("min", field.minimum), ("max", field.maximum)):
            if bound is not None:
                element[key] = _number(bound)
        if current and _number(current[0]) is not None:
            element["value"] = _number(current[0])
        return [{**element, **common}]
    if kind == "date":
        element = {"type": "Input.Date", "id": input_id, **placeholder}
        if current:
            element["value"] = current[0][:10]
        return [{**element, **common}]
    longest = text_limit(field)
    element = {"type": "Input.Text", "id": input_id, "maxLength": longest, **placeholder}
    if kind == "long_text":
        element["isMultiline"] = True
    if current:
        element["value"] = ", ".join(current)[:longest]
    return [{**element, **common}]


def field_value(field_kind: str, input_id: str, data: dict[str, Any]) -> Any:
    """A submitted field's value from a card's data: text, a list (several choices, a ranking) or None."""
    if field_kind == "rank":
        places = sorted(
            (k for k in data if k.startswith(f"{input_id}__")), key=lambda k: int(k.rsplit("__", 1)[1] or 0)
        )
        picked: list[str] = []
        for key in places:
            value = str(data.get(key) or "").strip()
            if value and value not in picked:
                picked.append(value)
        return picked or None
    raw = data.get(input_id)
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if field_kind == "multi_choice":
        return [part for part in (p.strip() for p in text.split(",")) if part]
    return text

"""Forms as Slack modals, and a submitted modal's state back into the form's values.

Each field becomes an input block whose ``block_id`` is the field id; the element suits the field's kind
(text, multi-line text, number, date picker, select, multi-select, radio buttons). The form's action id
and value travel in ``private_metadata``, so a submission becomes ``Action(id=form.action, values=…)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from adapters.slack.mrkdwn import label, truncate
from adapters.slack.render import (
    MAX_MODAL_BLOCKS,
    OPTION_VALUE,
    OPTIONS_PER_SELECT,
    PLACEHOLDER,
    RenderError,
    option,
    text_sections,
)
from bot.flows.definition import CHOICE_KINDS
from bot.model import Choice, Form, FormField
from bot.wording import say

FORM_CALLBACK = "slack:form"
VIEW_TITLE = 24
INPUT_LABEL = 2000
INPUT_HINT = 2000
TEXT_INPUT_MAX = 3000
METADATA = 3000


def _choices(field: FormField) -> list[Choice]:
    if field.kind == "yes_no" and not field.choices:
        return [
            Choice(label=say("input.yes"), action="", value="yes"),
            Choice(label=say("input.no"), action="", value="no"),
        ]
    return list(field.choices)


def _selectable(field: FormField) -> bool:
    choices = _choices(field)
    return bool(choices) and len(choices) <= OPTIONS_PER_SELECT and all(len(c.value) <= OPTION_VALUE for c in choices)


def _current(field: FormField) -> list[str]:
    if field.current is None:
        return []
    if isinstance(field.current, bool):
        return ["yes" if field.current else "no"]
    if isinstance(field.current, list):
        return [str(v) for v in field.current]
    return [str(field.current)]


def element_for(field: FormField) -> Any:
    """The input element that suits a field's kind, with its current answer filled in."""
    action_id = field.id
    current = _current(field)
    placeholder = PlainTextObject(text=label(field.hint, PLACEHOLDER)) if field.hint else None
    if field.kind in ("choice", "yes_no", "multi_choice", "rank") and _selectable(field):
        options = [option(c) for c in _choices(field)]
        chosen = [o for o in options if o.value in current]
        if field.kind == "yes_no" or (field.kind == "choice" and len(options) <= 5):
            return RadioButtonsElement(
                action_id=action_id, options=options, initial_option=chosen[0] if chosen else None
            )
        if field.kind == "choice":
            return StaticSelectElement(
                action_id=action_id,
                options=options,
                initial_option=chosen[0] if chosen else None,
                placeholder=PlainTextObject(text=label(say("slack.choose"), PLACEHOLDER)),
            )
        return StaticMultiSelectElement(
            action_id=action_id,
            options=options,
            initial_options=chosen or None,
            placeholder=PlainTextObject(text=label(say("slack.choose_many"), PLACEHOLDER)),
            max_selected_items=min(field.max_selected or len(options), len(options)),
        )
    if field.kind in ("integer", "number"):
        return NumberInputElement(
            action_id=action_id,
            is_decimal_allowed=field.kind == "number",
            initial_value=_number(current, field),
            placeholder=placeholder,
            min_value=_bound(field.minimum, field.kind),
            max_value=_bound(field.maximum, field.kind),
        )
    if field.kind == "date":
        valid = current and re.fullmatch(r"\d{4}-\d{2}-\d{2}", current[0])
        return DatePickerElement(action_id=action_id, initial_date=current[0] if valid else None)
    initial = ", ".join(current) if current else None
    return PlainTextInputElement(
        action_id=action_id,
        multiline=field.kind == "long_text",
        max_length=TEXT_INPUT_MAX,
        initial_value=truncate(initial, TEXT_INPUT_MAX) if initial else None,
        placeholder=placeholder,
    )


def _number(current: list[str], field: FormField) -> str | None:
    """The current answer if it is a number the element accepts (else the input starts empty)."""
    try:
        value = float(current[0]) if current else None
    except ValueError:
        return None
    if value is None or (field.kind == "integer" and not value.is_integer()):
        return None
    if (field.minimum is not None and value < field.minimum) or (field.maximum is not None and value > field.maximum):
        return None
    return _bound(value, field.kind)


def _bound(value: float | None, kind: str) -> str | None:
    if value is None:
        return None
    return str(int(value)) if kind == "integer" or float(value).is_integer() else str(value)


def field_block(field: FormField) -> Block:
    """One input block: label, element, hint, optional or not."""
    hint = field.hint if field.hint and field.kind not in ("text", "long_text", "integer", "number") else ""
    return InputBlock(
        block_id=field.id,
        label=PlainTextObject(text=label(field.label or field.id, INPUT_LABEL)),
        element=element_for(field),
        optional=not field.required,
        hint=PlainTextObject(text=label(hint, INPUT_HINT)) if hint else None,
    )


def form_view(form: Form, intro: str = "", conversation: str = "") -> dict[str, Any]:
    """The modal for ``form`` (validated by slack_sdk); ``intro`` is shown above the fields."""
    blocks: list[Block] = (text_sections(intro) if intro else []) + [field_block(f) for f in form.fields]
    if len(blocks) > MAX_MODAL_BLOCKS:
        blocks = [field_block(f) for f in form.fields]
    if len(blocks) > MAX_MODAL_BLOCKS:
        raise RenderError(f"form {form.action} has {len(form.fields)} fields; a modal holds {MAX_MODAL_BLOCKS}")
    carried: dict[str, Any] = {"action": form.action, "value": form.value, "conversation": conversation}
    metadata = json.dumps(carried, separators=(",", ":"))
    if form.rules:  # checked on submission, before it is accepted (adapters/slack/modals.py)
        with_rules = json.dumps({**carried, "rules": carried_rules(form.rules, blocks)}, separators=(",", ":"))
        metadata = with_rules if len(with_rules) <= METADATA else metadata  # else the engine alone checks it
    if len(metadata) > METADATA:
        raise RenderError(f"form {form.action}: metadata too long")
    view = View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=PlainTextObject(text=label(form.title, VIEW_TITLE)),
        submit=PlainTextObject(text=label(form.submit_label, VIEW_TITLE)),
        close=PlainTextObject(text=label(say("slack.form_close"), VIEW_TITLE)),
        blocks=blocks,
        private_metadata=metadata,
    )
    return view.to_dict()  # raises SlackObjectFormationError on any limit slack_sdk knows


def carried_rules(rules: list[dict[str, Any]], blocks: list[Block]) -> list[dict[str, Any]]:
    """The rules a modal carries: without the choices of fields whose element lists them (the view keeps its
    options, and Slack sends the view back with the submission: :func:`full_rules`)."""
    listed = {b.block_id for b in blocks if isinstance(b, InputBlock) and getattr(b.element, "options", None)}
    return [{k: v for k, v in rule.items() if k != "c"} if rule.get("id") in listed else rule for rule in rules]


def full_rules(rules: list[Any], view: dict[str, Any]) -> list[Any]:
    """The rules of a submitted modal with the choices of each field back from its element's options."""
    options = {
        block.get("block_id"): [str(o.get("value")) for o in block["element"]["options"] if isinstance(o, dict)]
        for block in view.get("blocks") or []
        if isinstance(block, dict) and isinstance(block.get("element"), dict) and block["element"].get("options")
    }
    return [
        {**rule, "c": options[rule.get("id")]}
        if isinstance(rule, dict) and "c" not in rule and rule.get("k") in CHOICE_KINDS and rule.get("id") in options
        else rule
        for rule in rules
    ]


def submitted(view: dict[str, Any]) -> tuple[str, str, dict[str, Any], str]:
    """A submitted modal as (action id, action value, field values, conversation). Blank fields are left out."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    values: dict[str, Any] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        for state in elements.values():
            value = element_value(state)
            if value not in (None, "", []):
                values[block_id] = value
    return (
        str(metadata.get("action", "")),
        str(metadata.get("value", "")),
        values,
        str(metadata.get("conversation", "")),
    )


def element_value(state: dict[str, Any]) -> Any:
    """The value of one input element as Slack reports it in ``view.state.values``."""
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        selected = state.get("selected_option") or {}
        return selected.get("value")
    if kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        return [o.get("value") for o in state.get("selected_options") or []]
    if kind == "datepicker":
        return state.get("selected_date")
    if kind in ("users_select",):
        return state.get("selected_user")
    return state.get("value")

"""Neutral messages as Adaptive Cards 1.5, split into as many cards as Teams' message size allows.

A message becomes: its text (rich-text blocks), its sections (text and fact sets), images (inline when
small, else a signed link) and files (a download button on a signed link), the controls (buttons, a
drop-down with a send button, the inputs of a question or a form), then its small print. Controls are
kept together in one container, so a long message splits into cards between blocks, never inside them.

Every button is an ``Action.Execute`` (an ``adaptiveCard/action`` invoke, answered at once) with an
``Action.Submit`` fallback for clients that lack it (a message with a value). Both carry the same data:
``rmbot_action`` and ``rmbot_value`` (the engine's action and value) or one of the adapter's own actions:

* ``teams:answer``: type the value (or the question's inputs) into the conversation as an answer;
* ``teams:pick``: the drop-down's choice is the value of ``rmbot_pick_action``;
* ``teams:form``: a form's inputs, as the form's action with ``values``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from adapters.teams.inputs import field_choices, field_inputs, selection_limit
from adapters.teams.markdown import escape, label, plain, text_blocks, to_markdown
from bot.model import Attachment, Choice, Form, FormField, OutgoingMessage, Section
from bot.wording import say

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
VERB = "rmbot"
ACTION, VALUE, REF, LABEL, KIND = "rmbot_action", "rmbot_value", "rmbot_ref", "rmbot_label", "rmbot_kind"
PICK_ACTION, FORM_ACTION, FORM_FIELDS = "rmbot_pick_action", "rmbot_form", "rmbot_fields"
FORM_RULES = "rmbot_rules"
"""The form's declarative validators (``Form.rules``), checked when it is submitted (adapters/teams/forms.py)."""
STEP = "rmbot_step"
"""The question a question's buttons answer (its step id), so a press on an older question is refused."""
PART = "rmbot_part"
"""In a message sent as several cards: which card a button is on (so the card pressed is the one updated)."""
LIMITS = "rmbot_limits"
"""Input id -> the most choices its multi-select takes (checked when the card is submitted: adapters/teams/limits.py)."""
ANSWER, PICK, FORM_SUBMIT = "teams:answer", "teams:pick", "teams:form"
ANSWER_INPUT, PICK_INPUT, FORM_PREFIX = "rmbot_answer", "rmbot_pick", "rmbot_f_"
CONTROLS_ID = "rmbot_controls"

CARD_BUDGET = 24_000
"""Bytes of card JSON per message: Teams refuses activities over about 28 KB."""
INLINE_IMAGE = 18_000
"""Images up to this many base64 characters travel inside the card; larger ones by signed link."""
BUTTONS_PER_ROW = 5
FACTS_PER_SET = 20
BUTTON_TITLE = 60
SUMMARY = 200

LinkFor = Callable[[int], str]
"""Gives the signed download link of a message's attachment by index ("" when links are unavailable)."""


def button(title: str, data: dict[str, Any], style: str = "default") -> dict[str, Any]:
    """An ``Action.Execute`` button with an ``Action.Submit`` fallback carrying the same data."""
    shown = label(title, BUTTON_TITLE)
    submit: dict[str, Any] = {"type": "Action.Submit", "title": shown, "data": data}
    execute: dict[str, Any] = {"type": "Action.Execute", "verb": VERB, "title": shown, "data": data}
    mapped = {"primary": "positive", "danger": "destructive"}.get(style)
    if mapped:
        submit["style"] = execute["style"] = mapped
    execute["fallback"] = submit
    return execute


def _data(action: str, value: str, ref: str, title: str, **extra: Any) -> dict[str, Any]:
    data = {ACTION: action, VALUE: value, LABEL: label(title, BUTTON_TITLE), **extra}
    if ref:
        data[REF] = ref
    return data


def _rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "ActionSet", "actions": actions[i : i + BUTTONS_PER_ROW]}
        for i in range(0, len(actions), BUTTONS_PER_ROW)
    ]


def choice_controls(choices: Sequence[Choice], ref: str, current: str | None = None) -> list[dict[str, Any]]:
    """Up to five choices as buttons; more that share one action as a drop-down and a send button."""
    actions = {c.action for c in choices}
    if len(choices) > BUTTONS_PER_ROW and len(actions) == 1 and all("," not in c.value for c in choices):
        action = actions.pop()
        element: dict[str, Any] = {
            "type": "Input.ChoiceSet",
            "id": PICK_INPUT,
            "style": "compact",
            "wrap": True,
            "placeholder": say("teams.choose"),
            "isRequired": True,
            "errorMessage": say("teams.input_required"),
            "choices": [{"title": label(c.label, 120), "value": c.value} for c in choices],
        }
        if current and current in {c.value for c in choices}:
            element["value"] = current
        send = button(say("teams.send"), _data(PICK, "", ref, say("teams.send"), **{PICK_ACTION: action}), "primary")
        return [element, {"type": "ActionSet", "actions": [send]}]
    return _rows([button(c.label, _data(c.action, c.value, ref, c.label), c.style) for c in choices])


def _limits(fields: dict[str, FormField]) -> dict[str, dict[str, int]]:
    """The button data that names the limits of these inputs (nothing when none has one)."""
    found = {input_id: limit for input_id, field in fields.items() if (limit := selection_limit(field)) is not None}
    return {LIMITS: found} if found else {}


def question_controls(question: FormField, ref: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Inputs for a question answered in the conversation (sent as if typed), and hints for under them."""
    if (
        question.kind in ("choice", "yes_no")
        and field_choices(question)
        and len(field_choices(question)) <= BUTTONS_PER_ROW
    ):
        return _rows(
            [
                button(c.label, _data(ANSWER, c.value, ref, c.label, **{STEP: question.id}), c.style)
                for c in field_choices(question)
            ]
        ), []
    inputs = field_inputs(question, ANSWER_INPUT, with_label=False)
    extra: dict[str, Any] = {KIND: question.kind, STEP: question.id, **_limits({ANSWER_INPUT: question})}
    send = button(say("teams.send"), _data(ANSWER, "", ref, say("teams.send"), **extra), "primary")
    return [*inputs, {"type": "ActionSet", "actions": [send]}], [say("teams.reply_hint", hint=question.hint)]


def form_controls(form: Form, ref: str, budget: int = CARD_BUDGET) -> list[list[dict[str, Any]]]:
    """A form's fields as inputs under its title, with a submit button; a form too big for one card is
    cut into parts, each submitted on its own (the engine takes a form's answers in any number of parts)."""
    kinds = {field.id: field.kind for field in form.fields}
    limits = _limits({FORM_PREFIX + field.id: field for field in form.fields})
    rules = {FORM_RULES: form.rules} if form.rules else {}  # checked before accepting: adapters/teams/forms.py
    extra = {FORM_ACTION: form.action, FORM_FIELDS: kinds, **limits, **rules}
    submit = button(form.submit_label, _data(FORM_SUBMIT, form.value, ref, form.submit_label, **extra), "primary")
    title = {
        "type": "TextBlock",
        "text": escape(label(form.title, 200)),
        "wrap": True,
        "weight": "Bolder",
        "size": "Medium",
    }
    room = budget - size(submit) - size(title) - 500
    groups: list[list[dict[str, Any]]] = [[]]
    used = 0
    for field in form.fields:
        inputs = field_inputs(field, FORM_PREFIX + field.id)
        if field.hint and field.kind not in ("text", "long_text", "integer", "number"):
            inputs += text_blocks(field.hint, subtle=True)
        cost = size(inputs)
        if groups[-1] and used + cost > room:
            groups.append([])
            used = 0
        groups[-1] += inputs
        used += cost
    return [[title, *group, {"type": "ActionSet", "actions": [submit]}] for group in groups]


def section_elements(section: Section) -> list[dict[str, Any]]:
    """A section: its text, then its facts (twenty to a fact set)."""
    elements = text_blocks(section.text) if section.text else []
    facts = [
        {"title": escape(label(name, 200)), "value": to_markdown(value) if value.strip() else "-"}
        for name, value in section.fields
    ]
    for start in range(0, len(facts), FACTS_PER_SET):
        elements.append({"type": "FactSet", "facts": facts[start : start + FACTS_PER_SET]})
    if elements:
        elements[0] = {**elements[0], "separator": True, "spacing": "Medium"}
    return elements


def attachment_elements(
    attachments: Sequence[Attachment], link_for: LinkFor | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Images inline (or by link) and files as download buttons; notes for what cannot be offered."""
    elements: list[dict[str, Any]] = []
    notes: list[str] = []
    downloads: list[dict[str, Any]] = []
    for index, attachment in enumerate(attachments):
        name = attachment.title or attachment.filename
        link = link_for(index) if link_for else ""
        if attachment.media_type in ("image/png", "image/jpeg", "image/gif"):
            if len(attachment.content_b64) <= INLINE_IMAGE:
                url = f"data:{attachment.media_type};base64,{attachment.content_b64}"
            else:
                url = link
            if url:
                elements.append({"type": "Image", "url": url, "altText": label(name, 200), "size": "Stretch"})
                continue
        if link:
            downloads.append(
                {
                    "type": "Action.OpenUrl",
                    "url": link,
                    "title": label(say("teams.download", name=attachment.filename), BUTTON_TITLE),
                }
            )
        else:
            notes.append(say("teams.file_unavailable", name=attachment.filename))
    return elements + _rows(downloads), notes


def _controls(message: OutgoingMessage, ref: str, budget: int) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """The message's controls, as groups that each stay together in one card, and hints for under them."""
    elements: list[dict[str, Any]] = []
    hints: list[str] = []
    question = message.question
    if message.choices:
        current = str(question.current) if question is not None and question.current is not None else None
        elements += choice_controls(message.choices, ref, current)
    elif question is not None:
        controls, hints = question_controls(question, ref)
        elements += controls
    groups = [elements] if elements else []
    if message.form is not None:
        groups += form_controls(message.form, ref, budget)
    return groups, hints


def message_elements(
    message: OutgoingMessage, ref: str = "", link_for: LinkFor | None = None, budget: int = CARD_BUDGET
) -> list[dict[str, Any]]:
    """Every body element of ``message``, in reading order; controls in containers that are never split."""
    elements = text_blocks(message.text)
    for section in message.sections:
        elements += section_elements(section)
    files, notes = attachment_elements(message.attachments, link_for)
    elements += files
    groups, hints = _controls(message, ref, budget)
    for number, group in enumerate(groups):
        elements.append(
            {
                "type": "Container",
                "id": CONTROLS_ID + (f"_{number + 1}" if number else ""),
                "items": group,
                "spacing": "Medium",
            }
        )
    for note in [*message.context, *hints, *notes]:
        elements += text_blocks(note, subtle=True)
    return elements or text_blocks(say("teams.empty_message"))


def card(body: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    """An Adaptive Card 1.5 around ``body``."""
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body, "fallbackText": fallback}


def size(value: Any) -> int:
    """Bytes of ``value`` as JSON (what counts against Teams' message size)."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def render(
    message: OutgoingMessage, ref: str = "", link_for: LinkFor | None = None, budget: int = CARD_BUDGET
) -> list[dict[str, Any]]:
    """``message`` as one card, or several when it is larger than one Teams message can carry (a message with
    more than ``MESSAGE_TEXT_LIMIT`` characters of text is shortened first, with a note: a few cards at most)."""
    message = message.shortened(say("teams.shortened"))
    fallback = plain(message.text, SUMMARY) or " "
    parts: list[list[dict[str, Any]]] = [[]]
    used = 0
    for element in message_elements(message, ref, link_for, budget):
        cost = size(element)
        if parts[-1] and used + cost > budget:
            parts.append([])
            used = 0
        parts[-1].append(element)
        used += cost
    later = plain(say("teams.continued"), SUMMARY)
    if len(parts) > 1:
        parts = [_on_part(body, number) for number, body in enumerate(parts)]
    return [card(body, fallback if number == 0 else later) for number, body in enumerate(parts)]


def _on_part(body: list[dict[str, Any]], number: int) -> list[dict[str, Any]]:
    """``body`` (card ``number`` of a message) with that number in the data of its buttons (:data:`PART`)."""
    stamped = json.loads(json.dumps(body))  # a form's parts share one submit button's data: copied, not shared
    for element in _walk(stamped):
        if element.get("type") in ("Action.Execute", "Action.Submit") and isinstance(element.get("data"), dict):
            element["data"][PART] = number
    return stamped


def _walk(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for inner in value.values():
            found += _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _walk(inner)
    return found


def summary(message: OutgoingMessage) -> str:
    """The notification text of a message (what Teams shows in the activity feed and on phones)."""
    return plain(message.text, SUMMARY)


def answered(
    message: OutgoingMessage, note: str, link_for: LinkFor | None = None, part: int = -1, ref: str = ""
) -> dict[str, Any]:
    """The card a pressed card is replaced with (:mod:`adapters.teams.pressed`): card ``part`` of the message
    (the last by default), its controls replaced by ``note`` (neutral markdown: what became of the press)."""
    parts = render(message, ref, link_for)
    shown = parts[part] if -len(parts) <= part < len(parts) else parts[-1]
    body = [e for e in shown["body"] if not str(e.get("id", "")).startswith(CONTROLS_ID)]
    body += text_blocks(note, subtle=True)
    return card(body, shown["fallbackText"])

"""Neutral messages as Block Kit, built with slack_sdk's models and kept within Slack's limits.

Every block goes through ``to_dict()``, which raises on any limit slack_sdk knows; the limits it does not
check (50 blocks per message, 2,000 characters per section field, the aggregate size Slack accepts)
are kept here by splitting long text and paging a message that would be too big into several posts. A
message is first shortened to :data:`~bot.model.MESSAGE_TEXT_LIMIT` characters of text, which bounds the
posts (and the work) one message can take.

Action ids carry the engine's action id before a ``|`` (``consent|0``): Slack wants action ids unique
within a block, the engine wants its own id back; :func:`engine_action` undoes the suffix. Actions the
adapter handles itself start with ``slack:`` (answers from selects, opening a form, running a command).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)

from adapters.slack.mrkdwn import chunks, escape, label, to_mrkdwn, to_plain
from bot.markup import plain_text
from bot.model import Choice, FormField, OutgoingMessage, Section
from bot.wording import escape as escape_neutral
from bot.wording import say

MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
PAGE_TEXT_BUDGET = 12_000
"""Characters of text per message: Slack refuses ~13k in total even when every block is within limits."""
BLOCK_TEXT_BUDGET = 6_000
"""Characters of text per block (fields, notes, options packed to it), so any block fits on a page."""
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
ACTIONS_ELEMENTS = 25
BUTTONS_PER_ROW = 5
SELECT_TEXT = 4_000
"""Characters of option text per select, so that a select and its neighbours fit in one block."""
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTIONS_PER_SELECT = 100
PLACEHOLDER = 150
FALLBACK_TEXT = 3000
BLOCK_ID = 255

ANSWER = "slack:answer"
"""A button or select whose value is typed into the conversation as the person's answer."""
PICK = "slack:pick"
"""A select whose choice waits for the ``SUBMIT`` button next to it (multiple choice, ranking)."""
SUBMIT = "slack:submit"
OPEN_FORM = "slack:open_form"


class RenderError(ValueError):
    """A message that cannot be shown in Slack at all (it is refused, never half-sent)."""


@dataclass
class Page:
    """One ``chat.postMessage``: notification text and blocks."""

    text: str
    blocks: list[dict[str, Any]]


def engine_action(action_id: str) -> str:
    """The engine's action id from a Slack action id (``consent|1`` -> ``consent``)."""
    return action_id.split("|", 1)[0]


def text_size(value: Any) -> int:
    """Characters of text in a block (every ``text`` string in it, however deep)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(text_size(v) for v in value)
    return 0


# -- building blocks -------------------------------------------------------------------------------


def text_sections(text: str) -> list[Block]:
    """Neutral markdown as one or more section blocks of at most 3,000 characters each."""
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks(text, SECTION_TEXT)]


def section_blocks(section: Section) -> list[Block]:
    """A section's text, then its label/value facts (10 to a block; long facts as text of their own)."""
    blocks = text_sections(section.text) if section.text else []
    pending: list[str] = []

    def flush() -> None:
        blocks.extend(
            SectionBlock(fields=[MarkdownTextObject(text=f) for f in group])
            for group in pack(pending, FIELDS_PER_SECTION)
        )
        pending.clear()

    for name, value in section.fields:
        fact = f"*{escape(plain_text(name))}*\n{to_mrkdwn(value) if value.strip() else '-'}"
        if len(fact) <= FIELD_TEXT:
            pending.append(fact)
            continue
        flush()
        blocks.extend(text_sections(f"**{escape_neutral(plain_text(name))}**\n{value}"))
    flush()
    return blocks


def pack(
    items: Sequence[Any],
    count: int,
    budget: int = BLOCK_TEXT_BUDGET,
    size: Any = lambda item: text_size(item) if not isinstance(item, str) else len(item),
) -> list[list[Any]]:
    """``items`` in order, in groups of at most ``count`` whose sizes add up to at most ``budget``."""
    groups: list[list[Any]] = [[]]
    used = 0
    for item in items:
        weight = size(item)
        if groups[-1] and (len(groups[-1]) >= count or used + weight > budget):
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += weight
    return [group for group in groups if group]


def context_blocks(notes: Iterable[str]) -> list[Block]:
    """Small print under a message: up to ten notes to a context block, long notes split."""
    texts = [chunk for note in notes for chunk in chunks(note, CONTEXT_TEXT)]
    return [
        ContextBlock(elements=[MarkdownTextObject(text=t) for t in group]) for group in pack(texts, CONTEXT_ELEMENTS)
    ]


def button(choice_label: str, action: str, value: str, index: int, style: str = "default") -> ButtonElement:
    """A button whose action id carries the engine's action id; its value comes back unchanged."""
    if len(value) > BUTTON_VALUE:
        raise RenderError(f"button value of {len(value)} characters for {action}")
    return ButtonElement(
        text=PlainTextObject(text=label(choice_label, BUTTON_TEXT)),
        action_id=f"{action}|{index}",
        value=value,
        style=style if style in ("primary", "danger") else None,
    )


def option(choice: Choice, value: str | None = None) -> Option:
    """A select option from a choice (label and description cut to Slack's 75 characters)."""
    return Option(
        value=value if value is not None else choice.value,
        label=label(choice.label, OPTION_TEXT),
        description=label(choice.description, OPTION_TEXT) if choice.description else None,
    )


def button_rows(choices: Sequence[Choice]) -> list[Block]:
    """Choices as buttons, five to a row."""
    return [
        ActionsBlock(elements=[button(c.label, c.action, c.value, start + i, c.style) for i, c in enumerate(group)])
        for start, group in ((s, choices[s : s + BUTTONS_PER_ROW]) for s in range(0, len(choices), BUTTONS_PER_ROW))
    ]


def _option_size(item: Option) -> int:
    return text_size(item.to_dict())


def select_blocks(choices: Sequence[Choice], action: str, current: int | None = None) -> list[Block]:
    """Choices sharing one action as static selects (100 options each), packed into actions blocks."""
    selects = []
    start = 0
    for number, group in enumerate(pack([option(c) for c in choices], OPTIONS_PER_SELECT, SELECT_TEXT, _option_size)):
        initial = group[current - start] if current is not None and start <= current < start + len(group) else None
        start += len(group)
        selects.append(
            StaticSelectElement(
                placeholder=PlainTextObject(text=label(say("slack.choose"), PLACEHOLDER)),
                action_id=f"{action}|s{number}",
                options=group,
                initial_option=initial,
            )
        )
    return [
        ActionsBlock(elements=group) for group in pack(selects, ACTIONS_ELEMENTS, size=lambda e: text_size(e.to_dict()))
    ]


def choice_blocks(choices: Sequence[Choice], current: int | None = None) -> list[Block]:
    """Up to five choices as buttons; more, sharing one action, as a select; otherwise rows of buttons."""
    if len(choices) <= BUTTONS_PER_ROW:
        return button_rows(choices)
    actions = {c.action for c in choices}
    if len(actions) == 1 and all(len(c.value) <= OPTION_VALUE for c in choices):
        return select_blocks(choices, actions.pop(), current)
    return button_rows(choices)


def question_blocks(question: FormField, has_choices: bool) -> tuple[list[Block], list[str]]:
    """Controls for a question whose answer is typed back into the conversation, and hints under it."""
    if question.kind in ("choice", "yes_no") and not has_choices:
        options = question.choices or [
            Choice(label=say("input.yes"), action=ANSWER, value="yes", style="primary"),
            Choice(label=say("input.no"), action=ANSWER, value="no"),
        ]
        as_answers = [Choice(label=c.label, action=ANSWER, value=c.value, style=c.style) for c in options]
        return answering(choice_blocks(as_answers, _current_index(question)), question.id), []
    if question.kind in ("multi_choice", "rank") and question.choices:
        return _pick_blocks(question), [say("slack.pick_hint", kind=question.kind, hint=question.hint)]
    if question.kind in ("choice", "yes_no"):
        return [], []
    return [], [say("slack.reply_hint", kind=question.kind, hint=question.hint)]


def answering(blocks: list[Block], question_id: str) -> list[Block]:
    """``blocks`` (the controls answering one question) with block ids naming the question, which comes back in
    a press (:func:`answered_question`) so that an answer to a question that has moved on is refused."""
    for number, block in enumerate(blocks):
        block.block_id = f"{ANSWER}:{number}:{question_id}"[:BLOCK_ID]
    return blocks


def answered_question(block_id: str) -> str:
    """The question a press of an answering control answers (see :func:`answering`); "" for other blocks."""
    if not block_id.startswith(f"{ANSWER}:"):
        return ""
    return block_id[len(ANSWER) + 1 :].partition(":")[2]


def _current_index(question: FormField) -> int | None:
    for index, choice in enumerate(question.choices):
        if question.current is not None and choice.value == str(question.current):
            return index
    return None


def _pick_blocks(question: FormField) -> list[Block]:
    """Multiple choice: multi-selects; ranking: one select per place; then a button that sends the picks."""
    options = [option(c) for c in question.choices if len(c.value) <= OPTION_VALUE]
    send = button(say("slack.send_answer"), SUBMIT, question.kind, 0, "primary")
    elements: list[Any] = []
    if question.kind == "multi_choice":
        current = {str(v) for v in question.current} if isinstance(question.current, list) else set()
        for number, group in enumerate(pack(options, OPTIONS_PER_SELECT, SELECT_TEXT, _option_size)):
            chosen = [o for o in group if o.value in current]
            elements.append(
                StaticMultiSelectElement(
                    placeholder=PlainTextObject(text=label(say("slack.choose_many"), PLACEHOLDER)),
                    action_id=f"{PICK}|{number}",
                    options=group,
                    initial_options=chosen or None,
                    max_selected_items=min(question.max_selected or len(group), len(group)),
                )
            )
    else:
        if len(options) > OPTIONS_PER_SELECT or sum(map(_option_size, options)) > SELECT_TEXT:
            return []  # too many to rank with selects: the person types their ranking
        places = min(question.max_selected or 3, len(options), ACTIONS_ELEMENTS - 1)
        elements = [
            StaticSelectElement(
                placeholder=PlainTextObject(text=label(say("slack.rank_place", place=place + 1), PLACEHOLDER)),
                action_id=f"{PICK}|{place}",
                options=options,
            )
            for place in range(places)
        ]
    groups = pack(elements, ACTIONS_ELEMENTS - 1, size=lambda e: text_size(e.to_dict()))
    groups[-1].append(send)
    return [ActionsBlock(block_id=PICK if n == 0 else f"{PICK}:{n}", elements=group) for n, group in enumerate(groups)]


def message_blocks(message: OutgoingMessage, form_ref: str = "") -> list[Block]:
    """Every block of ``message``, in reading order, before paging."""
    blocks: list[Block] = text_sections(message.text)
    for section in message.sections:
        blocks += section_blocks(section)
    hints: list[str] = []
    question = message.question
    if message.choices:
        current = _current_index(question) if question is not None and question.kind == "choice" else None
        blocks += choice_blocks(message.choices, current)
    if question is not None:
        controls, hints = question_blocks(question, bool(message.choices))
        blocks += controls
    if message.form is not None:
        blocks.append(
            ActionsBlock(
                elements=[button(say("slack.open_form", title=message.form.title), OPEN_FORM, form_ref, 0, "primary")]
            )
        )
    return blocks + context_blocks([*message.context, *hints])


def paginate(
    blocks: Sequence[Block], limit: int = MAX_BLOCKS, budget: int = PAGE_TEXT_BUDGET
) -> list[list[dict[str, Any]]]:
    """Validated blocks split into pages of at most ``limit`` blocks and ``budget`` characters of text."""
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for block in blocks:
        as_dict = block.to_dict()  # raises SlackObjectFormationError on any limit slack_sdk knows
        size = text_size(as_dict)
        if pages[-1] and (len(pages[-1]) >= limit or used + size > budget):
            pages.append([])
            used = 0
        pages[-1].append(as_dict)
        used += size
    return [page for page in pages if page] or [[]]


def render_message(message: OutgoingMessage, form_ref: str = "") -> list[Page]:
    """``message`` as one or more posts (more only when it is too big for one), each within every limit.

    A message with more than ``MESSAGE_TEXT_LIMIT`` characters of text is shortened first (with a note), so
    rendering one message is bounded work and a few posts at most."""
    message = message.shortened(say("slack.shortened"))
    pages = paginate(message_blocks(message, form_ref))
    first = to_plain(message.text, FALLBACK_TEXT) or " "
    later = to_plain(say("slack.continued"), FALLBACK_TEXT)
    return [Page(text=first if number == 0 else later, blocks=blocks) for number, blocks in enumerate(pages)]

"""Answers to buttons pressed in the App Home (or in a modal it opened), shown in a modal, not in the DMs.

A button in the Home tab has no conversation: the press reaches the engine as an ordinary action whose
``conversation`` is :func:`view_conversation` (the kind of view and the press's ``trigger_id``). The engine's
private answers to that press carry it as ``reply_in``; the deliverer then opens them as a modal with the
trigger (``views.open``; from a modal, ``views.push`` onto it) instead of posting a DM. What a modal cannot
hold goes to the DMs as before: a question waiting for a typed answer, a form (it opens its own modal), files,
or more than a modal's 100 blocks; so does an answer whose trigger has expired (the outbox was far behind).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import PlainTextObject
from slack_sdk.models.views import View

from adapters.slack.mrkdwn import label
from adapters.slack.render import MAX_MODAL_BLOCKS, RenderError, message_blocks
from bot.model import OutgoingMessage
from bot.wording import say

log = logging.getLogger(__name__)
VIEW_PREFIX = "slack-view:"
"""How the ``conversation`` of a press in a view starts: ``slack-view:open:TRIGGER`` (the Home tab) or
``slack-view:push:TRIGGER`` (a modal)."""
ANSWER_CALLBACK = "rmbot_answer"
VIEW_TITLE = 24


def view_conversation(view_type: str, trigger_id: str) -> str:
    """The ``conversation`` of a press in a view of ``view_type`` (``home`` or ``modal``): where to answer."""
    return f"{VIEW_PREFIX}{'push' if view_type == 'modal' else 'open'}:{trigger_id}"


def view_target(reply_in: str) -> tuple[str, str] | None:
    """``(Web API method, trigger id)`` for an answer to a press in a view; None for any other answer."""
    if not reply_in.startswith(VIEW_PREFIX):
        return None
    how, _, trigger = reply_in.removeprefix(VIEW_PREFIX).partition(":")
    if how not in ("open", "push") or not trigger:
        return None
    return f"views.{how}", trigger


def answer_view(message: OutgoingMessage) -> dict[str, Any] | None:
    """``message`` as a modal (validated by slack_sdk), or None when a modal cannot hold it."""
    if message.question is not None or message.form is not None or message.attachments:
        return None
    blocks = message_blocks(message.shortened(say("slack.shortened")))
    if not blocks or len(blocks) > MAX_MODAL_BLOCKS:
        return None
    view = View(
        type="modal",
        callback_id=ANSWER_CALLBACK,
        title=PlainTextObject(text=label(say("slack.answer_title"), VIEW_TITLE)),
        close=PlainTextObject(text=label(say("slack.answer_close"), VIEW_TITLE)),
        blocks=blocks,
    )
    return view.to_dict()  # raises SlackObjectFormationError on any limit slack_sdk knows


def show_answer(call: Callable[..., Any], client: WebClient, message: OutgoingMessage) -> bool:
    """Open ``message`` as a modal when it answers a press in a view; False when it does not or a modal cannot
    hold it. ``call(method name, client method, **arguments)`` makes the paced call (its errors are the caller's)."""
    target = view_target(message.reply_in)
    if target is None:
        return False
    try:
        view = answer_view(message)
    except (RenderError, SlackObjectFormationError) as problem:
        log.info("answer not shown in a modal (%s)", problem)
        return False
    if view is None:
        return False
    method, trigger = target
    call(method, client.views_open if method == "views.open" else client.views_push, trigger_id=trigger, view=view)
    return True

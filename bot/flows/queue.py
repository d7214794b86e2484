"""The queue of questionnaires per person: one open at a time, the others waiting in order.

A questionnaire the bot opens while another is open waits in ``ConversationState.waiting`` (stored with
the rest of the conversation, so it survives restarts) and opens by itself when the open one ends:
finished, cancelled or expired. One the person asks for opens at once, and the open one waits at the
front. A questionnaire whose ``expires_at`` passes is closed with a notice, never silently. Buttons carry
the flow instance (:func:`instance_of`), so a pressed button answers the questionnaire it belongs to. A
question held for the person's working hours is shown as soon as they write (:meth:`FlowQueue.show_held`),
and what they typed before seeing it is not taken as its answer.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from bot.context import Turn
from bot.flows.definition import Flow
from bot.flows.values import OpenValue
from bot.model import Action, Address, Choice
from bot.ports import ConversationState
from bot.wording import say

OPEN_ACTION = "flow.open"
EXPIRY_JOB = "flow_expiry"


def flow_key(flow_id: str, context: dict[str, Any]) -> str:
    """The key of one flow instance: its id and ``context["key"]`` (or the whole context)."""
    return f"{flow_id}:{context['key'] if 'key' in context else json.dumps(context, sort_keys=True)}"


def instance_of(key: str) -> str:
    """The short id of one flow instance that its buttons carry."""
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def waiting_labels(state: ConversationState) -> list[str]:
    """How each waiting questionnaire of ``state`` is named to its person, in order."""
    return [str(entry.get("label", "")) for entry in state.waiting]


class FlowQueue:
    """The waiting questionnaires of a person; :class:`~bot.flows.runner.FlowRunner` builds on it."""

    @staticmethod
    def active(turn: Turn) -> bool:
        return bool(turn.state and turn.state.flow)

    def build(self, turn: Turn, flow_id: str, context: dict[str, Any]) -> Flow:
        raise NotImplementedError

    def ask(self, turn: Turn, intro: bool = False, kind: str = "reply") -> None:
        raise NotImplementedError

    def _open(
        self,
        turn: Turn,
        flow_id: str,
        context: dict[str, Any],
        answers: dict[str, Any] | None,
        at_step: str | None,
        kind: str,
        ask: bool = True,
    ) -> None:
        raise NotImplementedError

    def current_key(self, turn: Turn) -> str | None:
        """The key of the open flow, if one is open."""
        state = turn.state
        return flow_key(state.flow, state.context) if state and state.flow else None

    def label(self, turn: Turn, flow_id: str, context: dict[str, Any]) -> str:
        """How a questionnaire is named in lists of what is waiting ("the midpoint survey")."""
        title = self.build(turn, flow_id, context).title
        return say("flow.waiting_label", flow=flow_id, context=context, title=title)

    def _progress(self, turn: Turn) -> dict[str, Any]:
        """The open flow as a queue entry, with its progress."""
        state = turn.state
        assert state is not None and state.flow
        return {
            "flow": state.flow,
            "key": flow_key(state.flow, state.context),
            "label": self.label(turn, state.flow, state.context),
            "version": state.flow_version,
            "step": state.step,
            "answers": state.answers,
            "history": state.history,
            "context": state.context,
        }

    def _close_current(self, turn: Turn) -> None:
        state = turn.state
        assert state is not None
        state.flow, state.step, state.answers, state.history, state.context = None, None, {}, [], {}
        turn.save_state()

    def _enqueue(self, turn: Turn, flow_id: str, context: dict[str, Any]) -> None:
        """The bot opened a questionnaire while another is open: it waits its turn (once)."""
        state = turn.state
        assert state is not None
        key = flow_key(flow_id, context)
        if any(entry["key"] == key for entry in state.waiting):
            return
        label = self.label(turn, flow_id, context)
        entry: dict[str, Any] = {"flow": flow_id, "key": key, "label": label, "version": None, "step": None}
        state.waiting.append({**entry, "answers": {}, "history": [], "context": context})
        turn.save_state()
        assert state.flow is not None
        current = self.build(turn, state.flow, state.context).title
        turn.reply(say("flow.queued", label=label, current=current), kind="nudge")

    def _wait_current(self, turn: Turn) -> None:
        """The person asked for another flow: the open one waits at the front of the queue, answers kept."""
        state = turn.state
        assert state is not None and state.flow
        title = self.build(turn, state.flow, state.context).title
        state.waiting.insert(0, self._progress(turn))
        self._close_current(turn)
        turn.reply(say("flow.waits", title=title))

    def _take_waiting(self, turn: Turn, key: str) -> dict[str, Any] | None:
        state = turn.state
        assert state is not None
        for index, entry in enumerate(state.waiting):
            if entry["key"] == key:
                return state.waiting.pop(index)
        return None

    @staticmethod
    def _expired(entry: dict[str, Any], now: datetime) -> bool:
        expires = entry.get("context", {}).get("expires_at")
        return bool(expires) and datetime.fromisoformat(str(expires)) <= now

    def open_next(self, turn: Turn, kind: str = "reply") -> None:
        """Nothing is open: close what expired (with a notice), say what waits, and open the first."""
        state = turn.state
        assert state is not None
        if state.flow:
            return
        while state.waiting and self._expired(state.waiting[0], turn.now):
            gone = state.waiting.pop(0)
            turn.reply(say("flow.expired", label=gone.get("label", ""), started=False), kind=kind)
        turn.save_state()
        if not state.waiting:
            return
        labels = waiting_labels(state)
        turn.reply(say("flow.waiting_next", count=len(labels), labels=labels), kind=kind)
        entry = state.waiting[0]
        self._open(turn, entry["flow"], dict(entry.get("context", {})), None, None, kind=kind)

    def switch_to(self, turn: Turn, instance: str, ask: bool = True) -> bool:
        """Open the waiting or stopped flow ``instance`` now (the open one waits); False if there is none."""
        state = turn.state
        assert state is not None
        found: dict[str, Any] | None = next((e for e in state.waiting if instance_of(e["key"]) == instance), None)
        if found is None:
            key = next((k for k in state.suspended if instance_of(k) == instance), None)
            if key is None:
                return False
            found = {"flow": key.partition(":")[0], "context": state.suspended[key].get("context", {})}
        if state.flow:
            self._wait_current(turn)
        self._open(turn, found["flow"], dict(found.get("context", {})), None, None, kind="reply", ask=ask)
        return True

    def expire(self, turn: Turn, person_id: int, key: str) -> None:
        """A questionnaire's time ran out: close it wherever it is, with a notice, and open the next."""
        state = turn.state
        assert state is not None
        started = self.current_key(turn) == key
        if started:
            if not self._expired({"context": state.context}, turn.now):
                return
            label = self.label(turn, str(state.flow), state.context)
            self._close_current(turn)
        else:
            entry = self._take_waiting(turn, key)
            saved = state.suspended.pop(key, None)
            if entry is not None and not self._expired(entry, turn.now):
                state.waiting.insert(0, entry)
                return
            if entry is None and saved is None:
                return
            label = entry["label"] if entry else self.label(turn, key.partition(":")[0], saved["context"])
            turn.save_state()
        turn.message(Address.person(person_id), say("flow.expired", label=label, started=started), kind="nudge")
        self.open_next(turn, kind="nudge")

    def show_held(self, turn: Turn) -> bool:
        """The person is writing to the bot while a questionnaire is open: whatever the outbox still holds
        for them goes out now. True if that includes the open question (so they have not seen it yet)."""
        state = turn.state
        assert state is not None
        released = turn.uow.outbox.release_held(turn.tenant.id, turn.me.id, turn.now)
        return any(m.question is not None and m.question.id == state.step for m in released)

    def todo(self, turn: Turn) -> None:
        """``todo``: the open questionnaire, those waiting in order, and those stopped with ``cancel``."""
        state = turn.state
        assert state is not None
        current = self.label(turn, state.flow, state.context) if state.flow else ""
        stopped = {k: self.label(turn, k.partition(":")[0], v.get("context", {})) for k, v in state.suspended.items()}
        buttons = [
            Choice(
                label=say("flow.open_label", label=e["label"]),
                action=OPEN_ACTION,
                value=OpenValue(instance_of(e["key"])).encode(),
            )
            for e in state.waiting
        ] + [
            Choice(
                label=say("flow.open_label", label=label),
                action=OPEN_ACTION,
                value=OpenValue(instance_of(key)).encode(),
            )
            for key, label in stopped.items()
        ]
        turn.reply(
            say("flow.todo", current=current, waiting=waiting_labels(state), stopped=list(stopped.values())),
            choices=buttons,
        )

    def handle_open(self, turn: Turn, action: Action) -> None:
        """An "answer now" button of ``todo``."""
        if not self.switch_to(turn, OpenValue.decode(action.value).instance):
            turn.outdated = True
            turn.reply(say("flow.stale_answer"))
            if self.active(turn):
                self.ask(turn)

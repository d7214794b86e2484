"""A refusal undoes what the refused part of the turn changed, whether it came before or after a write
(``bot/refusals.py``): the person gets the refusal once, nothing the refused part wrote stays, and the event is
handled once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import OffsetClock
from bot.context import Turn
from bot.engine import Engine
from bot.errors import CommandError
from bot.handlers import default_handlers
from bot.handling import OnAction
from bot.model import Action
from chat import Chat
from storage.store import SqlStore

WRITES_THEN_REFUSES = "test.writes_then_refuses"
REFUSES_AT_ONCE = "test.refuses_at_once"
ADA = "ada@example.com"


def chat_with(store: SqlStore, calls: list[str]) -> Chat:
    """A chat whose engine also has two buttons: one that renames its presser and tells them, then refuses;
    one that refuses before changing anything."""

    def writes_then_refuses(turn: Turn, _action: Action) -> None:
        calls.append(WRITES_THEN_REFUSES)
        me = turn.me
        me.name = "Renamed by a refused press"
        turn.uow.people.save(me)
        turn.reply("This answer must never be sent.")
        raise CommandError("commands.unknown_action")

    def refuses_at_once(turn: Turn, _action: Action) -> None:
        calls.append(REFUSES_AT_ONCE)
        raise CommandError("commands.unknown_action")

    chat = Chat(store, OffsetClock(start=datetime(2030, 3, 4, 10, 0, tzinfo=UTC)))
    handlers = (
        *default_handlers(),
        OnAction(action=WRITES_THEN_REFUSES, run=writes_then_refuses),
        OnAction(action=REFUSES_AT_ONCE, run=refuses_at_once),
    )
    chat.runtime.engine = Engine(handlers=handlers)
    chat.add_person(ADA, "Ada")
    return chat


def test_a_refusal_after_writes_leaves_nothing_of_them_and_is_given_once(store: SqlStore) -> None:
    calls: list[str] = []
    chat = chat_with(store, calls)

    answers = chat.send(ADA, action=Action(id=WRITES_THEN_REFUSES, value=""), event_id="press-1")

    assert answers == ["That button is no longer active. Type `help` to see what you can do."]
    assert chat.person(ADA).name == "Ada"  # the rename was undone with the rest of the turn
    assert calls == [WRITES_THEN_REFUSES]  # the second pass gives the refusal without pressing again
    assert store.inbox.pending_count() == 0
    assert chat.send(ADA, action=Action(id=WRITES_THEN_REFUSES, value=""), event_id="press-1") == []  # a retry
    assert calls == [WRITES_THEN_REFUSES]


def test_a_refusal_before_any_write_is_handled_in_one_pass(store: SqlStore) -> None:
    calls: list[str] = []
    chat = chat_with(store, calls)

    answers = chat.send(ADA, action=Action(id=REFUSES_AT_ONCE, value=""))

    assert answers == ["That button is no longer active. Type `help` to see what you can do."]
    assert calls == [REFUSES_AT_ONCE]
    assert chat.send(ADA, "help")[0]  # the next event is handled as usual

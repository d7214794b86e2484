"""Handlers are declared as data and checked when the engine is built; button values are typed and versioned."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.engine import Engine
from bot.handlers import default_handlers
from bot.handling import HandlerProblem, Handling, OnAction, OnCommand, OnFlow
from bot.model import Action
from bot.payloads import ActionPayload, MalformedAction
from chat import Chat


def _without(kind: type, name: str) -> list[Handling]:
    key = {"OnCommand": "verb", "OnAction": "action", "OnFlow": "flow"}[kind.__name__]
    return [h for h in default_handlers() if not (isinstance(h, kind) and getattr(h, key) == name)]


def test_every_declared_verb_action_and_questionnaire_fits_at_start_up() -> None:
    engine = Engine()
    assert all(verb.handler is not None for verb in engine.registry.verbs.values())
    assert "flow.answer" in engine.actions


def test_a_handler_for_a_verb_nobody_declared_stops_the_engine_at_once() -> None:
    with pytest.raises(HandlerProblem, match="'invitee' has a handler but is not declared"):
        Engine(handlers=[*default_handlers(), OnCommand("invitee", lambda turn, args, programme: None)])


def test_a_declared_verb_without_a_handler_stops_the_engine_at_once() -> None:
    with pytest.raises(HandlerProblem, match="'status' is declared in commands.yml but nothing handles it"):
        Engine(handlers=_without(OnCommand, "status"))


def test_an_action_handled_twice_stops_the_engine_at_once() -> None:
    twice = next(h for h in default_handlers() if isinstance(h, OnAction))
    with pytest.raises(HandlerProblem, match=f"the action '{twice.action}' is handled twice"):
        Engine(handlers=[*default_handlers(), twice])


def test_a_questionnaire_naming_a_check_nobody_provides_stops_the_engine_at_once() -> None:
    propose = next(h for h in default_handlers() if isinstance(h, OnFlow) and "local_time" in h.checks)
    unchecked = [h for h in default_handlers() if h is not propose] + [OnFlow(propose.flow, propose.complete)]
    with pytest.raises(HandlerProblem, match="names the check 'local_time', which nothing provides"):
        Engine(handlers=unchecked)


@dataclass(frozen=True)
class _Pick(ActionPayload):
    participant: int
    answer: str


def test_a_payload_round_trips_with_its_version_and_reads_values_sent_before_versions() -> None:
    value = _Pick(12, "yes: with a colon").encode()
    assert value == "v1:12:yes: with a colon"
    assert _Pick.decode(value) == _Pick(12, "yes: with a colon")
    assert _Pick.decode("12:no") == _Pick(12, "no")


@pytest.mark.parametrize("value", ["", "v1:abc:yes", "v1:12", "abc", "v1:-3:yes", "v1:²:yes", "v1:" + "9" * 40 + ":x"])
def test_a_payload_that_does_not_fit_is_refused(value: str) -> None:
    with pytest.raises(MalformedAction):
        _Pick.decode(value)


def test_a_damaged_answer_button_gets_one_clear_answer_and_changes_nothing(chat: Chat) -> None:
    coordinator = "amara.okafor@example.com"
    chat.send(coordinator, "program new")  # opens the programme questionnaire
    with chat.store.unit_of_work() as uow:
        person = chat.person(coordinator)
        before = uow.conversations.load(person.tenant_id, person.id)
    replies = chat.send(coordinator, action=Action(id="flow.answer", value="v1"))
    assert replies == [
        "That button's value could not be read, so nothing was changed. Type `help` to see what you can do."
    ]
    with chat.store.unit_of_work() as uow:
        after = uow.conversations.load(person.tenant_id, person.id)
    assert (after.flow, after.step, after.answers) == (before.flow, before.step, before.answers)
    assert chat.store.inbox.pending_count() == 0  # handled once, not retried
    assert chat.send(coordinator, "Digital 2031")[0].startswith("What is")  # the questionnaire goes on


def test_an_option_a_verb_does_not_take_is_refused_with_the_ones_it_does(chat: Chat) -> None:
    coordinator = "amara.okafor@example.com"
    replies = chat.send(coordinator, "program clone --shfit 52w")
    assert replies == [
        "`program clone` has no option `--shfit`. It takes `--starts`, `--ends`, `--shift`, `--program`."
        " Did you mean `--shift`?"
    ]
    assert chat.send(coordinator, "status --verbose") == ["`status` has no option `--verbose`. It takes `--program`."]

"""The conversation engine: one inbound event in, domain changes and outgoing messages out.

``Engine.handle`` runs inside the unit of work the runtime opened for the event, so everything it
changes and every message it queues commit together, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.commands.registry import (
    RUN_COMMAND_ACTION,
    Args,
    CommandSyntaxError,
    Registry,
    Verb,
    find_programme,
    parse_args,
    split_words,
)
from bot.context import Turn
from bot.domain import Person, Programme
from bot.errors import CommandError, Outdated
from bot.flows.forms import FORM_ACTION, OPEN_FORM_ACTION
from bot.flows.queue import EXPIRY_JOB, OPEN_ACTION
from bot.flows.runner import ANSWER_ACTION, FlowRunner
from bot.flows.verbs import EDIT_ACTION, FLOW_VERBS
from bot.group_chats import pair_chat
from bot.handlers import default_handlers, validate
from bot.handling import ActionRun, DueRun, Handling, OnAction, OnCommand, OnDue, OnFlow
from bot.model import TEXT_LIMIT, Action, InboundEvent
from bot.ports import UnitOfWork
from bot.pressed import show_press
from bot.refusals import Refusals, refusable
from bot.services.directory import DirectoryService
from bot.wording import say


class Engine:
    """Routes events to commands, flows, button actions and scheduled work.

    ``handlers`` (by default every module's ``HANDLERS``) are checked at construction against the
    vocabulary and the questionnaires, so a mistake stops the service at start-up."""

    def __init__(
        self,
        handlers: Sequence[Handling] | None = None,
        registry: Registry | None = None,
        flows: FlowRunner | None = None,
        calendars: frozenset[str] = frozenset(),
    ) -> None:
        self.registry = registry or Registry()
        self.calendars = calendars
        """The calendar providers configured here (credentials present): programmes may use only these."""
        self.flows = flows or FlowRunner()
        self.actions: dict[str, ActionRun] = {
            ANSWER_ACTION: self.flows.handle_action,
            EDIT_ACTION: self.flows.handle_edit,
            FORM_ACTION: self.flows.handle_submitted,
            OPEN_FORM_ACTION: self.flows.handle_open_form,
            OPEN_ACTION: self.flows.handle_open,
            RUN_COMMAND_ACTION: lambda turn, action: self.run_command(turn, action.value),
        }
        self.due: dict[str, DueRun] = {EXPIRY_JOB: self._flow_expired}
        declared = default_handlers() if handlers is None else tuple(handlers)
        engine_own = [OnAction(action, run) for action, run in self.actions.items()] + [
            OnDue(job, run) for job, run in self.due.items()
        ]
        for handling in declared:
            self._declare(handling)
        validate([*engine_own, *declared], self.registry, self.flows)

    def _declare(self, handling: Handling) -> None:
        match handling:
            case OnCommand(verb=verb, run=run):
                found = self.registry.lookup(verb)
                if found is not None:
                    found.handler = run
            case OnAction(action=action, run=run):
                self.actions[action] = run
            case OnDue(job=job, run=run):
                self.due[job] = run
            case OnFlow():
                self.flows.register(
                    handling.flow,
                    handling.complete,
                    checks=dict(handling.checks),
                    builder=handling.builder,
                    sources=dict(handling.sources),
                )

    # -- the way in -------------------------------------------------------------------------------

    def handle(
        self, event: InboundEvent, uow: UnitOfWork, now: datetime, given: dict[int, CommandError] | None = None
    ) -> Turn:
        """Handle one event inside ``uow``; returns the turn (with the messages it queued).

        Raises :class:`~bot.refusals.UndoTurn` when a refusal came after the turn wrote: the caller rolls ``uow``
        back and handles the event again, passing the refusals gathered so far as ``given``."""
        tenant = uow.tenants.ensure(event.platform.value, event.tenant)
        turn = Turn(
            event=event,
            uow=uow,
            tenant=tenant,
            now=now,
            flows=self.flows,
            calendars=self.calendars,
            refusals=Refusals(given=dict(given or {})),
        )
        if event.kind == "due":
            handler = self.due.get(str(event.due.get("kind")))
            if handler is not None:
                handler(turn, dict(event.due.get("payload", {})))
            return turn
        turn.person = self._identify(turn)
        if turn.person is None:
            return turn
        if event.text_length and event.action is None:  # cut by the adapter: refused, whatever it says
            turn.reply(say("commands.too_long", length=event.text_length, limit=TEXT_LIMIT))
            return turn
        turn.state = uow.conversations.load(tenant.id, turn.person.id)
        unseen = self.flows.active(turn) and self.flows.show_held(turn)
        refused = False
        try:
            with refusable(uow, turn.refusals):
                if event.action is not None:
                    self._on_action(turn, event.action)
                else:
                    self._on_text(turn, event.text, event.kind, unseen)
        except CommandError as problem:
            turn.outdated = turn.outdated or isinstance(problem, Outdated)
            refused = True
            turn.reply(say(problem.key, **problem.values))
        show_press(turn, refused)
        return turn

    def _identify(self, turn: Turn) -> Person | None:
        """Who acted: by their platform identity, else by the email the event carries, else someone new."""
        return DirectoryService.of(turn.uow).identify(turn.tenant, turn.event)

    def _on_action(self, turn: Turn, action: Action) -> None:
        handler = self.actions.get(action.id)
        if handler is None:
            turn.reply(say("commands.unknown_action"))
            return
        handler(turn, action)

    def _on_text(self, turn: Turn, text: str, kind: str, unseen: bool = False) -> None:
        """Typed text: a command, or (while a questionnaire is open) the answer to the question shown.

        ``unseen``: the open question was still held for the person's working hours and is only being
        shown now, so what they typed is not its answer."""
        typed = text.strip()
        pressed = turn.event.pressed
        if pressed is not None and not self.flows.active(turn):
            raise Outdated("pressed.outdated")  # a choice answering a questionnaire that has ended
        if pressed is not None and pressed.question and turn.state and turn.state.step != pressed.question:
            turn.outdated = True  # a choice answering a question that has moved on: the question asked now
            turn.reply(say("flow.stale_answer"))
            self.flows.ask(turn)
            return
        if self.flows.active(turn) and kind == "message":
            if not turn.event.addressed and not self._is_command(turn, typed):
                if unseen:
                    turn.reply(say("flow.not_shown_yet", typed=typed))
                    return
                self.flows.handle_text(turn, typed)
                return
            self._command_inside_flow(turn, typed)
            return
        self.run_command(turn, typed)

    def _is_command(self, turn: Turn, typed: str) -> bool:
        """A message typed inside a questionnaire that is a command: exactly a declared verb (not a flow verb,
        not an answer the question offers), or a coordinator's or a two-word verb with words that the question
        shown could not take as its answer (``pair pause ...`` while a number is asked; "next year" stays an
        answer to a date, to be explained)."""
        if typed.lower() in FLOW_VERBS or self.flows.offers(turn, typed):
            return False
        try:
            found = self.registry.match(split_words(typed))
        except CommandSyntaxError:
            return False
        if found is None:
            return False
        verb, rest = found
        if not rest:
            return True
        deliberate = verb.who == "coordinator" or len(verb.words) > 1
        return deliberate and not self.flows.would_take(turn, typed)

    def _command_inside_flow(self, turn: Turn, text: str) -> None:
        """Run a command typed while a questionnaire is open, then ask its question again."""
        before = len(turn.sent)
        try:
            with refusable(turn.uow, turn.refusals):
                self.run_command(turn, text)
        except CommandError as problem:
            turn.reply(say(problem.key, **problem.values))
        if self.flows.active(turn) and not any(m.question is not None for m in turn.sent[before:]):
            self.flows.ask(turn)

    def _flow_expired(self, turn: Turn, payload: dict[str, Any]) -> None:
        person = turn.uow.people.get(int(payload.get("person_id", 0)))
        if person is None:
            return
        target = turn.as_person(person)
        self.flows.expire(target, person.id, str(payload.get("key", "")))

    # -- commands ---------------------------------------------------------------------------------

    def run_command(self, turn: Turn, text: str) -> None:
        """Parse ``text`` as a command, check who may run it, and run it."""
        if not text:
            self.run_command(turn, "help")
            return
        try:
            words = split_words(text)
        except CommandSyntaxError:
            raise CommandError("commands.unclosed_quote") from None
        found = self.registry.match(words)
        if found is None:
            first = words[0].lower()
            if first in self.registry.groups():
                subs = [v.words[1] for v in self.registry.sub_verbs(first)]
                raise CommandError(
                    "commands.missing_subverb", group=first, subs=subs, given=words[1] if len(words) > 1 else ""
                )
            raise CommandError("commands.unknown", given=words[0], suggestion=self.registry.suggest(first))
        verb, rest = found
        args = parse_args(rest, text)
        verb.unknown_options(args)
        if verb.programme_from_words and args.words and "program" not in args.options:
            args.options["program"] = " ".join(args.words)
        programme = self.authorise(turn, verb, args) if verb.who == "coordinator" else None
        turn.answer_to = pair_chat(turn, verb)
        assert verb.handler is not None  # every declared verb has one: checked when the engine was built
        verb.handler(turn, args, programme)
        if verb.who == "coordinator":
            turn.uow.audit.add(turn.tenant.id, programme.id if programme else None, turn.me.id, verb.name, text)

    def authorise(self, turn: Turn, verb: Verb, args: Args) -> Programme | None:
        """Refuse coordinator verbs to anyone who does not coordinate the programme they act on."""
        uow, me = turn.uow, turn.me
        mine = [
            p
            for p in (uow.programmes.get(pid) for pid in uow.coordinators.programmes_of(me.id))
            if p is not None and p.tenant_id == turn.tenant.id
        ]
        tenant_coordinator = uow.coordinators.is_tenant_coordinator(turn.tenant.id, me.id)
        if not mine and not (verb.scope == "tenant" and tenant_coordinator):
            raise CommandError("commands.coordinators_only", verb=verb.name)
        if verb.scope != "programme":
            return None
        wanted = args.options.get("program")
        if wanted:
            chosen = find_programme(mine, wanted)
            if chosen is None:
                raise CommandError("commands.not_your_programme", given=wanted, names=[p.name for p in mine])
        else:
            current = turn.state.current_programme_id if turn.state else None
            chosen = next((p for p in mine if p.id == current), None)
            if chosen is None:
                if not mine:
                    raise CommandError("commands.no_programme_yet")
                if len(mine) > 1:
                    raise CommandError("commands.which_programme", verb=verb.name, names=[p.name for p in mine])
                chosen = mine[0]
        if turn.state is not None and turn.state.current_programme_id != chosen.id:
            turn.state.current_programme_id = chosen.id
            turn.save_state()
        return chosen

"""Verbs for everyone: ``help``, ``todo`` and ``my-data``."""

from __future__ import annotations

from bot.commands.registry import Args, vocabulary
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.handling import Handling, OnCommand
from bot.personal_data import reply_with_my_data
from bot.wording import say


def is_coordinator(turn: Turn) -> bool:
    """Whether the person coordinates a programme, or may create one, in this tenant."""
    uow = turn.uow
    return bool(uow.coordinators.programmes_of(turn.me.id)) or uow.coordinators.is_tenant_coordinator(
        turn.tenant.id, turn.me.id
    )


def todo(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``todo``: the questionnaires waiting, in the order they open."""
    turn.flows.todo(turn)


def help_(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``help [VERB]``: the verbs this person may use, or one verb (or group of verbs) explained."""
    registry = vocabulary()
    if args.words:
        name = " ".join(args.words).lower()
        verb = registry.lookup(name) or registry.lookup(args.words[0])
        if verb is None and args.words[0].lower() in registry.groups():
            subs = registry.sub_verbs(args.words[0].lower())
            turn.reply(say("help.group", group=args.words[0].lower(), verbs=subs))
            return
        if verb is None:
            raise CommandError("commands.unknown", given=name, suggestion=registry.suggest(args.words[0]))
        turn.reply(say("help.verb", verb=verb))
        return
    coordinator = is_coordinator(turn)
    verbs = [v for v in registry.verbs.values() if v.who == "anyone" or coordinator]
    turn.reply(
        say(
            "help.list",
            anyone=[v for v in verbs if v.who == "anyone"],
            coordinator=[v for v in verbs if v.who == "coordinator"],
        )
    )


def my_data(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``my-data``: everything stored about the person, readable and as JSON."""
    reply_with_my_data(turn, turn.flows)


HANDLERS: tuple[Handling, ...] = (
    OnCommand("todo", todo),
    OnCommand("help", help_),
    OnCommand("my-data", my_data),
)

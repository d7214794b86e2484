"""``calendar [on|off]``: whether the person's calendar may be read (free/busy only) when times are offered."""

from __future__ import annotations

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.handling import Handling, OnCommand
from bot.wording import say


def calendar(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``calendar``: say whether the person's calendar is read; ``calendar off`` / ``calendar on`` change it."""
    me = turn.me
    wanted = args.words[0].lower() if args.words else ""
    if len(args.words) > 1 or wanted not in ("", "on", "off"):
        raise CommandError("calendars.usage", given=" ".join(args.words))
    if wanted:
        opt_out = wanted == "off"
        if me.calendar_opt_out != opt_out:
            me.calendar_opt_out = opt_out
            turn.person = turn.uow.people.save(me)
    turn.reply(say("calendars.status", opted_out=turn.me.calendar_opt_out, changed=bool(wanted)))


HANDLERS: tuple[Handling, ...] = (OnCommand("calendar", calendar),)

"""Verbs for everyone: ``help``, ``todo`` and ``my-data``."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from bot import grants
from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.model import Attachment
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine


def install(engine: Engine) -> None:
    registry = engine.registry

    def is_coordinator(turn: Turn) -> bool:
        uow = turn.uow
        return bool(uow.coordinators.programmes_of(turn.me.id)) or uow.coordinators.is_tenant_coordinator(
            turn.tenant.id, turn.me.id
        )

    @registry.handles("todo")
    def todo(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        engine.flows.todo(turn)

    @registry.handles("help")
    def help_(turn: Turn, args: Args, _programme: Programme | None) -> None:
        if args.words:
            name = " ".join(args.words).lower()
            verb = registry.lookup(name) or registry.lookup(args.words[0])
            if verb is None and args.words[0].lower() in registry.groups():
                subs = registry.sub_verbs(args.words[0].lower())
                turn.reply(say("help.group", group=args.words[0].lower(), verbs=subs))
                return
            if verb is None:
                raise CommandError("commands.unknown", given=name, suggestion=registry.suggest(args.words[0]))
            turn.reply(say("help.verb", verb=verb, available=verb.handler is not None))
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

    @registry.handles("my-data")
    def my_data(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        uow, me = turn.uow, turn.me
        manager = uow.people.get(me.manager_id) if me.manager_id else None
        participations = []
        for participant in uow.participants.of_person(me.id):
            programme = uow.programmes.get(participant.programme_id)
            participations.append(
                {
                    "programme": programme.name if programme else "?",
                    **participant.model_dump(mode="json", exclude={"person_id", "programme_id"}),
                }
            )
        coordinating = [p.name for p in (uow.programmes.get(i) for i in uow.coordinators.programmes_of(me.id)) if p]
        waiting = grants.visible(uow, turn.tenant, me)
        record = {
            "person": me.model_dump(mode="json", exclude={"manager_id", "tenant_id"}),
            "manager": manager.name if manager else None,
            "chat_accounts": uow.people.identities(me.id),
            "programmes": participations,
            "coordinator_of": coordinating,
            "tenant_coordinator": uow.coordinators.is_tenant_coordinator(turn.tenant.id, me.id),
            "coordinator_grants": waiting,
        }
        content = base64.b64encode(json.dumps(record, indent=2, ensure_ascii=False).encode()).decode()
        turn.reply(
            say(
                "privacy.my_data",
                me=me,
                manager=manager,
                participations=participations,
                coordinating=coordinating,
                grants=waiting,
            ),
            attachments=[
                Attachment(
                    filename="my-data.json",
                    media_type="application/json",
                    content_b64=content,
                    title=say("privacy.my_data_file"),
                )
            ],
        )

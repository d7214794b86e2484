"""Who the bot may learn about from a mention.

A person is stored only when they use the bot, are invited, or come from the HR import. A message that
merely mentions colleagues (a DM naming forty of them) must not make an adapter fetch and keep their
profiles, or even their chat accounts: adapters look mentioned people up only for a command that brings
people in (:data:`INTRODUCING`: ``invite``, ``coordinators add``) typed by someone who coordinates in the
tenant. The engine still checks that person's rights on the programme before anyone is invited.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands.registry import CommandSyntaxError, address, split_words
from bot.ports import UnitOfWork

INTRODUCING = (("invite",), ("coordinators", "add"))


def introduces_people(text: str) -> bool:
    """Whether ``text`` (an event's text: the adapter already stripped the word addressing the bot) is a
    command that brings the people it mentions into a programme."""
    try:
        words = [w.lower() for w in split_words(address(text)[0])]
    except CommandSyntaxError:
        return False
    return any(tuple(words[: len(verb)]) == verb for verb in INTRODUCING)


def may_introduce(uow: UnitOfWork, platform: str, tenant_key: str, user: str, text: str) -> bool:
    """Whether the people mentioned in ``text``, sent by ``user``, may be looked up and stored: only for a
    command that introduces people, from a coordinator of the tenant or of one of its programmes."""
    if not introduces_people(text):
        return False
    tenant = uow.tenants.find(platform, tenant_key)
    person = uow.people.by_identity(tenant.id, platform, user) if tenant is not None else None
    if tenant is None or person is None:
        return False
    return uow.coordinators.is_tenant_coordinator(tenant.id, person.id) or bool(
        uow.coordinators.programmes_of(person.id)
    )


def mention_word(sign: str, name: str, taken: Mapping[str, str], target: str) -> str:
    """The one word that stands for a mention in an event's text: ``sign`` (``@`` for a person, ``#`` for a
    channel) and the display name, its spaces as dots (``@Amara.Okafor``); ``target`` (the platform id) when
    there is no name. A name already taken by another target gets a number (``@Amara.Okafor.2``).
    Adapters build these so that the engine reads every platform's mentions the same way."""
    shown = ".".join(name.replace('"', "").split()) or target
    word, number = sign + shown.removeprefix(sign), 2
    base = word
    while word in taken and taken[word] != target:
        word, number = f"{base}.{number}", number + 1
    return word

"""Commands typed in a pair's group chat: answered there, to the pair, only when the answer is the pair's own.

A pair's introduction and their session messages go to one group chat (a Slack group DM) with both of them.
When one of them types a command there, the adapter lists the chat's people (``InboundEvent.members``). A verb
declared ``shared`` in ``commands.yml`` (the next session, the agenda, the pair's goals) is then answered in
that chat, but only when its people are exactly the people of one of the typist's live pairings: a chat with
anyone else in it, someone typing who is not in the pair, or any other verb (``support``, ``my-data``...) is
answered privately, as everywhere else.
"""

from __future__ import annotations

from bot.commands.registry import Verb
from bot.context import Turn
from bot.model import Address
from bot.sessions.circles import circles_of_person


def pair_chat(turn: Turn, verb: Verb) -> Address | None:
    """Where the answer to ``verb`` typed in a group chat goes: the pair (their group chat) when the chat holds
    exactly the people of one of the typist's pairings and the verb's answer is the pair's own; else None
    (answered privately)."""
    members = turn.event.members
    if not members or not verb.shared or turn.person is None:
        return None
    people: set[int] = set()
    for user in members:
        person = turn.uow.people.by_identity(turn.tenant.id, turn.event.platform.value, user)
        if person is None:  # someone the bot does not know is in the chat: not the pair's alone
            return None
        people.add(person.id)
    if turn.me.id not in people:
        return None
    for circle in circles_of_person(turn.uow, turn.me.id, turn.tenant.id):
        in_circle = {member.person_id for member in circle.members}
        if in_circle == people:
            return Address.pair(*sorted(in_circle))
    return None

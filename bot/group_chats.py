"""Commands typed in a pair's group chat: about that pair, and answered there only with what all of them may see.

A pair's introduction and their session messages go to one group chat (a Slack group DM) with both of them.
When one of them types a command there, the adapter lists the chat's people (``InboundEvent.members``). When
those people are exactly the people of one of the typist's live pairings, the command is about that pairing
(:func:`circle_for`; a mentor with several mentees means the one in the chat). A verb declared ``shared`` in
``commands.yml`` is then answered in that chat, and its handler answers with the pair's version, never the
typist's own (``next`` shows what every one of them is shown anyway: the time, the topic, the items on the
agenda). A chat with anyone else in it, someone typing who is not in the pair, or any other verb (``agenda``,
which is the mentor's coaching plan, ``support``, ``my-data``...) is answered privately, as everywhere else.
"""

from __future__ import annotations

from bot.commands.registry import Verb
from bot.context import Turn
from bot.model import Address
from bot.services.sessions import SessionsService
from bot.sessions.circles import Circle, circles_of_person


def chat_circle(turn: Turn) -> Circle | None:
    """The typist's live circle whose people are exactly the people of the group chat typed in; None outside a
    group chat, or when the chat holds anyone else (or someone the bot does not know)."""
    members = turn.event.members
    if not members or turn.person is None:
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
        if {member.person_id for member in circle.members} == people:
            return circle
    return None


def pair_chat(turn: Turn, verb: Verb) -> Address | None:
    """Where the answer to ``verb`` typed in a group chat goes: the pair (their group chat) when the chat holds
    exactly the people of one of the typist's pairings and the verb's answer is the pair's own; else None
    (answered privately)."""
    if not verb.shared:
        return None
    circle = chat_circle(turn)
    return Address.pair(*sorted(member.person_id for member in circle.members)) if circle else None


def circle_for(turn: Turn, service: SessionsService) -> Circle:
    """The circle a command is about: the one whose group chat it was typed in, else the typist's (first)."""
    return chat_circle(turn) or service.circle_of(turn.me.id, turn.tenant.id)

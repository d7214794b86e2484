"""Who an outbox message reaches on Slack, and in which conversation.

* Who: each pending person's Slack user id, from their linked identity (the whole workspace's read in one query
  the first time), else found by email with ``users.lookupByEmail`` and linked.
* Where: a conversation named by the message; else the DM (or a pair's group DM) kept in the database
  (``channels.py``). A person never reached before gets the post with their **user id as the channel**: Slack
  posts it in the bot's DM with them (the App Home's Messages tab) and answers with that DM's channel id, which
  is then kept like an opened one, so a first fan-out costs no ``conversations.open`` (a tier-3 method, about 50
  calls a minute) and goes at ``chat.postMessage``'s pace. A group DM still needs ``conversations.open``. A message
  offered again for someone whose DM is not kept may have been posted by the earlier attempt (the sender died, or
  Slack's answer was lost, before the DM was kept): its DM is then opened, so that its history can be checked for
  the earlier post, and nothing is posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from adapters.slack.channels import DmChannels
from adapters.slack.webapi import Call, Permanent
from bot.model import Platform
from bot.ports import OutboxItem, Store

PLATFORM = Platform.SLACK.value


@dataclass
class Target:
    """Where to post: ``channel`` (a conversation id, or ``user`` itself until Slack names the DM), the people it
    reaches, and whether ``channel`` is a kept DM channel."""

    channel: str
    people: list[int]
    kept: bool = False
    user: str = ""
    """Set when the post goes to this user's id: the DM channel in Slack's answer is kept (:meth:`Reach.learned`)."""


class Reach:
    """Slack user ids of people and the conversations that reach them, for one deliverer (one sending thread)."""

    def __init__(self, store: Store, dm: DmChannels, call: Call) -> None:
        self.store, self.dm, self.call = store, dm, call
        self._users: dict[int, str] = {}
        self._loaded: set[int] = set()

    def target(self, item: OutboxItem, team: str, client: WebClient) -> Target:
        """The conversation ``item`` goes to (see the module docstring); :class:`Permanent` when nobody is left."""
        message = item.message
        if message.to.kind == "conversation":
            return Target(message.to.conversation, list(item.pending))
        users = frozenset(self.user(client, team, person_id, message.tenant_id) for person_id in item.pending)
        if not users:
            raise Permanent("nobody left to reach")
        channel = self.dm.get(message.tenant_id, users)
        if channel:
            return Target(channel, list(item.pending), kept=True)
        if len(users) == 1 and item.attempts == 0:
            [user] = users
            return Target(user, list(item.pending), user=user)
        return Target(self.open(client, team, message.tenant_id, users), list(item.pending))

    def learned(self, tenant_id: int, user: str, answer: dict[str, object]) -> str:
        """The DM channel Slack named in its answer to a post to ``user``'s id, kept for next time; the user id
        when the answer names none (the next message tries again)."""
        channel = str(answer.get("channel") or "")
        if not channel or channel == user:
            return user
        self.dm.remember(tenant_id, frozenset({user}), channel)
        return channel

    def open(self, client: WebClient, team: str, tenant_id: int, users: frozenset[str]) -> str:
        """Open the DM (group DM) of ``users`` with ``conversations.open`` and keep its channel."""
        opened = self.call(team, "conversations.open", client.conversations_open, users=",".join(sorted(users)))
        channel = str(opened["channel"]["id"])
        self.dm.remember(tenant_id, users, channel)
        return channel

    def user(self, client: WebClient, team: str, person_id: int, tenant_id: int) -> str:
        """The Slack user id of ``person_id``: linked, else looked up by email (and linked); :class:`Permanent`
        when they have no Slack account."""
        cached = self._users.get(person_id)
        if cached:
            return cached
        if tenant_id not in self._loaded:  # one query for the whole workspace, instead of one per person
            self._loaded.add(tenant_id)
            self._users.update(self.store.slack.user_ids(tenant_id))
            if person_id in self._users:
                return self._users[person_id]
        with self.store.unit_of_work() as uow:
            user = uow.people.identities(person_id).get(PLATFORM)
            person = uow.people.get(person_id)
        if not user and person is not None and person.email:
            found = self.call(team, "users.lookupByEmail", client.users_lookupByEmail, email=person.email)
            user = found["user"]["id"]
            with self.store.unit_of_work() as uow:
                if uow.people.by_identity(person.tenant_id, PLATFORM, user) is None:
                    uow.people.link_identity(person, PLATFORM, user)
        if not user:
            raise Permanent(f"person {person_id} has no Slack account")
        self._users[person_id] = user
        return user

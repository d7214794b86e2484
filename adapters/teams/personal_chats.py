"""Finding a person's personal chat with the bot for the Teams deliverer: the stored one, one created for them
where the tenant allows it (their Teams account known, if need be from the rosters of the tenant's teams read
again), or one that installing the app for them through Microsoft Graph opens (``adapters/teams/graph.py``)."""

from __future__ import annotations

import logging

from adapters.teams.graph import GraphReach, Later
from adapters.teams.posting import ActivityPoster, Defer
from adapters.teams.roster import TeamRoster
from bot.model import OutgoingMessage
from bot.ports import ChatAccount, ConversationReference, Store

log = logging.getLogger(__name__)


class PersonalChats:
    """Each person's personal chat with the bot, found or opened (paced and backed off by ``poster``)."""

    def __init__(
        self,
        store: Store,
        poster: ActivityPoster,
        installer: GraphReach | None = None,
        roster: TeamRoster | None = None,
    ) -> None:
        self.store = store
        self.poster = poster
        self.installer = installer
        self.roster = roster

    def find(self, tenant: str, person_id: int, message: OutgoingMessage) -> ConversationReference | None:
        """The person's stored personal chat, or one created for them where Teams allows it (their account
        known, if need be from the rosters of the tenant's teams read again), or one that installing the app
        for them through Microsoft Graph opens; None when there is none yet."""
        user, known, chat = self.store.teams.chat_for_person(tenant, person_id)
        if chat is None and not known and self.roster is not None and self.roster.refresh(tenant).kept:
            user, known, chat = self.store.teams.chat_for_person(tenant, person_id)
        if chat is None and known:
            chat = self.create(tenant, user, known[0])
        if chat is None and self.installer is not None:
            try:
                chat = self.installer.chat_for(message, tenant, person_id, user, known)
            except Later as later:
                raise Defer(later.seconds, later.error) from None
        return chat

    def create(self, tenant: str, user: str, account: ChatAccount) -> ConversationReference | None:
        """Open a personal chat with ``account`` and keep its reference (None: Teams would not open one)."""
        service = account.service_url or self.store.teams.service_url(tenant)
        bot = self.store.teams.bot_id(tenant)
        if not service or not bot:
            return None
        self.poster.pace(tenant, None)
        outcome = self.poster.connector.create_conversation(
            service,
            {
                "bot": {"id": bot},
                "members": [{"id": account.account_id}],
                "isGroup": False,
                "tenantId": tenant,
                "channelData": {"tenant": {"id": tenant}},
            },
        )
        if outcome.kind == "sent" and outcome.id:
            self.store.teams.remember_conversation(
                {
                    "tenant_key": tenant,
                    "conversation_id": outcome.id,
                    "conversation_type": "personal",
                    "user_id": account.user_id or user,
                    "account_id": account.account_id,
                    "name": account.name,
                    "service_url": service,
                    "bot_id": bot,
                },
            )
            return self.store.teams.personal_chat(tenant, [account.account_id])
        if outcome.kind in ("retry", "ambiguous"):  # creating the same 1:1 chat twice is harmless
            raise Defer(self.poster.back_off(tenant, None, outcome), outcome.error)
        log.info("cannot open a Teams chat with %s: %s", account.account_id, outcome.error)
        return None

"""The Teams adapter's records as the ``bot.ports.TeamsRecords`` port, and messages held for an install.

The references, accounts and send journal live in ``storage/teams_references.py`` (plain functions over
an engine, returning rows); :class:`SqlTeamsRecords` hands them to the adapter as the port's plain records.
A message whose recipient has no personal chat with the bot yet is held (``outbox_message.held_for_install``,
migration 0017) and made due again as soon as one of its recipients installs the app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.model import Platform
from bot.ports import ChatAccount, ConversationReference, SendRecord
from storage import teams_references as refs
from storage.sql import col, select
from storage.tables import OutboxMessageRow

PLATFORM = Platform.TEAMS.value


def reference(row: refs.TeamsConversationRow) -> ConversationReference:
    """A stored conversation reference as the port's record."""
    return ConversationReference(
        tenant_key=row.tenant_key,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        conversation_type=row.conversation_type,
        user_id=row.user_id,
        account_id=row.account_id,
        name=row.name,
        team_id=row.team_id,
        bot_id=row.bot_id,
    )


def account(row: refs.TeamsAccountRow) -> ChatAccount:
    """A stored Teams account as the port's record."""
    return ChatAccount(
        tenant_key=row.tenant_key,
        account_id=row.account_id,
        user_id=row.user_id,
        name=row.name,
        service_url=row.service_url,
    )


def hold_for_install(engine: Engine, item_id: int) -> None:
    """Mark an outbox row as held until one of its recipients installs the app."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(OutboxMessageRow).where(col(OutboxMessageRow.id) == item_id).values(held_for_install=True)
        )


def wake_waiting(engine: Engine, tenant_id: int, person_ids: set[int], now: datetime) -> int:
    """Make messages held for ``person_ids`` due now (they just installed the app); returns how many."""
    woken = 0
    with Session(engine) as session, session.begin():
        rows = session.exec(
            select(OutboxMessageRow).where(
                OutboxMessageRow.platform == PLATFORM,
                OutboxMessageRow.status == "pending",
                OutboxMessageRow.tenant_id == tenant_id,
                col(OutboxMessageRow.held_for_install).is_(True),
                col(OutboxMessageRow.not_before) > now,
            )
        ).all()
        for row in rows:
            if set(row.pending) & person_ids:
                row.not_before = now
                woken += 1
    return woken


def teams(engine: Engine, tenant_key: str) -> list[ConversationReference]:
    """One installed channel reference for each team the app is in, newest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(refs.TeamsConversationRow)
            .where(
                refs.TeamsConversationRow.tenant_key == tenant_key,
                refs.TeamsConversationRow.conversation_type == "channel",
                refs.TeamsConversationRow.team_id != "",
                col(refs.TeamsConversationRow.installed).is_(True),
            )
            .order_by(col(refs.TeamsConversationRow.updated_at).desc(), col(refs.TeamsConversationRow.id).desc())
        ).all()
    newest: dict[str, ConversationReference] = {}
    for row in rows:
        newest.setdefault(row.team_id, reference(row))
    return list(newest.values())


class SqlTeamsRecords:
    """``bot.ports.TeamsRecords`` over the Teams tables and the outbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def unfit(self, tenant_key: str, reference: dict[str, Any] | None, accounts: list[dict[str, Any]]) -> str:
        return refs.unfit(tenant_key, reference, accounts)

    def remember(self, tenant_key: str, reference: dict[str, Any] | None, accounts: list[dict[str, Any]]) -> None:
        refs.remember(self.engine, tenant_key, reference, accounts)

    def remember_conversation(self, reference: dict[str, Any]) -> None:
        refs.remember_conversation(self.engine, reference)

    def forget_conversation(self, tenant_key: str, conversation_id: str) -> None:
        refs.forget_conversation(self.engine, tenant_key, conversation_id)

    def personal_chat(self, tenant_key: str, user_ids: list[str]) -> ConversationReference | None:
        row = refs.personal_chat(self.engine, tenant_key, user_ids)
        return reference(row) if row is not None else None

    def chat_for_person(
        self, tenant_key: str, person_id: int
    ) -> tuple[str, list[ChatAccount], ConversationReference | None]:
        user, known, chat = refs.chat_for_person(self.engine, tenant_key, person_id)
        return user, [account(row) for row in known], reference(chat) if chat is not None else None

    def conversation(self, tenant_key: str, wanted: str) -> ConversationReference | None:
        row = refs.conversation(self.engine, tenant_key, wanted)
        return reference(row) if row is not None else None

    def service_url(self, tenant_key: str) -> str:
        return refs.service_url(self.engine, tenant_key)

    def bot_id(self, tenant_key: str) -> str:
        return refs.bot_id(self.engine, tenant_key)

    def accounts(self, tenant_key: str, ids: list[str]) -> list[ChatAccount]:
        return [account(row) for row in refs.accounts(self.engine, tenant_key, ids)]

    def begin_send(self, key: str, outbox_id: int, person_id: int | None, conversation_id: str) -> str | None:
        return refs.begin_send(self.engine, key, outbox_id, person_id, conversation_id)

    def settle_send(self, key: str, state: str, activity_id: str = "", error: str = "") -> None:
        refs.settle_send(self.engine, key, state, activity_id, error)

    def cancel_send(self, key: str) -> None:
        refs.cancel_send(self.engine, key)

    def unconfirmed(self, limit: int = 100) -> list[SendRecord]:
        return [
            SendRecord(
                key=row.key,
                outbox_id=row.outbox_id,
                person_id=row.person_id,
                conversation_id=row.conversation_id,
                state=row.state,
                activity_id=row.activity_id,
                error=row.error,
                updated_at=row.updated_at,
            )
            for row in refs.unconfirmed(self.engine, limit)
        ]

    def hold_for_install(self, item_id: int) -> None:
        hold_for_install(self.engine, item_id)

    def wake_waiting(self, tenant_id: int, person_ids: set[int], now: datetime) -> int:
        return wake_waiting(self.engine, tenant_id, person_ids, now)

    def teams(self, tenant_key: str) -> list[ConversationReference]:
        return teams(self.engine, tenant_key)

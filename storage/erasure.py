"""Erasure in the message logs and the platform adapters' records (``forget-me``), and payload retention.

Inbox and outbox payloads hold what people typed and what the bot told them, files included. A *redacted*
payload keeps only what exactly-once needs: the inbox row its platform, tenant, event id and status (a
redelivery is still refused); the outbox row its idempotency key, recipients and status (a message is never
queued twice). ``redacted_at`` says when. Files travel inside outbox payloads and Teams download links serve
them from there, so a redacted message's links stop working too.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ports import Traces
from storage import slack_channels
from storage.repositories import _Repo
from storage.sql import col, select
from storage.tables import (
    CalendarRequestRow,
    ConversationStateRow,
    InboxEventRow,
    OutboxMessageRow,
    PersonIdentityRow,
    TenantRow,
)
from storage.teams_references import TeamsAccountRow, TeamsConversationRow, TeamsSendRow

SETTLED_INBOX = ("done", "failed")
SETTLED_OUTBOX = ("sent", "failed")
WAITING = ("pending", "sending")
DROPPED = "dropped"
"""The status of a message that was never sent: to or about someone who was forgotten."""
BATCH = 500
_KEEP_EVENT = ("platform", "tenant", "event_id", "occurred_at", "kind")
_KEEP_MESSAGE = ("tenant_id", "to", "idempotency_key", "programme_id", "kind")


def redacted_event(payload: dict[str, Any]) -> dict[str, Any]:
    """An inbox payload reduced to what identifies the delivery (still a valid event, that does nothing)."""
    return {key: payload[key] for key in _KEEP_EVENT if key in payload}


def redacted_message(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox payload reduced to its key and addressing: no text, no files."""
    return {**{key: payload[key] for key in _KEEP_MESSAGE if key in payload}, "text": ""}


def words_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    """Any of ``words`` (3 characters or more), ignoring case, not inside a longer word ("Sam" is not found in
    "Samsung"); None when there is nothing to look for."""
    usable = sorted((w.strip() for w in words if len(w.strip()) >= 3), key=len, reverse=True)
    if not usable:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in usable) + r")(?!\w)", re.IGNORECASE)


def _decoded(attachment: dict[str, Any]) -> str:
    """An attachment's content as text (files other than images can quote people: invites, exports)."""
    if str(attachment.get("media_type", "")).startswith("image/"):
        return ""
    try:
        return base64.b64decode(str(attachment.get("content_b64", ""))).decode("utf-8", errors="ignore")
    except (binascii.Error, ValueError):
        return ""


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        if "content_b64" in value:
            yield _decoded(value)
        for key, inner in value.items():
            yield str(key)
            if key != "content_b64":
                yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


def holds(value: Any, pattern: re.Pattern[str] | None) -> bool:
    """Whether any string inside ``value`` (attachments decoded) contains one of the words."""
    return pattern is not None and any(pattern.search(text) for text in _texts(value))


def _replaced(value: Any, pattern: re.Pattern[str], placeholder: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(placeholder, value)
    if isinstance(value, dict):
        return {_replaced(k, pattern, placeholder): _replaced(v, pattern, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(inner, pattern, placeholder) for inner in value]
    return value


def _scrubbed(payload: dict[str, Any], pattern: re.Pattern[str], placeholder: str, keep: tuple[str, ...]) -> Any:
    """A payload still to be used with the words replaced; files that hold them are left out."""
    kept = {key: payload[key] for key in keep if key in payload}
    rest = {key: value for key, value in payload.items() if key not in keep}
    if isinstance(rest.get("attachments"), list):
        rest["attachments"] = [a for a in rest["attachments"] if not holds(a, pattern)]
    return {**_replaced(rest, pattern, placeholder), **kept}


def _fresh_id(value: str, pattern: re.Pattern[str] | None) -> str:
    """An id that embeds someone's platform id (``install:U…``, ``welcome:<their chat>``) is replaced."""
    return f"erased:{uuid.uuid4().hex}" if holds(value, pattern) else value


class ErasureRepo(_Repo):
    """``forget-me`` in the inbox, the outbox, other people's open questionnaires and the adapters' tables."""

    def erase_traces(self, traces: Traces, placeholder: str) -> None:
        tenant = self.session.get(TenantRow, traces.tenant_id)
        if tenant is None:
            return
        words = traces.words | self._platform_ids(tenant, traces.user_keys)
        pattern = words_pattern(words)
        self._inbox(tenant, traces, pattern, placeholder)
        self._outbox(traces, pattern, placeholder)
        if pattern is not None:
            self._conversations(traces, pattern, placeholder)
            self._calendar_reads(traces, pattern)
        self.session.flush()

    def _platform_ids(self, tenant: TenantRow, user_keys: frozenset[str]) -> frozenset[str]:
        """The person's other ids on Teams: account ids, directory ids and their personal chat."""
        if tenant.platform != "teams" or not user_keys:
            return frozenset()
        keys = list(user_keys)
        accounts = self.session.exec(
            select(TeamsAccountRow).where(
                TeamsAccountRow.tenant_key == tenant.external_id,
                or_(col(TeamsAccountRow.account_id).in_(keys), col(TeamsAccountRow.user_id).in_(keys)),
            )
        ).all()
        ids = set(user_keys) | {a.account_id for a in accounts} | {a.user_id for a in accounts if a.user_id}
        chats = self.session.exec(
            select(TeamsConversationRow.conversation_id).where(
                TeamsConversationRow.tenant_key == tenant.external_id,
                TeamsConversationRow.conversation_type == "personal",
                or_(col(TeamsConversationRow.user_id).in_(ids), col(TeamsConversationRow.account_id).in_(ids)),
            )
        ).all()
        return frozenset(ids | set(chats))

    def _inbox(self, tenant: TenantRow, traces: Traces, pattern: re.Pattern[str] | None, placeholder: str) -> None:
        rows = self.session.exec(
            select(InboxEventRow).where(
                InboxEventRow.platform == tenant.platform,
                InboxEventRow.tenant_key == tenant.external_id,
                col(InboxEventRow.redacted_at).is_(None),
            )
        ).all()
        for row in rows:
            theirs = row.user_key in traces.user_keys
            if not theirs and not holds(row.payload, pattern) and not holds(row.last_error, pattern):
                continue
            if theirs or row.status in SETTLED_INBOX:  # theirs still waiting: handled as an empty event
                row.event_id, row.redacted_at = _fresh_id(row.event_id, pattern), self.now()
                row.payload = {**redacted_event(row.payload), "event_id": row.event_id}
                row.user_key, row.last_error = "", ""
            elif pattern is not None:
                row.payload = _scrubbed(row.payload, pattern, placeholder, _KEEP_EVENT)

    def _outbox(self, traces: Traces, pattern: re.Pattern[str] | None, placeholder: str) -> None:
        rows = self.session.exec(
            select(OutboxMessageRow).where(
                OutboxMessageRow.tenant_id == traces.tenant_id, col(OutboxMessageRow.redacted_at).is_(None)
            )
        ).all()
        person = traces.person_id
        for row in rows:
            to_them, about = person in row.recipients, person in (row.payload.get("about") or [])
            if not to_them and not about and not holds(row.payload, pattern):
                continue
            others = [p for p in row.pending if p != person]
            channel = (row.payload.get("to") or {}).get("kind") == "conversation"
            if row.status in WAITING and not about and (others or channel or not to_them):
                row.pending = others  # still going to others, without the words
                if pattern is not None:
                    row.payload = _scrubbed(row.payload, pattern, placeholder, _KEEP_MESSAGE)
                continue
            if row.status in WAITING:
                row.status, row.pending, row.last_error = DROPPED, [], "not sent: to or about someone forgotten"
            row.idempotency_key, row.redacted_at = _fresh_id(row.idempotency_key, pattern), self.now()
            row.payload = {**redacted_message(row.payload), "idempotency_key": row.idempotency_key}

    def _conversations(self, traces: Traces, pattern: re.Pattern[str], placeholder: str) -> None:
        rows = self.session.exec(
            select(ConversationStateRow).where(
                ConversationStateRow.tenant_id == traces.tenant_id, ConversationStateRow.person_id != traces.person_id
            )
        ).all()
        for row in rows:
            for name in ("answers", "history", "context", "suspended", "waiting"):
                value = getattr(row, name)
                if holds(value, pattern):
                    setattr(row, name, _replaced(value, pattern, placeholder))

    def _calendar_reads(self, traces: Traces, pattern: re.Pattern[str]) -> None:
        """Free/busy not read yet is never read for them (their address leaves the request). Event requests keep
        the addresses the other people's events need to be cancelled, and drop them once done."""
        rows = self.session.exec(
            select(CalendarRequestRow).where(
                CalendarRequestRow.tenant_id == traces.tenant_id,
                CalendarRequestRow.kind == "freebusy",
                col(CalendarRequestRow.status).in_(["pending", "working"]),
            )
        ).all()
        for row in rows:
            people = [p for p in row.payload.get("people", []) if p.get("person_id") != traces.person_id]
            people = [p for p in people if not holds(p.get("email", ""), pattern)]
            if len(people) != len(row.payload.get("people", [])):
                row.payload = {**row.payload, "people": people}

    def forget_accounts(self, person_id: int) -> None:
        identities = self.session.exec(select(PersonIdentityRow).where(PersonIdentityRow.person_id == person_id))
        for identity in identities.all():
            tenant = self.session.get(TenantRow, identity.tenant_id)
            if identity.platform == "slack":  # the DMs and group DMs the Slack adapter kept for them
                slack_channels.forget_user(self.session, identity.tenant_id, identity.external_id)
            if identity.platform != "teams" or tenant is None:
                continue
            ids = self._platform_ids(tenant, frozenset({identity.external_id}))
            self.session.execute(
                delete(TeamsAccountRow).where(
                    col(TeamsAccountRow.tenant_key) == tenant.external_id,
                    or_(col(TeamsAccountRow.account_id).in_(ids), col(TeamsAccountRow.user_id).in_(ids)),
                )
            )
            self.session.execute(
                delete(TeamsConversationRow).where(
                    col(TeamsConversationRow.tenant_key) == tenant.external_id,
                    col(TeamsConversationRow.conversation_id).in_(ids),
                )
            )
            pattern = words_pattern(ids)
            sends = self.session.exec(
                select(TeamsSendRow).where(
                    or_(col(TeamsSendRow.person_id) == person_id, col(TeamsSendRow.conversation_id).in_(ids))
                )
            )
            for send in sends.all():
                send.conversation_id, send.key = "", _fresh_id(send.key, pattern)
        self.session.flush()


def redact_expired(engine: Engine, before: datetime, now: Callable[[], datetime]) -> int:
    """Redact the payloads of inbox events handled and outbox messages settled before ``before``."""
    redacted = 0
    inbox_settled = col(InboxEventRow.status).in_(SETTLED_INBOX)
    inbox_old = func.coalesce(col(InboxEventRow.done_at), col(InboxEventRow.received_at)) < before
    outbox_settled = col(OutboxMessageRow.status).in_(SETTLED_OUTBOX)
    outbox_old = func.coalesce(col(OutboxMessageRow.sent_at), col(OutboxMessageRow.created_at)) < before
    while True:
        with Session(engine) as session, session.begin():
            events = session.exec(
                select(InboxEventRow)
                .where(inbox_settled, inbox_old, col(InboxEventRow.redacted_at).is_(None))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for event in events:
                event.payload, event.user_key, event.last_error = redacted_event(event.payload), "", ""
                event.redacted_at = now()
            messages = session.exec(
                select(OutboxMessageRow)
                .where(outbox_settled, outbox_old, col(OutboxMessageRow.redacted_at).is_(None))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for message in messages:
                message.payload, message.redacted_at = redacted_message(message.payload), now()
        redacted += len(events) + len(messages)
        if len(events) < BATCH and len(messages) < BATCH:
            return redacted

"""What the Teams adapter keeps in the database (migration 0005): conversation references, accounts, sends.

* ``teams_conversation``: a conversation reference (conversation id, its service URL, the bot's id) for
  every personal chat, team channel and group chat the bot has seen, saved on install
  (``conversationUpdate``, ``installationUpdate``) and on every message. Proactive messages use them,
  so they must survive restarts.
* ``teams_account``: Teams account ids (``29:…``) seen in rosters and mentions, with the Azure AD object
  id when known: mentions are mapped to the AD id, and a personal chat can be created for an account.
* ``teams_send``: one row per activity the deliverer posts, written *before* the request goes out and
  settled after it. A row still ``sending`` when an item is offered again means the outcome is unknown
  (Teams has no idempotency key): the activity is not posted again but marked ``unknown``.

Plain functions over an SQLAlchemy engine; nothing here imports a Teams SDK. ``storage/teams_records.py``
offers them to the adapter as the ``bot.ports.TeamsRecords`` port.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, delete, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from bot.ports import SendState
from storage.sql import col, insert_ignoring_duplicates, select, table
from storage.tables import _ts

SENDING, SENT, UNKNOWN = SendState.SENDING.value, SendState.SENT.value, SendState.UNKNOWN.value


class TeamsConversationRow(SQLModel, table=True):
    """A conversation reference: where and how to reach a personal chat, a channel or a group chat."""

    __tablename__ = "teams_conversation"
    __table_args__ = (
        UniqueConstraint("tenant_key", "conversation_id"),
        Index("ix_teams_conversation_user", "tenant_key", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_key: str = Field(max_length=128)
    conversation_id: str = Field(max_length=512)
    conversation_type: str = Field(default="personal", max_length=16)
    """``personal``, ``channel`` or ``groupChat``."""
    user_id: str = Field(default="", max_length=200)
    """Personal chats: the user (Azure AD object id when Teams sent it, else their Teams id)."""
    account_id: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    team_id: str = Field(default="", max_length=512)
    service_url: str = Field(max_length=512)
    bot_id: str = Field(default="", max_length=200)
    installed: bool = True
    updated_at: datetime | None = _ts()


class TeamsAccountRow(SQLModel, table=True):
    """A Teams account (``29:…``) seen in a roster or a mention, with its AD object id when known."""

    __tablename__ = "teams_account"
    __table_args__ = (
        UniqueConstraint("tenant_key", "account_id"),
        Index("ix_teams_account_user", "tenant_key", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_key: str = Field(max_length=128)
    account_id: str = Field(max_length=200)
    user_id: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    service_url: str = Field(default="", max_length=512)
    updated_at: datetime | None = _ts()


class TeamsSendRow(SQLModel, table=True):
    """One activity the deliverer posted (or tried to): the journal that keeps posts from repeating."""

    __tablename__ = "teams_send"
    __table_args__ = (Index("ix_teams_send_state", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, unique=True)
    outbox_id: int = 0
    person_id: int | None = None
    conversation_id: str = Field(default="", max_length=512)
    state: str = Field(default=SENDING, max_length=16)
    activity_id: str = Field(default="", max_length=200)
    error: str = Field(default="", max_length=1000)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


def _now() -> datetime:
    return datetime.now(UTC)


def _upsert(session: Session, model: type[SQLModel], keys: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with ``keys`` (non-empty ``values`` only), or insert it."""
    columns = table(model).c
    row = session.exec(select(model).where(*(columns[k] == v for k, v in keys.items()))).one_or_none()
    if row is None:
        session.add(model(**keys, **values))
        return
    for name, value in values.items():
        if value not in ("", None):
            setattr(row, name, value)


def _retrying(engine: Engine, work: Any) -> None:
    """Run ``work(session)`` in a transaction, once more if a concurrent insert of the same key won."""
    for attempt in (1, 2):
        try:
            with Session(engine) as session, session.begin():
                work(session)
            return
        except IntegrityError:
            if attempt == 2:
                raise


# -- conversation references ---------------------------------------------------------------------------


def _width(model: type[SQLModel], column: str) -> int | None:
    length = getattr(table(model).c[column].type, "length", None)
    return length if isinstance(length, int) else None


def unfit(tenant_key: str, reference: dict[str, Any] | None, found: list[dict[str, Any]]) -> str:
    """Why what an activity showed cannot be kept ("" when it can): an id too long or holding a NUL character.

    Names are not checked: they are cut to fit when kept."""
    checks: list[tuple[type[SQLModel], str, Any]] = [(TeamsAccountRow, "tenant_key", tenant_key)]
    checks += [(TeamsConversationRow, k, v) for k, v in (reference or {}).items() if k != "name"]
    checks += [(TeamsAccountRow, k, v) for account in found for k, v in account.items() if k != "name"]
    for model, column, value in checks:
        width = _width(model, column)
        if isinstance(value, str) and ("\x00" in value or (width is not None and len(value) > width)):
            return f"{column} {value[:40]!r}{'...' if len(value) > 40 else ''} is not an id the store can keep"
    return ""


def _kept_name(name: Any, model: type[SQLModel]) -> str:
    """A display name as the store keeps it: without NUL characters (PostgreSQL text cannot hold them), cut to fit."""
    return str(name).replace("\x00", "")[: _width(model, "name") or None]


def _conversation(session: Session, reference: dict[str, Any]) -> None:
    keys = {"tenant_key": reference["tenant_key"], "conversation_id": reference["conversation_id"]}
    values = {k: v for k, v in reference.items() if k not in keys}
    if "name" in values:
        values["name"] = _kept_name(values["name"], TeamsConversationRow)
    values.setdefault("installed", True)
    values["updated_at"] = _now()
    _upsert(session, TeamsConversationRow, keys, values)


def _accounts(session: Session, tenant_key: str, found: list[dict[str, Any]]) -> None:
    for account in found:
        if account.get("account_id"):
            values = {k: account.get(k, "") for k in ("user_id", "name", "service_url")}
            values["name"] = _kept_name(values["name"], TeamsAccountRow)
            _upsert(
                session,
                TeamsAccountRow,
                {"tenant_key": tenant_key, "account_id": account["account_id"]},
                {**values, "updated_at": _now()},
            )


def remember_conversation(engine: Engine, reference: dict[str, Any]) -> None:
    """Keep a conversation reference (keys are the column names); empty values never overwrite."""
    _retrying(engine, lambda session: _conversation(session, reference))


def remember(engine: Engine, tenant_key: str, reference: dict[str, Any] | None, found: list[dict[str, Any]]) -> None:
    """Keep a conversation reference and the accounts an activity showed, in one transaction."""

    def work(session: Session) -> None:
        if reference is not None:
            _conversation(session, reference)
        _accounts(session, tenant_key, found)

    if reference is not None or found:
        _retrying(engine, work)


def forget_conversation(engine: Engine, tenant_key: str, conversation_id: str) -> None:
    """The bot was removed from a conversation (or Teams said it is gone): stop using its reference."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(TeamsConversationRow)
            .where(
                col(TeamsConversationRow.tenant_key) == tenant_key,
                col(TeamsConversationRow.conversation_id) == conversation_id,
            )
            .values(installed=False, updated_at=_now())
        )


def personal_chat(engine: Engine, tenant_key: str, user_ids: list[str]) -> TeamsConversationRow | None:
    """The newest installed personal chat with any of ``user_ids`` (AD object ids or Teams ids)."""
    wanted = [u for u in user_ids if u]
    if not wanted:
        return None
    with Session(engine) as session:
        return session.exec(
            select(TeamsConversationRow)
            .where(
                TeamsConversationRow.tenant_key == tenant_key,
                TeamsConversationRow.conversation_type == "personal",
                col(TeamsConversationRow.installed).is_(True),
                (col(TeamsConversationRow.user_id).in_(wanted)) | (col(TeamsConversationRow.account_id).in_(wanted)),
            )
            .order_by(col(TeamsConversationRow.updated_at).desc(), col(TeamsConversationRow.id).desc())
            .limit(1)
        ).one_or_none()


def conversation(engine: Engine, tenant_key: str, wanted: str) -> TeamsConversationRow | None:
    """An installed conversation by id, or a team channel by name (case-insensitive)."""
    with Session(engine) as session:
        base = select(TeamsConversationRow).where(
            TeamsConversationRow.tenant_key == tenant_key, col(TeamsConversationRow.installed).is_(True)
        )
        row = session.exec(base.where(TeamsConversationRow.conversation_id == wanted)).one_or_none()
        if row is not None:
            return row
        channels = session.exec(base.where(TeamsConversationRow.conversation_type == "channel")).all()
        return next((c for c in channels if c.name and c.name.lower() == wanted.lower()), None)


def service_url(engine: Engine, tenant_key: str) -> str:
    """The newest service URL seen in a tenant ("" when the bot has never heard from it)."""
    with Session(engine) as session:
        return (
            session.exec(
                select(TeamsConversationRow.service_url)
                .where(TeamsConversationRow.tenant_key == tenant_key)
                .order_by(col(TeamsConversationRow.updated_at).desc())
                .limit(1)
            ).one_or_none()
            or ""
        )


def bot_id(engine: Engine, tenant_key: str) -> str:
    """The bot's own Teams id (``28:…``) as last seen in a tenant ("" when unknown)."""
    with Session(engine) as session:
        return (
            session.exec(
                select(TeamsConversationRow.bot_id)
                .where(TeamsConversationRow.tenant_key == tenant_key, TeamsConversationRow.bot_id != "")
                .order_by(col(TeamsConversationRow.updated_at).desc())
                .limit(1)
            ).one_or_none()
            or ""
        )


# -- accounts ---------------------------------------------------------------------------------------------


def remember_accounts(engine: Engine, tenant_key: str, accounts: list[dict[str, Any]]) -> None:
    """Keep Teams accounts (``account_id`` and, when known, ``user_id``, ``name``, ``service_url``)."""
    if accounts:
        _retrying(engine, lambda session: _accounts(session, tenant_key, accounts))


def chat_for_person(
    engine: Engine, tenant_key: str, person_id: int
) -> tuple[str, list[TeamsAccountRow], TeamsConversationRow | None]:
    """In one read: the person's Teams id, the accounts known for it, and their newest installed personal chat."""
    from storage.tables import PersonIdentityRow

    with Session(engine) as session:
        user = (
            session.exec(
                select(PersonIdentityRow.external_id).where(
                    PersonIdentityRow.person_id == person_id, PersonIdentityRow.platform == "teams"
                )
            ).first()
            or ""
        )
        if not user:
            return "", [], None
        known = list(
            session.exec(
                select(TeamsAccountRow).where(
                    TeamsAccountRow.tenant_key == tenant_key,
                    (TeamsAccountRow.account_id == user) | (TeamsAccountRow.user_id == user),
                )
            )
        )
        ids = {user, *(a.account_id for a in known), *(a.user_id for a in known if a.user_id)}
        chat = session.exec(
            select(TeamsConversationRow)
            .where(
                TeamsConversationRow.tenant_key == tenant_key,
                TeamsConversationRow.conversation_type == "personal",
                col(TeamsConversationRow.installed).is_(True),
                (col(TeamsConversationRow.user_id).in_(ids)) | (col(TeamsConversationRow.account_id).in_(ids)),
            )
            .order_by(col(TeamsConversationRow.updated_at).desc(), col(TeamsConversationRow.id).desc())
            .limit(1)
        ).one_or_none()
        return user, known, chat


def accounts(engine: Engine, tenant_key: str, ids: list[str]) -> list[TeamsAccountRow]:
    """Accounts whose Teams id or AD object id is in ``ids``."""
    wanted = [i for i in ids if i]
    if not wanted:
        return []
    with Session(engine) as session:
        return list(
            session.exec(
                select(TeamsAccountRow).where(
                    TeamsAccountRow.tenant_key == tenant_key,
                    (col(TeamsAccountRow.account_id).in_(wanted)) | (col(TeamsAccountRow.user_id).in_(wanted)),
                )
            )
        )


# -- the send journal -------------------------------------------------------------------------------------


def begin_send(engine: Engine, key: str, outbox_id: int, person_id: int | None, conversation_id: str) -> str | None:
    """Durably record that activity ``key`` is about to be posted (one INSERT, committed before the post);
    returns the state of an earlier attempt instead when there was one."""
    with Session(engine) as session, session.begin():
        added = insert_ignoring_duplicates(
            session,
            TeamsSendRow,
            {
                "key": key,
                "outbox_id": outbox_id,
                "person_id": person_id,
                "conversation_id": conversation_id,
                "state": SENDING,
                "activity_id": "",
                "error": "",
                "created_at": _now(),
                "updated_at": _now(),
            },
            ["key"],
        )
        if added:
            return None
        return session.exec(select(TeamsSendRow.state).where(TeamsSendRow.key == key)).one_or_none() or SENDING


def settle_send(engine: Engine, key: str, state: str, activity_id: str = "", error: str = "") -> None:
    """The outcome of a post: ``sent`` (with the activity id) or ``unknown`` (with why).

    On PostgreSQL this commit does not wait for the disk: if a crash loses it, the row still says
    ``sending`` and the post is treated as unknown (never repeated), which is the safe side."""
    with Session(engine) as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        session.execute(
            update(TeamsSendRow)
            .where(col(TeamsSendRow.key) == key)
            .values(state=state, activity_id=activity_id[:200], error=error[:1000], updated_at=_now())
        )


def cancel_send(engine: Engine, key: str) -> None:
    """The post was refused before it could have taken effect (429, 503, …): it may be tried again."""
    with Session(engine) as session, session.begin():
        session.execute(delete(TeamsSendRow).where(col(TeamsSendRow.key) == key, col(TeamsSendRow.state) == SENDING))


def unconfirmed(engine: Engine, limit: int = 100) -> list[TeamsSendRow]:
    """Posts whose outcome is unknown (marked for reconciliation), newest first."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(TeamsSendRow)
                .where(TeamsSendRow.state == UNKNOWN)
                .order_by(col(TeamsSendRow.id).desc())
                .limit(limit)
            )
        )

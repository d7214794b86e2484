"""The Slack adapter's cache of DM channels (migration 0019): who the bot already has a conversation with.

Reaching a person (or a pair, in a group DM) costs a ``conversations.open`` (Web API tier 3: about 50 a
minute per workspace) the first time; the channel id it answers is kept here, per tenant, so that a restart
or another replica does not pay for it again. ``users`` is the sorted, comma-separated set of Slack user ids
the channel was opened with. An entry goes when Slack says the channel is gone (``channel_not_found``,
``is_archived``) and when one of its people is forgotten (``forget-me``).

Plain functions over an SQLAlchemy engine (or the erasure's session); ``SqlSlackRecords`` offers them to the
adapter as part of the ``bot.ports.SlackRecords`` port.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Index, UniqueConstraint, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from storage.sql import col, rowcount, select, table
from storage.tables import _ts


class SlackDmChannelRow(SQLModel, table=True):
    """A DM or group DM the bot opened in a workspace, by the set of people in it."""

    __tablename__ = "slack_dm_channel"
    __table_args__ = (
        UniqueConstraint("tenant_id", "users"),
        Index("ix_slack_dm_channel_channel", "tenant_id", "channel_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    users: str = Field(max_length=512)
    """The Slack user ids in the conversation (the bot aside), sorted, comma-separated."""
    channel_id: str = Field(max_length=64)
    opened_at: datetime | None = _ts()


def users_key(users: Iterable[str]) -> str:
    """How a set of Slack user ids is stored: sorted and comma-separated."""
    return ",".join(sorted(set(users)))


def channels(engine: Engine, tenant_id: int) -> dict[frozenset[str], str]:
    """Every DM channel kept for a tenant: set of user ids -> channel id (one query)."""
    query = select(SlackDmChannelRow.users, SlackDmChannelRow.channel_id).where(
        SlackDmChannelRow.tenant_id == tenant_id
    )
    with Session(engine) as session:
        return {frozenset(users.split(",")): channel for users, channel in session.exec(query).all()}


def remember(engine: Engine, tenant_id: int, users: Iterable[str], channel_id: str) -> None:
    """Keep the channel opened for these people (replacing an older one; another replica may race us)."""
    values = {"tenant_id": tenant_id, "users": users_key(users), "channel_id": channel_id, "opened_at": _now()}
    with Session(engine) as session, session.begin():
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table(SlackDmChannelRow)).values(values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "users"],
                set_={"channel_id": statement.excluded.channel_id, "opened_at": statement.excluded.opened_at},
            )
        )


def forget(engine: Engine, tenant_id: int, channel_id: str) -> int:
    """Slack says the channel is gone: drop what was kept of it; returns how many entries went."""
    with Session(engine) as session, session.begin():
        return rowcount(
            session.execute(
                delete(SlackDmChannelRow).where(
                    col(SlackDmChannelRow.tenant_id) == tenant_id, col(SlackDmChannelRow.channel_id) == channel_id
                )
            )
        )


def forget_user(session: Session, tenant_id: int, user_id: str) -> int:
    """Drop every kept channel that ``user_id`` is in (their DM and their group DMs), inside ``session``'s
    transaction (``forget-me``); returns how many."""
    candidates = session.exec(
        select(SlackDmChannelRow.id, SlackDmChannelRow.users).where(
            SlackDmChannelRow.tenant_id == tenant_id, col(SlackDmChannelRow.users).contains(user_id, autoescape=True)
        )
    ).all()
    ids = [row_id for row_id, users in candidates if user_id in users.split(",")]
    if not ids:
        return 0
    return rowcount(session.execute(delete(SlackDmChannelRow).where(col(SlackDmChannelRow.id).in_(ids))))


def _now() -> datetime:
    return datetime.now(UTC)

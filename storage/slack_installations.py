"""Tables for Slack app installations (OAuth installs to many workspaces), created by migration 0003.

The columns are those of slack_sdk's ``SQLAlchemyInstallationStore`` (same table names), so the data
is laid out as Slack's own tooling expects, while the schema stays ours: created and upgraded by Alembic,
never by ``create_tables()``. This module imports no Slack SDK and deals in plain rows;
:class:`SqlSlackRecords` offers them as the ``bot.ports.SlackRecords`` port, and the adapter
(``adapters/slack/oauth.py``) turns them into slack_sdk's ``Installation`` and ``Bot``. A test checks
the columns still match the SDK's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, delete, desc, func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import slack_channels
from storage.sql import col

INSTALLATIONS = "slack_installations"
BOTS = "slack_bots"

slack_installations = Table(
    INSTALLATIONS,
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(f"{INSTALLATIONS}_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
    extend_existing=True,
)

slack_bots = Table(
    BOTS,
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(f"{BOTS}_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
    extend_existing=True,
)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _row(table: Table, client_id: str, values: dict[str, Any]) -> dict[str, Any]:
    row = {k: _naive_utc(v) for k, v in values.items() if k in table.c and k != "id"}
    row["client_id"] = client_id
    if row.get("installed_at") is None:
        row["installed_at"] = datetime.now(UTC).replace(tzinfo=None)
    return row


def save(engine: Engine, client_id: str, installation: dict[str, Any] | None, bot: dict[str, Any] | None) -> None:
    """Keep an installation and its bot (either may be None), in one transaction."""
    with engine.begin() as connection:
        if installation is not None:
            connection.execute(slack_installations.insert(), _row(slack_installations, client_id, installation))
        if bot is not None:
            connection.execute(slack_bots.insert(), _row(slack_bots, client_id, bot))


def _scope(table: Table, client_id: str, enterprise_id: str | None, team_id: str | None) -> list[Any]:
    return [table.c.client_id == client_id, table.c.enterprise_id == enterprise_id, table.c.team_id == team_id]


def find_bot(engine: Engine, client_id: str, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None:
    """The newest bot row with a token for a workspace (or an org, when ``team_id`` is None)."""
    query = (
        select(slack_bots)
        .where(*_scope(slack_bots, client_id, enterprise_id, team_id), slack_bots.c.bot_token.is_not(None))
        .order_by(desc(slack_bots.c.installed_at), desc(slack_bots.c.id))
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def find_installation(
    engine: Engine, client_id: str, enterprise_id: str | None, team_id: str | None, user_id: str | None
) -> dict[str, Any] | None:
    """The newest installation of a workspace (by a given installer, when ``user_id`` is set)."""
    conditions = _scope(slack_installations, client_id, enterprise_id, team_id)
    if user_id is not None:
        conditions.append(slack_installations.c.user_id == user_id)
    query = (
        select(slack_installations)
        .where(*conditions)
        .order_by(desc(slack_installations.c.installed_at), desc(slack_installations.c.id))
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def remove(
    engine: Engine,
    client_id: str,
    enterprise_id: str | None,
    team_id: str | None,
    *,
    bots: bool,
    user_id: str | None = None,
) -> int:
    """Delete a workspace's bot rows (``bots``) or installation rows (of one installer, if given)."""
    table = slack_bots if bots else slack_installations
    conditions = _scope(table, client_id, enterprise_id, team_id)
    if user_id is not None and not bots:
        conditions.append(slack_installations.c.user_id == user_id)
    with engine.begin() as connection:
        return connection.execute(delete(table).where(*conditions)).rowcount


def bot_token(engine: Engine, client_id: str, team_id: str) -> str | None:
    """The newest bot token installed for a workspace (any enterprise), or None when not installed."""
    with engine.connect() as connection:
        return connection.execute(
            select(slack_bots.c.bot_token)
            .where(slack_bots.c.client_id == client_id, slack_bots.c.team_id == team_id)
            .order_by(desc(slack_bots.c.installed_at), desc(slack_bots.c.id))
            .limit(1)
        ).scalar_one_or_none()


def identities(engine: Engine, tenant_id: int, platform: str) -> dict[int, str]:
    """Person id -> platform user id for everyone of a tenant linked to ``platform`` (one query)."""
    from storage.tables import PersonIdentityRow

    with engine.connect() as connection:
        rows = connection.execute(
            select(col(PersonIdentityRow.person_id), col(PersonIdentityRow.external_id)).where(
                col(PersonIdentityRow.tenant_id) == tenant_id, col(PersonIdentityRow.platform) == platform
            )
        )
        return {person_id: external_id for person_id, external_id in rows}


class SqlSlackRecords:
    """The Slack adapter's records (``bot.ports.SlackRecords``) over these tables and the people's identities."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_installation(
        self, client_id: str, installation: dict[str, Any] | None, bot: dict[str, Any] | None
    ) -> None:
        save(self.engine, client_id, installation, bot)

    def find_bot(self, client_id: str, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None:
        return find_bot(self.engine, client_id, enterprise_id, team_id)

    def find_installation(
        self, client_id: str, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> dict[str, Any] | None:
        return find_installation(self.engine, client_id, enterprise_id, team_id, user_id)

    def remove(
        self, client_id: str, enterprise_id: str | None, team_id: str | None, *, bots: bool, user_id: str | None = None
    ) -> int:
        return remove(self.engine, client_id, enterprise_id, team_id, bots=bots, user_id=user_id)

    def bot_token(self, client_id: str, team_id: str) -> str | None:
        return bot_token(self.engine, client_id, team_id)

    def user_ids(self, tenant_id: int) -> dict[int, str]:
        return identities(self.engine, tenant_id, "slack")

    def dm_channels(self, tenant_id: int) -> dict[frozenset[str], str]:
        return slack_channels.channels(self.engine, tenant_id)

    def remember_dm_channel(self, tenant_id: int, users: frozenset[str], channel_id: str) -> None:
        slack_channels.remember(self.engine, tenant_id, users, channel_id)

    def forget_dm_channel(self, tenant_id: int, channel_id: str) -> None:
        slack_channels.forget(self.engine, tenant_id, channel_id)

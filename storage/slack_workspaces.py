"""Where each Slack tenant stands: its bot token (org-wide or per workspace), an uninstall, held messages.

A Slack tenant is a workspace (its team id, ``T…``) or, for an org-wide install on Enterprise Grid, the whole
organisation (its enterprise id, ``E…``). Its bot is found by enterprise id first (an org-wide install keeps
``team_id`` empty), then by team id. When Slack says the app was uninstalled or its bot token revoked, the
tenant is marked in ``slack_uninstall`` (migration 0019): its tokens are dropped (Slack revoked them), the
installation rows stay as the record of who installed it, and messages for the tenant are held
(``outbox_message.held_for_install``) until it is installed again, when they are made due at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, and_, delete, desc, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from bot.model import Platform
from storage.slack_installations import SqlSlackRecords, slack_bots, slack_installations
from storage.sql import col, rowcount, table
from storage.tables import OutboxMessageRow, TenantRow, UTCDateTime

PLATFORM = Platform.SLACK.value
SECOND = timedelta(seconds=1)
"""Slack's ``event_time`` is in whole seconds: an install in the same second as an uninstall counts as older."""


class SlackUninstallRow(SQLModel, table=True):
    """A Slack tenant that removed the app: since when, and how Slack said so."""

    __tablename__ = "slack_uninstall"

    tenant_key: str = Field(primary_key=True, max_length=128)
    """The tenant's external id: a team id, or an enterprise id for an org-wide install."""
    reason: str = Field(max_length=32)
    """``app_uninstalled`` or ``tokens_revoked``."""
    uninstalled_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def _naive(at: datetime) -> datetime:
    """A time as the Slack tables keep it (naive UTC, like slack_sdk's own store)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at


def _of_tenant(table: Any, client_id: str, tenant_key: str) -> Any:
    """Rows of ``table`` (bots or installations) that serve a tenant: the org-wide install of enterprise
    ``tenant_key``, or the install in workspace ``tenant_key``."""
    return and_(
        table.c.client_id == client_id,
        or_(
            and_(table.c.enterprise_id == tenant_key, table.c.is_enterprise_install.is_(True)),
            table.c.team_id == tenant_key,
        ),
    )


def tenant_bot(engine: Engine, client_id: str, tenant_key: str) -> dict[str, Any] | None:
    """The newest bot with a token serving a tenant: an org-wide install of the enterprise first, then the
    workspace's own install."""
    query = (
        select(slack_bots)
        .where(_of_tenant(slack_bots, client_id, tenant_key), slack_bots.c.bot_token.is_not(None))
        .order_by(desc(slack_bots.c.is_enterprise_install), desc(slack_bots.c.installed_at), desc(slack_bots.c.id))
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def mark_uninstalled(engine: Engine, client_id: str, tenant_key: str, reason: str, at: datetime) -> bool:
    """Mark a tenant uninstalled at ``at`` and drop its tokens, in one transaction. Nothing happens (False) when
    it was installed again after ``at`` (a late retry of Slack's event), or is marked already (the first time
    stays). An install within the same second counts as older (a wrong mark holds messages only until the next
    event from the tenant)."""
    with engine.begin() as connection:
        newer = connection.execute(
            select(slack_bots.c.id)
            .where(_of_tenant(slack_bots, client_id, tenant_key), slack_bots.c.installed_at >= _naive(at) + SECOND)
            .limit(1)
        ).first()
        if newer is not None:
            return False
        marks = table(SlackUninstallRow)
        if connection.execute(select(marks.c.tenant_key).where(marks.c.tenant_key == tenant_key)).first() is not None:
            return False
        connection.execute(marks.insert().values(tenant_key=tenant_key, reason=reason, uninstalled_at=at))
        connection.execute(delete(slack_bots).where(_of_tenant(slack_bots, client_id, tenant_key)))
        connection.execute(
            update(slack_installations)
            .where(_of_tenant(slack_installations, client_id, tenant_key))
            .values(bot_token=None, bot_refresh_token=None, user_token=None, user_refresh_token=None)
        )
    return True


def uninstalled(engine: Engine, tenant_key: str | None = None) -> dict[str, tuple[str, datetime]]:
    """Tenant key -> (reason, since when) for every tenant marked uninstalled (or only ``tenant_key``)."""
    query = select(
        col(SlackUninstallRow.tenant_key), col(SlackUninstallRow.reason), col(SlackUninstallRow.uninstalled_at)
    )
    if tenant_key is not None:
        query = query.where(col(SlackUninstallRow.tenant_key) == tenant_key)
    with engine.connect() as connection:
        return {key: (reason, at) for key, reason, at in connection.execute(query).all()}


def reinstalled(engine: Engine, tenant_key: str, now: datetime) -> int:
    """The tenant is installed again: clear its mark and make the messages held for it due ``now``; returns how
    many were held."""
    with engine.begin() as connection:
        connection.execute(delete(SlackUninstallRow).where(col(SlackUninstallRow.tenant_key) == tenant_key))
        tenant = select(col(TenantRow.id)).where(
            col(TenantRow.platform) == PLATFORM, col(TenantRow.external_id) == tenant_key
        )
        result = connection.execute(
            update(OutboxMessageRow)
            .where(
                col(OutboxMessageRow.platform) == PLATFORM,
                col(OutboxMessageRow.tenant_id).in_(tenant),
                col(OutboxMessageRow.status) == "pending",
                col(OutboxMessageRow.held_for_install).is_(True),
            )
            .values(held_for_install=False, not_before=now)
        )
        return rowcount(result)


def hold(engine: Engine, item_id: int) -> None:
    """Mark an outbox row as held until its tenant installs the app again."""
    with engine.begin() as connection:
        connection.execute(
            update(OutboxMessageRow).where(col(OutboxMessageRow.id) == item_id).values(held_for_install=True)
        )


class SqlSlackTenants(SqlSlackRecords):
    """The Slack adapter's records (``bot.ports.SlackRecords``), with each tenant's bot and uninstall."""

    def tenant_bot(self, client_id: str, tenant_key: str) -> dict[str, Any] | None:
        return tenant_bot(self.engine, client_id, tenant_key)

    def mark_uninstalled(self, client_id: str, tenant_key: str, reason: str, at: datetime) -> bool:
        return mark_uninstalled(self.engine, client_id, tenant_key, reason, at)

    def uninstalled(self, tenant_key: str | None = None) -> dict[str, tuple[str, datetime]]:
        return uninstalled(self.engine, tenant_key)

    def reinstalled(self, tenant_key: str, now: datetime) -> int:
        return reinstalled(self.engine, tenant_key, now)

    def hold_for_install(self, item_id: int) -> None:
        hold(self.engine, item_id)

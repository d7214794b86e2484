"""Slack tenants that removed the app (app_uninstalled, tokens_revoked) are marked, so their messages wait

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_uninstall",
        sa.Column("tenant_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("uninstalled_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_key"),
    )


def downgrade() -> None:
    op.drop_table("slack_uninstall")

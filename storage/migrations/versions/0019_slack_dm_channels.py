"""the Slack adapter keeps the DM channels it opened, per tenant, so a restart does not open them again

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_dm_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("users", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("opened_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "users"),
    )
    op.create_index("ix_slack_dm_channel_channel", "slack_dm_channel", ["tenant_id", "channel_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_slack_dm_channel_channel", table_name="slack_dm_channel")
    op.drop_table("slack_dm_channel")

"""Teams: conversation references, accounts, and the send journal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables
import storage.teams_references  # noqa: F401  (registers the tables on SQLModel.metadata)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_key", _text(128), nullable=False),
        sa.Column("conversation_id", _text(512), nullable=False),
        sa.Column("conversation_type", _text(16), nullable=False),
        sa.Column("user_id", _text(200), nullable=False),
        sa.Column("account_id", _text(200), nullable=False),
        sa.Column("name", _text(200), nullable=False),
        sa.Column("team_id", _text(512), nullable=False),
        sa.Column("service_url", _text(512), nullable=False),
        sa.Column("bot_id", _text(200), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_key", "conversation_id"),
    )
    op.create_index("ix_teams_conversation_user", "teams_conversation", ["tenant_key", "user_id"])
    op.create_table(
        "teams_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_key", _text(128), nullable=False),
        sa.Column("account_id", _text(200), nullable=False),
        sa.Column("user_id", _text(200), nullable=False),
        sa.Column("name", _text(200), nullable=False),
        sa.Column("service_url", _text(512), nullable=False),
        sa.Column("updated_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_key", "account_id"),
    )
    op.create_index("ix_teams_account_user", "teams_account", ["tenant_key", "user_id"])
    op.create_table(
        "teams_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _text(400), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", _text(512), nullable=False),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("activity_id", _text(200), nullable=False),
        sa.Column("error", _text(1000), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_teams_send_state", "teams_send", ["state"])


def downgrade() -> None:
    op.drop_index("ix_teams_send_state", table_name="teams_send")
    op.drop_table("teams_send")
    op.drop_index("ix_teams_account_user", table_name="teams_account")
    op.drop_table("teams_account")
    op.drop_index("ix_teams_conversation_user", table_name="teams_conversation")
    op.drop_table("teams_conversation")

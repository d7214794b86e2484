"""intake answers, onboarding, programme questions, suspended flows, per-person inbox order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("intake_questions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("intake", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("intake_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("intake_completed_at", storage.tables.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("intake_reminders", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("onboarded_at", storage.tables.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversation_state") as batch:
        batch.add_column(sa.Column("suspended", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("inbox_event") as batch:
        batch.add_column(sa.Column("user_key", sa.String(length=200), nullable=False, server_default=""))
        batch.create_index("ix_inbox_event_user", ["platform", "tenant_key", "user_key", "status"])


def downgrade() -> None:
    with op.batch_alter_table("inbox_event") as batch:
        batch.drop_index("ix_inbox_event_user")
        batch.drop_column("user_key")
    with op.batch_alter_table("conversation_state") as batch:
        batch.drop_column("suspended")
    with op.batch_alter_table("participant") as batch:
        for column in ("onboarded_at", "intake_reminders", "intake_completed_at", "intake_version", "intake"):
            batch.drop_column(column)
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("intake_questions")

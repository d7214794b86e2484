"""calendars (issue #21): the calendar request queue, a person's opt-out of calendar reading, a session's event

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("due_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_calendar_request_due", "calendar_request", ["status", "due_at"])
    op.create_index(op.f("ix_calendar_request_tenant_id"), "calendar_request", ["tenant_id"])
    op.create_index(op.f("ix_calendar_request_session_id"), "calendar_request", ["session_id"])
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("calendar_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("calendar_event", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("session") as batch:
        batch.drop_column("calendar_event")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("calendar_opt_out")
    op.drop_index(op.f("ix_calendar_request_session_id"), table_name="calendar_request")
    op.drop_index(op.f("ix_calendar_request_tenant_id"), table_name="calendar_request")
    op.drop_index("ix_calendar_request_due", table_name="calendar_request")
    op.drop_table("calendar_request")

"""coordinator roles waiting for someone: named by email before they appear, or offered to the Slack installer

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coordinator_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_key", "email"),
        sa.UniqueConstraint("tenant_key", "person_id"),
    )
    op.create_index(op.f("ix_coordinator_grant_email"), "coordinator_grant", ["email"], unique=False)
    op.create_index(op.f("ix_coordinator_grant_person_id"), "coordinator_grant", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_coordinator_grant_person_id"), table_name="coordinator_grant")
    op.drop_index(op.f("ix_coordinator_grant_email"), table_name="coordinator_grant")
    op.drop_table("coordinator_grant")

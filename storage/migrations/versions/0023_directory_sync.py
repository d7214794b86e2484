"""directory sync (issue #21): what the last sync of each source read, its delta link, schedule and totals

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("delta_link", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("next_due_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("added_total", sa.Integer(), nullable=False),
        sa.Column("changed_total", sa.Integer(), nullable=False),
        sa.Column("left_total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "source"),
    )
    op.create_index(op.f("ix_directory_sync_state_tenant_id"), "directory_sync_state", ["tenant_id"], unique=False)
    op.create_table(
        "directory_source_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "source", "external_id"),
    )
    op.create_index(
        op.f("ix_directory_source_person_tenant_id"), "directory_source_person", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_directory_source_person_person_id"), "directory_source_person", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_directory_source_person_person_id"), table_name="directory_source_person")
    op.drop_index(op.f("ix_directory_source_person_tenant_id"), table_name="directory_source_person")
    op.drop_table("directory_source_person")
    op.drop_index(op.f("ix_directory_sync_state_tenant_id"), table_name="directory_sync_state")
    op.drop_table("directory_sync_state")

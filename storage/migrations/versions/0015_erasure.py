"""erasure: when a stored message payload was redacted, and the pseudonym of a forgotten coordinator in the audit log

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("inbox_event", "outbox_message"):
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("redacted_at", storage.tables.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor")
    for name in ("outbox_message", "inbox_event"):
        with op.batch_alter_table(name) as batch:
            batch.drop_column("redacted_at")

"""commitment and feedback: pulses, surveys, check-ins; at-risk pairs; notices; daily nudge counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("notices", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("match_pair") as batch:
        batch.add_column(sa.Column("at_risk", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("risk_reason", TEXT(length=200), nullable=False, server_default=""))
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", TEXT(length=16), nullable=False),
        sa.Column("kind", TEXT(length=16), nullable=False),
        sa.Column("subject", TEXT(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("share_comment", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "kind", "subject"),
    )
    op.create_index("ix_feedback_programme_id", "feedback", ["programme_id"])
    op.create_index("ix_feedback_person_id", "feedback", ["person_id"])
    op.create_table(
        "nudge_count",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("nudge_count")
    op.drop_table("feedback")
    with op.batch_alter_table("match_pair") as batch:
        batch.drop_column("risk_reason")
        batch.drop_column("at_risk")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("notices")

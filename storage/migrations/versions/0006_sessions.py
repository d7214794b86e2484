"""sessions: the series, what happened by side, resources; pair goals and scheduling

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = storage.tables.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("match_pair") as batch:
        batch.add_column(sa.Column("goals", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("scheduling", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("circle", TEXT(length=200), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("mentee_ids", sa.JSON(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("starts_at", TS(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("anchor_time_zone", TEXT(length=64), nullable=False),
        sa.Column("status", TEXT(length=16), nullable=False),
        sa.Column("uid", TEXT(length=200), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), nullable=False),
        sa.Column("topic_id", TEXT(length=80), nullable=True),
        sa.Column("framework_id", TEXT(length=80), nullable=True),
        sa.Column("agenda_items", sa.JSON(), nullable=False),
        sa.Column("action_items", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["mentor_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("circle", "sequence"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_session_starts", "session", ["status", "starts_at"])
    op.create_index("ix_session_circle", "session", ["circle"])
    op.create_index("ix_session_mentor_id", "session", ["mentor_id"])
    op.create_index("ix_session_programme_id", "session", ["programme_id"])
    op.create_table(
        "session_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("circle", TEXT(length=200), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT(length=32), nullable=False),
        sa.Column("side", TEXT(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("at", TS(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_session_event_circle", "session_event", ["circle"])
    op.create_index("ix_session_event_programme_id", "session_event", ["programme_id"])
    op.create_index("ix_session_event_session_id", "session_event", ["session_id"])
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("title", TEXT(length=200), nullable=False),
        sa.Column("url", TEXT(length=1000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("role", TEXT(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["added_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resource_programme_id", "resource", ["programme_id"])


def downgrade() -> None:
    op.drop_table("resource")
    op.drop_table("session_event")
    op.drop_table("session")
    with op.batch_alter_table("match_pair") as batch:
        batch.drop_column("scheduling")
        batch.drop_column("goals")

"""releases of figures at measurement points, with the bases that later releases are checked against

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.tables

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("released_figure")  # the last shown value per figure: replaced by releases
    op.create_table(
        "figure_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cutoff", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "cutoff"),
    )
    op.create_index(op.f("ix_figure_release_programme_id"), "figure_release", ["programme_id"], unique=False)
    op.create_table(
        "released_cell",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("cell", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["figure_release.id"]),
        sa.PrimaryKeyConstraint("release_id", "cell"),
    )
    op.create_table(
        "figure_contributor",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("programme_id", "person_id", "scope"),
        sa.UniqueConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("figure_contributor")
    op.drop_table("released_cell")
    op.drop_index(op.f("ix_figure_release_programme_id"), table_name="figure_release")
    op.drop_table("figure_release")
    op.create_table(
        "released_figure",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("cell", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("as_of", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("programme_id", "cell"),
    )

"""the programme a programme was cloned from (returning people confirm last term's intake)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("cloned_from_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("cloned_from_id")

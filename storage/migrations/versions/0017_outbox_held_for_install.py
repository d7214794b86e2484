"""outbox messages held until a recipient installs the app get a column of their own (it was a prefix of last_error)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_MARK = "teams: waiting for"
"""How the Teams deliverer marked a held message in ``last_error`` until this revision."""

outbox = sa.table(
    "outbox_message",
    sa.column("platform", sa.String()),
    sa.column("last_error", sa.String()),
    sa.column("held_for_install", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("held_for_install", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        outbox.update()
        .where(outbox.c.platform == "teams", outbox.c.last_error.startswith(OLD_MARK, autoescape=True))
        .values(held_for_install=sa.true())
    )


def downgrade() -> None:
    op.execute(
        outbox.update()
        .where(outbox.c.held_for_install.is_(sa.true()), ~outbox.c.last_error.startswith(OLD_MARK, autoescape=True))
        .values(last_error=OLD_MARK + " people to install the app")
    )
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("held_for_install")

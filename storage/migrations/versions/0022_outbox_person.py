"""outbox messages to one person name that person in a column of their own, so the messages held for them are
found by an index, not by scanning the tenant's backlog

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSETTLED = "status IN ('pending', 'sending')"

outbox = sa.table(
    "outbox_message",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("recipients", sa.JSON()),
    sa.column("person_id", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(outbox.c.id, outbox.c.recipients).where(outbox.c.status.in_(("pending", "sending")))
    ).all()
    for row_id, recipients in waiting:
        if isinstance(recipients, list) and len(recipients) == 1:
            connection.execute(outbox.update().where(outbox.c.id == row_id).values(person_id=recipients[0]))
    op.create_index(
        "ix_outbox_person",
        "outbox_message",
        ["person_id", "id"],
        sqlite_where=sa.text(UNSETTLED),
        postgresql_where=sa.text(UNSETTLED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_person", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("person_id")

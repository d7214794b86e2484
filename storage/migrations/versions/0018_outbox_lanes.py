"""outbox messages get a lane: replies to what someone just did are sent ahead of bulk messages

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLY, BULK = 0, 1
UNSETTLED = "status IN ('pending', 'sending')"

outbox = sa.table(
    "outbox_message",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("lane", sa.SmallInteger()),
)


def _answers(payload: object) -> bool:
    """A message still waiting that answered someone's own event: it was to them in the chat they wrote in
    (``reply_in``), or it opens a form they asked for (``trigger_id``)."""
    return isinstance(payload, dict) and bool(payload.get("reply_in") or payload.get("trigger_id"))


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), nullable=False, server_default=str(BULK)))
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.status.in_(("pending", "sending")))
    ).all()
    replies = [row_id for row_id, payload in waiting if _answers(payload)]
    for start in range(0, len(replies), 500):
        connection.execute(outbox.update().where(outbox.c.id.in_(replies[start : start + 500])).values(lane=REPLY))
    op.create_index(
        "ix_outbox_lane",
        "outbox_message",
        ["platform", "lane", "id"],
        sqlite_where=sa.text(UNSETTLED),
        postgresql_where=sa.text(UNSETTLED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_lane", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("lane")

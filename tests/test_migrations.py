"""Migrations that move data, on SQLite and PostgreSQL: what was there before is there after, in its new place.

(``tests/test_store.py`` checks that the migrated schema matches the tables.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, Table, func, select

from storage import db

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (nothing migrated yet)."""
    if request.param == "sqlite":
        made = db.make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        made = db.make_engine(url, schema=schema)
    try:
        yield made
    finally:
        made.dispose()


def table(engine: Engine, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=engine)


def test_messages_held_for_an_install_keep_being_held_in_their_own_column(engine: Engine) -> None:
    """0017: a Teams message whose ``last_error`` said it waited for an install is marked ``held_for_install``;
    other messages are not, whatever their error says; going back down restores the old mark."""
    db.upgrade(engine, "0016")
    outbox, tenants = table(engine, "outbox_message"), table(engine, "tenant")
    with engine.begin() as connection:
        tenant = connection.execute(
            tenants.insert().values(platform="teams", external_id="t1", name="", created_at=NOW)
        ).inserted_primary_key[0]
        for key, platform, error in [
            ("held", "teams", "teams: waiting for people [3] to install the app"),
            ("throttled", "teams", "teams: HTTP 429"),
            ("slack", "slack", "teams: waiting for nothing (a Slack message that only looks the same)"),
            ("sent", "teams", ""),
        ]:
            connection.execute(
                outbox.insert().values(
                    tenant_id=tenant,
                    platform=platform,
                    idempotency_key=key,
                    payload={},
                    recipients=[3],
                    pending=[3],
                    status="pending",
                    attempts=1,
                    last_error=error,
                    created_at=NOW,
                    not_before=NOW,
                )
            )

    db.upgrade(engine)
    outbox = table(engine, "outbox_message")
    with engine.begin() as connection:
        held = dict(connection.execute(select(outbox.c.idempotency_key, outbox.c.held_for_install)).all())
        connection.execute(  # held by this version, which keeps last_error for the error alone
            outbox.update()
            .where(outbox.c.idempotency_key == "throttled")
            .values(held_for_install=True, last_error="teams: people [3] have not installed the app")
        )
    assert held == {"held": True, "throttled": False, "slack": False, "sent": False}

    command.downgrade(db.alembic_config(engine), "0016")
    outbox = table(engine, "outbox_message")
    assert "held_for_install" not in outbox.c
    with engine.connect() as connection:
        errors = dict(connection.execute(select(outbox.c.idempotency_key, outbox.c.last_error)).all())
    assert errors["held"].startswith("teams: waiting for") and errors["throttled"].startswith("teams: waiting for")
    assert errors["slack"].startswith("teams: waiting for nothing") and errors["sent"] == ""


def test_outbox_messages_get_a_lane_and_waiting_answers_go_in_the_reply_lane(engine: Engine) -> None:
    """0018: messages still waiting that answered someone's own event (sent in the chat they wrote in, or opening
    the form they asked for) are in the reply lane, everything else in the bulk lane; going back down drops the
    lane and its index."""
    db.upgrade(engine, "0017")
    outbox, tenants = table(engine, "outbox_message"), table(engine, "tenant")
    with engine.begin() as connection:
        tenant = connection.execute(
            tenants.insert().values(platform="slack", external_id="T1", name="", created_at=NOW)
        ).inserted_primary_key[0]
        for key, status, payload in [
            ("answer", "pending", {"kind": "reply", "reply_in": "D1"}),
            ("form", "sending", {"kind": "reply", "trigger_id": "13345.7"}),
            ("reminder", "pending", {"kind": "nudge"}),
            ("broadcast", "pending", {"kind": "reply", "reply_in": ""}),
            ("answered", "sent", {"kind": "reply", "reply_in": "D1"}),
        ]:
            connection.execute(
                outbox.insert().values(
                    tenant_id=tenant,
                    platform="slack",
                    idempotency_key=key,
                    payload=payload,
                    recipients=[3],
                    pending=[3],
                    status=status,
                    attempts=0,
                    last_error="",
                    created_at=NOW,
                    not_before=NOW,
                )
            )

    db.upgrade(engine)
    outbox = table(engine, "outbox_message")
    with engine.connect() as connection:
        lanes = dict(connection.execute(select(outbox.c.idempotency_key, outbox.c.lane)).all())
    assert lanes == {"answer": 0, "form": 0, "reminder": 1, "broadcast": 1, "answered": 1}
    assert "ix_outbox_lane" in {index.name for index in outbox.indexes}

    command.downgrade(db.alembic_config(engine), "0017")
    outbox = table(engine, "outbox_message")
    assert "lane" not in outbox.c and "ix_outbox_lane" not in {index.name for index in outbox.indexes}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == 5


def test_a_database_behind_the_newest_migration_is_migrated_and_one_at_it_is_left_alone(engine: Engine) -> None:
    assert db.newest_on_disk() == db.head_revision()  # the quick check reads the same head as Alembic
    assert not db.up_to_date(engine)  # no schema yet
    db.upgrade(engine, "0018")
    assert not db.up_to_date(engine)
    db.upgrade(engine)
    assert db.up_to_date(engine) and db.current_revision(engine) == db.head_revision()
    db.upgrade(engine)  # at the head already: nothing to do
    assert db.current_revision(engine) == db.head_revision()

"""Alembic environment: runs on the engine handed over by ``storage.db.upgrade``."""

from alembic import context
from sqlmodel import SQLModel

import storage.directory_sync  # noqa: F401  (what directory syncs kept)
import storage.slack_channels  # noqa: F401  (the Slack adapter's DM channels)
import storage.slack_workspaces  # noqa: F401  (Slack tenants that removed the app)
import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
import storage.teams_references  # noqa: F401  (the Teams adapter's tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from storage.db import make_engine

        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("no engine was handed over and no sqlalchemy.url is set")
        engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            user_module_prefix="storage.tables.",  # the column types as migrations name them (re-exported there)
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()

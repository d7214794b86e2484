"""Database engines and migrations: SQLite by default, PostgreSQL by URL, with no code change."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class DatabaseUrlError(ValueError):
    """The configured database URL cannot be used."""


def normalise_url(url: str) -> str:
    """Check a database URL and choose the driver we ship (psycopg 3 for PostgreSQL).

    Raises :class:`DatabaseUrlError` with a one-line reason for anything unusable.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"DATABASE_URL {url!r} is not a database URL (expected sqlite:///FILE or postgresql://USER@HOST/DB)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if not parsed.database:
            raise DatabaseUrlError(f"DATABASE_URL {url!r} names no database (add /DBNAME at the end)")
    elif backend != "sqlite":
        raise DatabaseUrlError(f"DATABASE_URL {url!r} uses {backend!r}; supported are sqlite and postgresql")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """Create an engine. SQLite gets WAL, a busy timeout and write-ahead ``BEGIN IMMEDIATE`` transactions."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # TCP keepalives: an idle connection to a vanished server (or over a dead network path) is noticed
    # within about 25 s, not hours; the scheduler leader's held connection relies on it. The URL may override.
    given = make_url(url).query
    connect_args: dict[str, Any] = {k: v for k, v in PG_KEEPALIVES.items() if k not in given}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself, so every transaction takes the
        # write lock up front: no lock upgrades, no SQLITE_BUSY surprises between processes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest).

    On PostgreSQL, replicas that start together take turns (an advisory lock per schema): the first one
    migrates, the others then find the schema up to date."""
    if revision == "head" and up_to_date(engine):
        return  # nothing to do, and Alembic is not even loaded (it costs a command's start-up ~0.1 s)
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)
        return
    from storage.leader import lock_key

    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar() or ""
        key = {"key": lock_key(f"rmbot.migrations:{schema}")}
        connection.execute(text("SELECT pg_advisory_lock(CAST(:key AS bigint))"), key)
        connection.commit()  # a session-level lock outlives the transaction
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(CAST(:key AS bigint))"), key)
            connection.commit()


def newest_on_disk() -> str | None:
    """The newest migration shipped, read from the file names (``NNNN_what.py`` has revision ``NNNN``; a test
    checks that this agrees with Alembic's head)."""
    numbers = sorted(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return numbers[-1] if numbers else None


def up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest migration shipped (False when it has no schema yet)."""
    try:
        with engine.connect() as connection:
            found: list[str] = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return False
    return found == [newest_on_disk()]


def head_revision() -> str | None:
    """The newest migration this version ships (what :func:`upgrade` brings a database to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()

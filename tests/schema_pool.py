"""The suite's PostgreSQL schemas, built once per worker and handed to one test at a time (``tests/conftest.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage import db
from storage.db import normalise_url


class ReadySchemas:
    """This worker's PostgreSQL schemas, each built from the tables once and handed to one test at a time.

    A test gets a schema under a name never used before (``ALTER SCHEMA ... RENAME``: the advisory locks and
    notifications rmbot keys by schema name cannot meet an earlier test's), with empty tables, sequences that start
    again at 1 and ``alembic_version`` at the head. Afterwards the rows it wrote are deleted, the emptied tables
    vacuumed (new rows are stored from their first page on, as in a new table) and the sequences it used restarted:
    about a third of the time building a schema and dropping it takes. A schema whose tables, columns, indexes,
    constraints, types, functions or ``alembic_version`` changed during the test is dropped instead, as is one that
    cannot be emptied within a few seconds (a connection left holding locks); the next test gets a new one."""

    def __init__(self, url: str, build: Callable[[Engine], None]) -> None:
        self.url = url
        self.build = build
        """Brings an empty schema to the newest migration."""
        self.admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        self.cleaner = create_engine(normalise_url(url))
        self.free: list[tuple[str, str]] = []  # (schema, its shape when built)

    def take(self) -> tuple[str, str]:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            if self.free:
                built, shape = self.free.pop()
                connection.execute(text(f'ALTER SCHEMA "{built}" RENAME TO "{schema}"'))
                return schema, shape
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = db.make_engine(self.url, schema=schema)
        try:
            self.build(engine)
        finally:
            engine.dispose()
        with self.admin.connect() as connection:
            return schema, _shape(connection, schema)

    def give_back(self, schema: str, shape: str) -> None:
        try:
            with self.admin.connect() as connection:
                if _shape(connection, schema) != shape or _version(connection, schema) != [db.newest_on_disk()]:
                    raise LookupError(schema)
                with self.cleaner.begin() as transaction:
                    transaction.execute(text("SET LOCAL lock_timeout = '5s'"))
                    transaction.execute(text("SET LOCAL session_replication_role = replica"))  # no FK checks
                    tables = _filled_tables(transaction, schema)
                    for table in tables:
                        transaction.execute(text(f'DELETE FROM "{schema}"."{table}"'))
                    for sequence in transaction.execute(
                        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s AND last_value IS NOT NULL"),
                        {"s": schema},
                    ).scalars():
                        transaction.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))
                if tables:
                    connection.execute(text("VACUUM " + ", ".join(f'"{schema}"."{table}"' for table in tables)))
        except (LookupError, SQLAlchemyError):
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return
        self.free.append((schema, shape))

    def close(self) -> None:
        with self.admin.connect() as connection:
            for schema, _ in self.free:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        self.cleaner.dispose()
        self.admin.dispose()


def _shape(connection: Any, schema: str) -> str:
    """A digest of the schema's tables, columns, indexes, sequences, constraints, types and functions, by name
    (the schema's own name left out)."""
    return str(
        connection.execute(
            text(
                "SELECT md5(string_agg(entry, ',' ORDER BY entry)) FROM ("
                " SELECT c.relkind::text || ':' || c.relname || ':' || coalesce(string_agg(a.attname || '/'"
                "   || format_type(a.atttypid, a.atttypmod) || '/' || a.attnotnull || '/' || a.attisdropped,"
                "   ';' ORDER BY a.attnum), '') AS entry"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
                " WHERE n.nspname = :s GROUP BY c.oid, c.relkind, c.relname"
                " UNION ALL SELECT 'constraint:' || conname || ':' || contype::text FROM pg_constraint co"
                " JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = :s"
                " UNION ALL SELECT 'type:' || typname FROM pg_type t"
                " JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = :s"
                " UNION ALL SELECT 'function:' || proname FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s"
                ") AS entries"
            ),
            {"s": schema},
        ).scalar()
    )


def _version(connection: Any, schema: str) -> list[str | None]:
    return list(connection.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalars())


def _filled_tables(connection: Any, schema: str) -> list[str]:
    """The schema's tables that hold rows (all but ``alembic_version``, whose row stays)."""
    names = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> 'alembic_version'"), {"s": schema}
    ).scalars()
    found = " UNION ALL ".join(f'SELECT \'{name}\' WHERE EXISTS (SELECT 1 FROM "{schema}"."{name}")' for name in names)
    return list(connection.execute(text(found)).scalars())

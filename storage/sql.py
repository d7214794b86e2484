"""Typed access to SQLModel tables, where SQLModel's own typing falls short.

A table model's attribute (``PersonRow.email``) is typed as its Python value (``str | None``), not as a
column, so type checkers reject ``PersonRow.email.in_(...)``, ``PersonRow.due_at <= now`` or a bare
comparison given to SQLAlchemy's ``where``. The rest of ``storage/`` therefore builds statements with
:func:`select` (SQLModel's, which accepts such comparisons) and :func:`col` (the attribute as a column),
and reaches a model's ``Table`` and a statement's row count through the helpers here. None of this
changes the SQL that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, TypeVar, cast, overload

from pydantic import BaseModel
from sqlalchemy import Executable, Table, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import SQLModel, col, select

__all__ = [
    "col",
    "insert_ignoring",
    "insert_ignoring_duplicates",
    "insert_many_ignoring_duplicates",
    "keep",
    "listed",
    "read_once",
    "remember_as",
    "remembered",
    "rowcount",
    "select",
    "stored_id",
    "table",
    "to_domain",
    "to_domain_or_none",
]

D = TypeVar("D", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R", bound=SQLModel)
_KEPT = "rmbot.kept"


def table(model: type[SQLModel]) -> Table:
    """The ``Table`` behind a table model (SQLModel sets ``__table__`` without declaring it)."""
    found = getattr(model, "__table__", None)
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return found


def stored_id(value: int | None) -> int:
    """A primary key read back from the database. Table models type ``id`` as optional (it is None
    only before the row is inserted); a row read from the database always has one."""
    if value is None:
        raise ValueError("a stored row has no id")
    return value


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (``Session.execute`` is typed as returning any result)."""
    if not isinstance(result, CursorResult):
        raise TypeError("not the result of an UPDATE or DELETE")
    return result.rowcount or 0


def to_domain(model: type[D], row: SQLModel) -> D:
    """A domain record copied from a row (they share field names)."""
    return model.model_validate(row, from_attributes=True)


def to_domain_or_none(model: type[D], row: SQLModel | None) -> D | None:
    """:func:`to_domain`, or None when there is no row."""
    return None if row is None else to_domain(model, row)


def listed(session: Session, model: type[D], statement: Executable) -> list[D]:
    """Domain records from the rows a statement over a whole table (``sqlalchemy.select(table(...))``) returns,
    without making an ORM instance per row: for long listings (a programme's participants, a tenant's people),
    where making and copying instances cost most of the time. Pending changes are flushed first, as for any query."""
    result = session.execute(statement)
    names = list(result.keys())
    return [model.model_validate(dict(zip(names, row, strict=True))) for row in result.all()]


_WRITES, _READ = "rmbot.writes", "rmbot.read"


_ANY = "*"
"""A write whose table is not known (raw SQL): every remembered read is read again."""


def _wrote(session: Session, tables: set[str]) -> None:
    writes = session.info.setdefault(_WRITES, {})
    for name in tables:
        writes[name] = writes.get(name, 0) + 1


def writes_so_far(session: Session) -> int:
    """How many writes the session has sent in its unit of work (flushes and UPDATE/INSERT/DELETE statements,
    counted per table touched)."""
    return sum(session.info.get(_WRITES, {}).values())


@event.listens_for(Session, "after_flush")
def _count_flush(session: Session, _context: Any) -> None:
    # Still the pre-flush lists here: the rows just written.
    changed = {getattr(row, "__tablename__", _ANY) for row in (*session.new, *session.dirty, *session.deleted)}
    _wrote(session, changed or {_ANY})


@event.listens_for(Session, "do_orm_execute")
def _count_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        written = getattr(state.statement, "table", None)
        _wrote(state.session, {written.name if isinstance(written, Table) else _ANY})


@event.listens_for(Session, "after_soft_rollback")
def _forget_reads(session: Session, _previous: Any) -> None:
    session.info.pop(_READ, None)  # what was read may include what the rollback undid


def remembered(session: Session, key: Hashable, tables: tuple[str, ...], load: Callable[[], T]) -> T:
    """``load()``'s result, computed once per unit of work for ``key`` while none of ``tables`` is written in it:
    a flush touching one of them, an UPDATE/INSERT/DELETE of one of them through the session, or a rollback
    (a savepoint's included) means loading again. The result is shared by the callers of one unit of work
    (copying cost more than reading again): a caller that changes a record saves it, and the save's flush makes
    the next call load afresh."""
    read = session.info.setdefault(_READ, {})
    stamp = _stamp(session, tables)
    found = read.get(key)
    if found is None or found[0] != stamp:
        found = read[key] = (stamp, load())
    return cast(T, found[1])


def remember_as(session: Session, key: Hashable, tables: tuple[str, ...], value: Any) -> None:
    """Hold ``value`` as what :func:`remembered` returns for ``key`` as of the unit of work's writes so far: for a
    repository that has just read or written a row under another key and knows its stored form, so the next read
    of it runs no SQL."""
    session.info.setdefault(_READ, {})[key] = (_stamp(session, tables), value)


def _stamp(session: Session, tables: tuple[str, ...]) -> tuple[int, ...]:
    writes = session.info.get(_WRITES, {})
    return tuple(writes.get(name, 0) for name in (*tables, _ANY))


def read_once(session: Session, key: Hashable, tables: tuple[str, ...], load: Callable[[], list[D]]) -> list[D]:
    """:func:`remembered` for a listing: each caller gets its own list (of the shared records)."""
    return list(remembered(session, key, tables, load))


@overload
def keep(session: Session, row: R) -> R: ...
@overload
def keep(session: Session, row: R | None) -> R | None: ...
def keep(session: Session, row: R | None) -> R | None:
    """Hold ``row`` until the unit of work ends, so that reading it again by id (``session.get``) runs no SQL.

    The session's identity map references rows weakly: once a repository has copied a row into a domain record
    and dropped it, the next ``get`` of the same id would read it again. A turn reads the same person, programme,
    participant and conversation state several times; kept, each is read once per transaction. Changes still
    go through the row (a rolled-back savepoint expires it, and it is read again on next use)."""
    if row is not None:
        session.info.setdefault(_KEPT, {})[id(row)] = row
    return row


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], values: dict[str, Any], unique: list[str]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL. Returns True when a row was added."""
    statement = insert_ignoring(session.get_bind().dialect.name, model, tuple(unique), tuple(sorted(values)))
    return session.execute(statement, values).first() is not None


def insert_many_ignoring_duplicates(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], unique: list[str]
) -> None:
    """:func:`insert_ignoring_duplicates` for many rows with the same columns, in one statement per batch."""
    if rows:
        statement = insert_ignoring(session.get_bind().dialect.name, model, tuple(unique), tuple(sorted(rows[0])))
        session.execute(statement, rows)


@cache
def insert_ignoring(
    dialect_name: str, model: type[SQLModel], unique: tuple[str, ...], columns: tuple[str, ...]
) -> Executable:
    """The statement of :func:`insert_ignoring_duplicates`, built once per table, key and set of columns (the
    values are bound when it runs): building it cost more than running it."""
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    columns_of = table(model).c
    return (
        dialect.insert(table(model))
        .values({name: bindparam(name, type_=columns_of[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(columns_of[unique[0]])
    )

"""Rows read and written whole with Core statements and held for the unit of work: the people and participants a
turn reads on the hot path (every event reads its person; a consent or an intake answer saves a participant),
where building ORM instances and flushing them cost several times the statements themselves.

A row an ORM reader of the same unit of work has loaded stays authoritative: it is what :meth:`HeldRows.get`
returns, and a save writes its new values into it, so both kinds of reader see one row."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel

from bot.domain import Stored
from storage.sql import remember_as, remembered, rowcount, table, to_domain

D = TypeVar("D", bound=Stored)


class HeldRows(Generic[D]):
    """One table's rows by id, as domain records of type ``record`` (whose fields are the table's columns)."""

    def __init__(self, model: type[SQLModel], record: type[D]) -> None:
        self.record = record
        self.table = table(model)
        self.name = self.table.name
        self.columns = tuple(column.name for column in self.table.c if column.name != "id")
        self._fields: set[str] = set(self.columns)
        self._by_id = select(self.table).where(self.table.c.id == bindparam("row_id"))
        self._save = (
            update(self.table)
            .where(self.table.c.id == bindparam("row_id"))
            .values({name: bindparam(name, type_=self.table.c[name].type) for name in self.columns})
        )
        self._identity = inspect(model).identity_key_from_primary_key

    def get(self, session: Session, row_id: int) -> D | None:
        """The record with ``row_id``, read at most once per unit of work while its table is not written."""

        def load() -> dict[str, Any] | None:
            if (kept := session.identity_map.get(self._identity((row_id,)))) is not None:
                return to_domain(self.record, kept).model_dump()  # as this unit of work has it, changes included
            found = session.execute(self._by_id, {"row_id": row_id}).one_or_none()
            return None if found is None else dict(found._mapping)

        found = remembered(session, (self.name, row_id), (self.name,), load)
        return None if found is None else self.record.model_validate(found)  # each caller its own record

    def hold(self, session: Session, row: Any) -> D | None:
        """The record of a row another query read (None for none), held so that :meth:`get` of it runs no SQL."""
        if row is None:
            return None
        values = dict(row._mapping)
        remember_as(session, (self.name, values["id"]), (self.name,), values)
        return self.record.model_validate(values)

    def save(self, session: Session, record: D, now: datetime) -> D:
        """Write ``record`` whole (its ``updated_at`` set to ``now``) in one statement; the record as stored.
        Raises LookupError when there is no such row."""
        row_id = record.id
        stored = record.model_copy(update={"updated_at": now})
        as_json = stored.model_dump(mode="json", include=self._fields)  # JSON columns (with dates) as JSON
        values = {
            name: as_json[name] if isinstance(value, dict | list) else value
            for name, value in stored.model_dump(include=self._fields).items()
        }
        if rowcount(session.execute(self._save, {"row_id": row_id, **values})) == 0:
            raise LookupError(f"{self.name} {row_id} does not exist")
        if (kept := session.identity_map.get(self._identity((row_id,)))) is not None:
            for name, value in values.items():  # an instance this unit of work loaded sees the row as written
                set_committed_value(kept, name, value)
        row = {"id": row_id, **values}
        remember_as(session, (self.name, row_id), (self.name,), row)
        return self.record.model_validate(row)

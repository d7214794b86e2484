"""Column types and field helpers the SQLModel tables share: UTC timestamps and empty JSON defaults."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Empty:
    """A row's default of an empty list or dict. Not ``list`` or ``dict`` themselves, nor a function: building a
    row asks every default factory for its signature, and ``list``'s is parsed from text each time (0.1 ms a
    field, on every row built); this one states its signature."""

    __signature__ = inspect.Signature()

    def __init__(self, kind: type[list[Any]] | type[dict[str, Any]]) -> None:
        self.kind = kind

    def __call__(self) -> Any:
        return self.kind()


empty_list, empty_dict = _Empty(list), _Empty(dict)


def _ts(nullable: bool = True) -> Any:
    """A timestamp field (:class:`UTCDateTime`), empty until set."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))

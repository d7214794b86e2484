"""Everything a database holds, as text to search: every table, every column, JSON walked, attachments decoded.

What ``forget-me`` must have removed is looked for here the way someone with a copy of the database would:
in every row of every table (the platform adapters' own tables and the message logs included), inside JSON
payloads, and inside the files that travel in them (base64 ``content_b64``, decoded).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from bot.wording import escape, unescape


@dataclass(frozen=True)
class Hit:
    table: str
    column: str
    needle: str
    excerpt: str


def _strings(value: Any) -> Iterator[str]:
    """Every string inside ``value`` (JSON text parsed), with decoded attachment contents."""
    if isinstance(value, str):
        yield value
        if value[:1] in ("{", "[") and value[-1:] in ("}", "]"):
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            if key == "content_b64" and isinstance(inner, str):
                try:
                    yield base64.b64decode(inner).decode("utf-8", errors="ignore")
                except (binascii.Error, ValueError):
                    pass
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="ignore")
    elif value is not None:
        yield str(value)


def dump(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(table, column, text) for every value stored, in every table but Alembic's own."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    for text in _strings(value):
                        yield table.name, str(column), text


def search(engine: Engine, needles: list[str]) -> list[Hit]:
    """Where any needle appears (ignoring case), as typed or as escaped in a message's markdown."""
    wanted = {n.lower(): n for needle in needles if needle for n in (needle, escape(needle))}
    hits = []
    for table, column, text in dump(engine):
        for candidate in {text.lower(), unescape(text).lower()}:
            for lowered, needle in wanted.items():
                if lowered in candidate:
                    at = candidate.index(lowered)
                    hits.append(Hit(table, column, needle, candidate[max(0, at - 60) : at + 60]))
    return hits

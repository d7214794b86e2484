"""The database side of the sustained-load benchmark: a temporary SQLite file or a fresh PostgreSQL schema,
the workspace's people, the inbox as handled, and the backlog sampled while the load runs.

The project's packages are imported when they are needed, from the root the benchmark puts on ``sys.path``.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

from sustained_load_traffic import TEAM


def database(url: str, workdir: Path) -> tuple[str, str, str | None]:
    """(URL for rmbot, label, PostgreSQL schema to drop afterwards): a temp SQLite file or a fresh schema."""
    if not url:
        return f"sqlite:///{workdir / 'rmbot.db'}", "SQLite", None
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(normalise_url(url), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"options": f"-csearch_path={schema}"})
    return url, "PostgreSQL", schema


def drop_schema(url: str, schema: str) -> None:
    """Drop the schema ``database`` made for the run, with everything in it."""
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    with create_engine(normalise_url(url.split("?", 1)[0]), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def seed(url: str, users: int) -> None:
    """The workspace and its people, each linked to a Slack user id (as after a directory import)."""
    from bot.domain import NewPerson
    from storage.store import SqlStore

    store = SqlStore.open(url)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        for n in range(1, users + 1):
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"person{n}@example.com"))
            uow.people.link_identity(person, "slack", f"U{n:05d}")
    store.close()


class Backlog(threading.Thread):
    """Samples the inbox and outbox backlog every few seconds while the load runs."""

    def __init__(self, store: object, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.store, self.every, self.samples = store, every, []  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.samples.append(
                (
                    time.monotonic() - self.started,
                    self.store.inbox.pending_count(),  # type: ignore[attr-defined]
                    self.store.outbox.pending_count("slack"),
                    os.getloadavg()[0],
                )
            )  # type: ignore[attr-defined]


def inbox(store: object) -> dict[str, tuple[str, float, float]]:
    """Event id -> (status, received, done) in epoch seconds (done 0 when not handled)."""
    from sqlmodel import Session, select

    from storage.tables import InboxEventRow

    with Session(store.engine) as session:  # type: ignore[attr-defined]
        rows = session.execute(
            select(InboxEventRow.event_id, InboxEventRow.status, InboxEventRow.received_at, InboxEventRow.done_at)
        ).all()
    return {e: (s, r.timestamp(), d.timestamp() if d else 0.0) for e, s, r, d in rows}

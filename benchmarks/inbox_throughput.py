"""Durable inbox throughput: accepted events per second, and handled events per second with the engine.

Run: .venv/bin/python benchmarks/inbox_throughput.py [--events N]
With TEST_DATABASE_URL set, PostgreSQL is measured too (in a private schema, dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.domain import NewPerson  # noqa: E402
from bot.model import InboundEvent, Platform  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.store import SqlStore  # noqa: E402


def measure(label: str, store: SqlStore, events: int) -> None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        uow.people.add(NewPerson(tenant_id=tenant.id, email="bench@example.com", name="Bench"))
    runtime = Runtime(store)
    now = datetime.now(UTC)
    batch = [
        InboundEvent(
            platform=Platform.CONSOLE,
            tenant="console",
            event_id=f"b{n}",
            user="bench@example.com",
            user_email="bench@example.com",
            text="help",
            occurred_at=now,
        )
        for n in range(events)
    ]
    started = time.perf_counter()
    for event in batch:
        runtime.accept(event)
    accepted = time.perf_counter() - started
    started = time.perf_counter()
    for event in batch[: events // 10]:
        runtime.accept(event)  # retries: deduplicated
    retried = time.perf_counter() - started
    started = time.perf_counter()
    handled = runtime.process_pending()
    processing = time.perf_counter() - started
    print(f"{label:<11} accept (commit each)   {events / accepted:8.0f} events/s   ({events} in {accepted:.2f} s)")
    print(f"{label:<11} duplicate retries      {events // 10 / retried:8.0f} events/s   (all refused)")
    print(
        f"{label:<11} handle 'help' + outbox {handled / processing:8.0f} events/s   ({handled} in {processing:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{folder}/bench.db")
        measure("sqlite", store, args.events)
        store.close()
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("postgresql: skipped (TEST_DATABASE_URL is not set)")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        store = SqlStore.open(url, schema=schema)
        measure("postgresql", store, args.events)
        store.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()

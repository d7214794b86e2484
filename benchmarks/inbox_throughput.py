"""Durable inbox throughput: accepted events per second, and handled events per second with the engine, per kind
of event, with the SQL statements each handled event costs.

Run: .venv/bin/python benchmarks/inbox_throughput.py [--events N] [--people N] [--quick]
With TEST_DATABASE_URL set, PostgreSQL is measured too (in a private schema, dropped afterwards).

Measured by kind of event, each handled by the worker (``Runtime.process_pending``, one transaction per event):
``help`` typed in a DM, an intake answer, and the consent button of an invitation. SQL/event counts every
statement the worker sends (``before_cursor_execute``: BEGIN, the claim, the reads and writes of the turn, the
event marked done); the counts do not depend on the machine. The "Core floor" handles ``help`` events with the
least SQL a worker could send (BEGIN, claim, find the person, queue the reply, mark done; Core statements, no
ORM), so the engine's overhead is the distance between the two lines. ``--quick`` runs a few events of each kind
(to check that the benchmark runs, and read the SQL counts).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import create_engine, event, func, insert, select, text, update  # noqa: E402

from adapters.console.session import console_event  # noqa: E402
from adapters.server import freeze_start_up_objects  # noqa: E402
from bot.clock import OffsetClock  # noqa: E402
from bot.domain import NewPerson  # noqa: E402
from bot.model import Action, InboundEvent  # noqa: E402
from chat import Chat  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.sql import table  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from storage.tables import InboxEventRow, OutboxMessageRow, PersonRow  # noqa: E402

COORD = "bench.coordinator@example.com"
START = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # a Monday, in everyone's working hours (UTC, 09:00-17:00)
ANSWERS = ["yes", "1, 2", "How to use AI in board papers"]
"""The first answers of the mentee's intake, one round each."""


class Statements:
    """Counts the statements the store's engine sends."""

    def __init__(self, store: SqlStore) -> None:
        self.count = 0
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def line(label: str, what: str, handled: int, seconds: float, statements: int | None = None) -> dict[str, float]:
    """Print one measure; return it: events/s and, when counted, SQL statements per event."""
    sql = f"   {statements / handled:5.1f} SQL/event" if statements is not None and handled else ""
    rate = handled / seconds if seconds else 0.0
    print(f"{label:<11} {what:<24} {rate:8.0f} events/s{sql}   ({handled} in {seconds:.2f} s)")
    found = {"rate": rate}
    if statements is not None and handled:
        found["sql"] = statements / handled
    return found


def handle(chat: Chat, statements: Statements, events: list[InboundEvent]) -> tuple[int, float, int]:
    """Accept ``events``, then handle them all: (handled, seconds, statements)."""
    for inbound in events:
        chat.runtime.accept(inbound)
    before = statements.count
    started = time.perf_counter()
    handled = chat.runtime.process_pending()
    seconds = time.perf_counter() - started
    used = statements.count - before
    chat.runtime.send_pending(chat.deliverer)
    return handled, seconds, used


def measure(label: str, store: SqlStore, events: int, people: int) -> dict[str, dict[str, float]]:
    """Print and return each measure by name: accept, retry, help, consent, intake, floor."""
    statements = Statements(store)
    chat = Chat(store, OffsetClock(start=START))
    ids = (f"b{n}" for n in itertools.count())

    def typed(email: str, words: str = "", action: Action | None = None) -> InboundEvent:
        return console_event(email, words, action, chat.clock.now(), next(ids))

    chat.add_person(COORD, "Bench Coordinator", time_zone="UTC")
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Bench 2030", "2030-03-11", "2030-06-30")
    emails = [f"bench{n}@example.com" for n in range(people)]
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        for n, email in enumerate(emails):
            uow.people.add(NewPerson(tenant_id=tenant.id, email=email, name=f"Bench {n}", seniority=7))

    freeze_start_up_objects()  # as the worker does once started: the set-up's objects are not the worker's
    batch = [typed(emails[0], "help") for _ in range(events)]
    started = time.perf_counter()
    for inbound in batch:
        chat.runtime.accept(inbound)
    accepted = time.perf_counter() - started
    started = time.perf_counter()
    for inbound in batch[: max(1, events // 10)]:
        chat.runtime.accept(inbound)  # retries: deduplicated
    retried = time.perf_counter() - started
    found = {"accept": line(label, "accept (commit each)", events, accepted)}
    found["retry"] = line(label, "duplicate retries", max(1, events // 10), retried)
    before = statements.count
    started = time.perf_counter()
    handled = chat.runtime.process_pending()
    found["help"] = line(label, "handle 'help' DM", handled, time.perf_counter() - started, statements.count - before)
    chat.runtime.send_pending(chat.deliverer)

    for start in range(0, len(emails), 100):  # one message holds at most 4,000 characters
        chat.send(COORD, "invite " + " ".join(emails[start : start + 100]) + " as mentee")
    presses = []
    freeze_start_up_objects()
    for email in emails:
        [consent] = [c for m in chat.received(email) for c in m.choices if c.label == "Yes, I'm in"]
        presses.append(typed(email, action=Action(id=consent.action, value=consent.value)))
    found["consent"] = line(label, "consent button", *handle(chat, statements, presses))
    answered, seconds, used = 0, 0.0, 0
    for answer in ANSWERS:
        round_handled, round_seconds, round_used = handle(chat, statements, [typed(email, answer) for email in emails])
        answered, seconds, used = answered + round_handled, seconds + round_seconds, used + round_used
    found["intake"] = line(label, "intake answer", answered, seconds, used)
    found["floor"] = core_floor(label, store, statements, emails[0], events)
    return found


def core_floor(label: str, store: SqlStore, statements: Statements, email: str, events: int) -> dict[str, float]:
    """``help`` events handled with the least SQL: Core statements in one transaction per event, no ORM."""
    inbox, outbox, people = table(InboxEventRow), table(OutboxMessageRow), table(PersonRow)
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        connection.execute(
            insert(inbox),
            [
                {
                    "platform": "console",
                    "tenant_key": "console",
                    "event_id": f"floor{n}",
                    "user_key": email,
                    "payload": {"text": "help", "user": email},
                    "status": "pending",
                    "attempts": 0,
                    "last_error": "",
                    "received_at": now,
                }
                for n in range(events)
            ],
        )
    claim = select(inbox.c.id, inbox.c.payload).where(inbox.c.status == "pending").order_by(inbox.c.id).limit(1)
    person = select(people.c.id, people.c.tenant_id).where(func.lower(people.c.email) == email)
    queue = insert(outbox)
    done = update(inbox).where(inbox.c.id == text(":item")).values(status="done", done_at=text(":at"))
    before = statements.count
    started = time.perf_counter()
    handled = 0
    while True:
        with store.engine.begin() as connection:
            found = connection.execute(claim).first()
            if found is None:
                break
            who = connection.execute(person).one()
            connection.execute(
                queue,
                {
                    "tenant_id": who.tenant_id,
                    "platform": "console",
                    "idempotency_key": f"floor:{found.id}",
                    "payload": {"text": "Here is what you can do ..."},
                    "recipients": [who.id],
                    "pending": [who.id],
                    "status": "pending",
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                    "not_before": now,
                },
            )
            connection.execute(done, {"item": found.id, "at": now})
        handled += 1
    return line(label, "Core floor ('help')", handled, time.perf_counter() - started, statements.count - before)


def on_postgresql(url: str, run: Callable[[SqlStore], Any]) -> Any:
    """``run`` on a store in a private schema of ``url`` (dropped afterwards); what it returned."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        store = SqlStore.open(url, schema=schema)
        found = run(store)
        store.close()
        return found
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000, help="help DMs (and Core-floor events)")
    parser.add_argument("--people", type=int, default=300, help="people invited (consent, then intake answers)")
    parser.add_argument("--quick", action="store_true", help="a few events of each kind")
    args = parser.parse_args()
    events, people = (30, 10) if args.quick else (args.events, args.people)
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{folder}/bench.db")
        measure("sqlite", store, events, people)
        store.close()
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("postgresql: skipped (TEST_DATABASE_URL is not set)")
        return
    on_postgresql(url, lambda store: measure("postgresql", store, events, people))


if __name__ == "__main__":
    main()

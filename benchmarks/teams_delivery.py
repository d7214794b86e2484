"""Teams: activities accepted per second over HTTP, and outbox fan-out to many chats through the connector.

Run: .venv/bin/python benchmarks/teams_delivery.py [--activities N] [--chats N]
With TEST_DATABASE_URL set, PostgreSQL is measured too (in a private schema, dropped afterwards).
The connector is the test suite's fake (tests/fake_teams.py) on loopback, so the figures are the bot's
own cost (translation, the durable inbox, rendering, the send journal, pacing), not Microsoft's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, text  # noqa: E402

from adapters.teams.connector import Connector  # noqa: E402
from adapters.teams.delivery import TeamsDeliverer  # noqa: E402
from adapters.teams.pacing import Pacer  # noqa: E402
from bot.domain import NewPerson  # noqa: E402
from bot.model import Address, OutgoingMessage  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from fake_teams import FakeTeams  # noqa: E402
from storage import teams_references as refs  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from test_teams_harness import COORDINATOR, TENANT, TeamsBot  # noqa: E402


async def inbound(store: SqlStore, fake: FakeTeams, count: int) -> tuple[float, float, float]:
    """(activities/s, median ms, 95th percentile ms) of personal messages posted one after another."""
    async with TeamsBot(store, fake) as bot:
        await bot.post(bot.personal(COORDINATOR, "help"))
        latencies = []
        started = time.perf_counter()
        for _ in range(count):
            body = bot.personal(COORDINATOR, "help")
            sent = time.perf_counter()
            status, _ = await bot.post(body)
            latencies.append((time.perf_counter() - sent) * 1000)
            assert status == 200
        elapsed = time.perf_counter() - started
    latencies.sort()
    return count / elapsed, statistics.median(latencies), latencies[int(len(latencies) * 0.95)]


def fan_out(store: SqlStore, fake: FakeTeams, chats: int, budget: float) -> tuple[float, int]:
    """(messages/s, violations) of one message to each of ``chats`` people with stored references."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        people = []
        for number in range(chats):
            person = uow.people.add(
                NewPerson(tenant_id=tenant.id, name=f"P{number}", email=f"p{number}.{budget}@x.com")
            )
            uow.people.link_identity(person, "teams", f"aad-{budget}-{number}")
            people.append(person.id)
        for number, person_id in enumerate(people):
            uow.outbox.add(
                OutgoingMessage(
                    tenant_id=tenant.id,
                    to=Address.person(person_id),
                    idempotency_key=f"bench:{budget}:{number}",
                    text=f"**Benchmark** message {number}",
                ),
                platform="teams",
            )
    for number in range(chats):
        refs.remember_conversation(
            store.engine,
            {
                "tenant_key": TENANT,
                "conversation_id": f"a:bench-{budget}-{number}",
                "conversation_type": "personal",
                "user_id": f"aad-{budget}-{number}",
                "service_url": fake.service_url,
                "bot_id": "28:bench",
            },
        )
    deliverer = TeamsDeliverer(store, Connector(), pacer=Pacer(budget))
    runtime = Runtime(store)
    before = len(fake.activities())
    started = time.perf_counter()
    while len(fake.activities()) - before < chats:
        runtime.send_pending(deliverer)
    return chats / (time.perf_counter() - started), fake.violations


def measure(label: str, store: SqlStore, activities: int, chats: int) -> None:
    from test_teams_harness import seed

    seed(store)
    with FakeTeams() as fake:
        rate, median, p95 = asyncio.run(inbound(store, fake, activities))
        print(
            f"{label:<11} POST /api/messages → 200    {rate:8.0f} activities/s   (median {median:.1f} ms, p95 {p95:.1f} ms)"
        )
        for budget in (30.0, 1000.0):
            sent, violations = fan_out(store, fake, chats, budget)
            print(
                f"{label:<11} fan-out, budget {budget:>6.0f}/s  {sent:8.1f} messages/s   "
                f"({chats} chats, {violations} limit violations)"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=500)
    parser.add_argument("--chats", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{folder}/bench.db")
        measure("sqlite", store, args.activities, args.chats)
        store.close()
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            store = SqlStore.open(url, schema=schema)
            measure("postgresql", store, args.activities, args.chats)
            store.close()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()

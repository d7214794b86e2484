"""Time a directory sync from Microsoft Entra ID against the local fake of Microsoft Graph (tests/fake_entra.py).

Run: ``.venv/bin/python benchmarks/directory_sync.py [--people 10000] [--changes 200]``. Measures, on a fresh
SQLite file: the first sync (a full listing of 999-user pages with managers, mailbox settings through ``$batch``,
validation, the import and the kept rows), then a delta sync after ``--changes`` title changes and as many
leavers, then a delta sync with nothing changed. Prints each time and the Graph requests it made; exits
non-zero when the first sync takes 30 s or more (the issue's goal).
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from adapters.directory_sync import microsoft  # noqa: E402
from adapters.directory_sync.run import SyncOutcome, sync_directory  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from adapters.teams.tokens import ClientCredentials  # noqa: E402
from bot.seniority import seniority_map  # noqa: E402
from fake_entra import FakeEntra, user  # noqa: E402
from fake_teams import LOGIN_URL  # noqa: E402
from storage.store import SqlStore  # noqa: E402

GOAL_SECONDS = 30.0
TITLES = ["Chief Officer", "Director", "Senior Manager", "Manager", "Senior Engineer", "Engineer", "Analyst"]
MAPPING = seniority_map(
    {
        "titles": [
            {"pattern": "chief", "level": 7},
            {"pattern": "director", "level": 6},
            {"pattern": "senior manager", "level": 5},
            {"pattern": "manager", "level": 4},
            {"pattern": "senior", "level": 3},
        ],
        "default": 2,
    }
)


def organisation(people: int, seed: int = 7) -> list[dict[str, Any]]:
    """A tree of fan-out 6 under one CEO, with titles by depth and offices on three continents."""
    rng = random.Random(seed)
    users = []
    for number in range(1, people + 1):
        manager = None if number == 1 else (number - 2) // 6 + 1
        depth, walk = 0, number
        while walk > 1:
            walk, depth = (walk - 2) // 6 + 1, depth + 1
        users.append(
            user(
                number,
                manager=manager,
                title=TITLES[min(depth, len(TITLES) - 1)],
                department=rng.choice(["Engineering", "Sales", "People", "Finance"]),
                usageLocation=rng.choice(["GB", "IN", "US"]),
            )
        )
    return users


def run(store: SqlStore, settings: Settings) -> tuple[float, SyncOutcome]:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
    started = time.perf_counter()
    outcome = sync_directory(store, tenant, microsoft.microsoft_source(settings), store.now(), mapping=MAPPING)
    took = time.perf_counter() - started
    if not outcome.ok:
        raise SystemExit(f"sync failed: {outcome.failure or outcome.errors[:3]}")
    return took, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeEntra(users=organisation(args.people), page_size=999) as fake:
        # MSAL reaches the fake's Entra ID token endpoint, as the tests arrange it
        microsoft.__dict__["ClientCredentials"] = functools.partial(ClientCredentials, http_client=fake.login_client())
        settings = Settings(
            database_url=f"sqlite:///{folder}/bench.db",
            rmbot_graph_tenant_id="contoso",
            rmbot_graph_client_id="bench",
            rmbot_graph_client_secret="bench-secret",
            rmbot_graph_url=fake.url,
            rmbot_graph_login_url=LOGIN_URL,
        )
        store = SqlStore.open(settings.database_url)
        try:
            first, outcome = run(store, settings)
            first_requests = len(fake.requests)
            assert outcome.summary is not None
            print(
                f"first sync, {args.people:,} people: {first:.2f} s "
                f"({outcome.summary.created:,} added; {first_requests} Graph requests: "
                f"{len(fake.statuses('/v1.0/users?'))} pages, {len(fake.statuses('/v1.0/$batch'))} mailbox batches)"
            )
            rng = random.Random(11)
            chosen = rng.sample(range(2, args.people + 1), 2 * args.changes)
            leaves = [n for n in chosen[args.changes :] if n > args.people // 2]  # leaves of the tree only
            for number in chosen[: args.changes]:
                fake.change(f"00000000-0000-0000-0000-{number:012d}", jobTitle="Senior Engineer")
            for number in leaves:
                if not any(u.get("manager_id") == f"00000000-0000-0000-0000-{number:012d}" for u in fake.users):
                    fake.remove(f"00000000-0000-0000-0000-{number:012d}")
            delta, outcome = run(store, settings)
            assert outcome.summary is not None
            print(
                f"delta sync, {args.changes} changed and {outcome.summary.left} left: {delta:.2f} s "
                f"({len(fake.requests) - first_requests} Graph requests)"
            )
            quiet, _ = run(store, settings)
            print(f"delta sync, nothing changed: {quiet:.2f} s")
        finally:
            store.close()
    print(
        f"goal: first sync of 10,000 people under {GOAL_SECONDS:.0f} s: {'met' if first < GOAL_SECONDS else 'NOT met'}"
    )
    return 0 if first < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fan-out through Slack's limits: 20,000 agenda DMs, the sender SIGKILLed half-way and restarted.

    .venv/bin/python benchmarks/slack_fanout.py [--messages 20000] [--budget 100] [--slack-limit 120]
                                                [--database-url postgresql://postgres@127.0.0.1:5432/test]

What it does: starts the fake Slack Web API (``tests/fake_slack.py``) in its own process, enforcing a
request limit per workspace (``--slack-limit`` per second, answered with 429 and ``Retry-After``) and
about one message a second per channel; fills a store with a workspace of N people and N agenda-like
messages queued in the outbox; runs a sending process (the runtime's send path with the Slack
deliverer, ``SLACK_WORKSPACE_BUDGET=--budget``), kills it with SIGKILL once half the messages are
posted (in the middle of a leased batch), starts a new one, and waits until the outbox is empty. It prints: posts and duplicates
(exactly once), 429s received and requests made while a Retry-After was still running (unhandled),
and how much of the budget was used while sending.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_processes import free_port  # noqa: E402
from bot.domain import NewPerson  # noqa: E402
from bot.model import Address, Choice, OutgoingMessage, Section  # noqa: E402
from storage.store import SqlStore  # noqa: E402

TEAM = "T111"


def agenda(tenant_id: int, person_id: int, n: int) -> OutgoingMessage:
    """A message shaped like the agenda a mentor gets before a session."""
    return OutgoingMessage(
        tenant_id=tenant_id,
        to=Address.person(person_id),
        idempotency_key=f"agenda:{n}",
        text=f"**Your session with Partner {n} is on Thursday at 14:00** (45 minutes).\n\nHere is a plan:",
        sections=[
            Section(
                text="**Pair goals**\n• Use AI assistants with confidence\n• Share dashboards weekly",
                fields=[
                    ("Topic", "Generative AI: uses and limits"),
                    ("Framework", "GROW"),
                    ("Last actions", "Try one prompt a day; bring two examples"),
                    ("Time plan", "10' check-in · 25' topic · 10' actions"),
                ],
            )
        ],
        choices=[
            Choice(label="Confirm", action="session.confirm", value=f"{n}:yes", style="primary"),
            Choice(label="Reschedule", action="session.reschedule", value=f"{n}"),
        ],
        context=["Questions to ask: What would good look like? What have you tried?"],
    )


def prepare(url: str, schema: str | None, messages: int) -> None:
    store = SqlStore.open(url, schema=schema)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        people = []
        for n in range(1, messages + 1):
            person = uow.people.add(NewPerson(tenant_id=tenant.id, name=f"Person {n}", email=f"p{n}@example.com"))
            uow.people.link_identity(person, "slack", f"U{n:05d}")
            people.append(person.id)
    for start in range(0, messages, 2000):
        with store.unit_of_work() as uow:
            for n in range(start, min(start + 2000, messages)):
                uow.outbox.add(agenda(tenant.id, people[n], n), platform="slack")
    store.close()


def send(url: str, schema: str | None, api_url: str, budget: float) -> None:
    """The sending process: the runtime's send path with the Slack deliverer, until the outbox is empty."""
    from adapters.slack.delivery import SlackDeliverer
    from bot.runtime import Runtime

    store = SqlStore.open(url, schema=schema, migrate=False)
    runtime = Runtime(store)
    deliverer = SlackDeliverer(store, lambda team: "xoxb-test", api_url, budget)
    while store.outbox.pending_count("slack"):
        if not runtime.send_pending(deliverer):
            time.sleep(0.2)  # what is left is leased by the killed process, or waiting for a Retry-After


def stats(base: str, times: bool = False) -> dict:
    with urllib.request.urlopen(f"{base}/_stats{'?times=1' if times else ''}", timeout=30) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "send"])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--budget", type=float, default=100.0, help="SLACK_WORKSPACE_BUDGET (requests/second)")
    parser.add_argument("--slack-limit", type=float, default=120.0, help="the fake's limit (requests/second)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--schema", default=None)
    parser.add_argument("--api-url", default="")
    args = parser.parse_args()
    if args.mode == "send":
        send(args.database_url, args.schema, args.api_url, args.budget)
        return

    workdir = Path(tempfile.mkdtemp(prefix="rmbot-fanout-"))
    url, schema = args.database_url or f"sqlite:///{workdir / 'fanout.db'}", None
    if args.database_url.startswith("postgres"):
        from sqlalchemy import create_engine, text

        from storage.db import normalise_url

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with create_engine(normalise_url(url), isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    port = free_port()
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_slack.py"), str(port), str(args.slack_limit)],
        stdout=subprocess.PIPE,
        text=True,
    )
    api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
    base = api_url.removesuffix("/api/")
    try:
        started = time.monotonic()
        prepare(url, schema, args.messages)
        print(
            f"prepared {args.messages} people and queued messages in {time.monotonic() - started:.1f} s "
            f"({'PostgreSQL' if schema else 'SQLite'})",
            flush=True,
        )
        command = [
            sys.executable,
            __file__,
            "send",
            "--database-url",
            url,
            "--api-url",
            api_url,
            "--budget",
            str(args.budget),
        ] + (["--schema", schema] if schema else [])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        first = subprocess.Popen(command, env=env)
        t_start = time.monotonic()
        kill_at = args.messages // 2 + 37  # mid-way through a leased batch of 100
        while stats(base)["posts"] < kill_at:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        t_kill = time.monotonic()
        at_kill = stats(base)
        print(f"SIGKILL after {at_kill['posts']} posts ({t_kill - t_start:.1f} s); restarting", flush=True)
        second = subprocess.Popen(command, env=env)
        second.wait()
        t_end = time.monotonic()
        final = stats(base, times=True)
    finally:
        fake.terminate()
        fake.wait()
    report(args, final, at_kill, t_start, t_kill, t_end)


def report(args: argparse.Namespace, final: dict, at_kill: dict, t_start: float, t_kill: float, t_end: float) -> None:
    times = sorted(final["times"])
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Nothing to send: the killed process's batch waiting for its 2-minute lease (gaps over 5 s). Pauses
    # for Retry-After and the restart itself count as sending time.
    idle = sum(g for g in gaps if g > 5.0)
    busy = (times[-1] - times[0]) - idle
    per_second = [n for n in final["per_second"].values() if n]
    print(json.dumps({"methods": final["methods"], "calls": final["calls"]}))
    print(f"messages queued:                 {args.messages}")
    print(
        f"posted (unique / total):         {final['unique_posts']} / {final['posts']}  duplicates: {final['duplicates']}"
    )
    print(f"429s received (all honoured):    {final['rate_limited']}")
    print(f"requests during a Retry-After:   {final['violations']}  (unhandled 429s)")
    print(
        f"budget:                          {args.budget:.0f} requests/s (the fake's limit: {args.slack_limit:.0f}/s, "
        f"1 message/s per channel)"
    )
    print(
        f"requests while sending:          {final['calls']} in {busy:.1f} s = {final['calls'] / busy:.1f} requests/s "
        f"= {final['calls'] / busy / args.budget:.1%} of the budget"
    )
    print(f"left out (gaps over 5 s):        {idle:.1f} s (the killed batch waiting for its 2-minute lease)")
    print(f"busiest seconds:                 median {statistics.median(per_second):.0f} requests/s")
    print(f"wall clock from first send to empty outbox, kill and restart included: {t_end - t_start:.1f} s")


if __name__ == "__main__":
    main()

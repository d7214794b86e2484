"""The fault harness at full size: exactly once under retries, crashes and scheduler downtime.

    .venv/bin/python benchmarks/fault_harness.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--events 2000] [--kills 3] [--checkins 1000] [--seed 1] [--rate 40] [--lease SECONDS]
        [--only four,storm,catchup]

(a) four: every inbound event type (Slack, Teams, scheduled work) delivered four times, against a fresh
    store that got it once: the same state and the same messages after every step.
(b) storm: ``rmbot serve`` (its own process, Slack configured, the fake Slack in another process) gets
    ``--events`` signed DMs from half as many people at ``--rate`` a second, from a client that retries
    every delivery not acknowledged with a 2xx, as Slack does; it is SIGKILLed ``--kills`` times at
    random moments and restarted at once. Every event must be handled once and answered once.
(c) catchup: ``--checkins`` check-ins fall due over two hours while no server runs; ``rmbot serve``
    starts, is SIGKILLed half-way through sending them and restarted, and once more after: each
    check-in must be sent exactly once.

The same code runs in the test suite at a smaller size (tests/test_faults.py); it lives in
the tests/fault_*.py modules.
Each run gets a fresh database: a SQLite file in a temporary directory, or a private schema of
``--database-url`` (dropped afterwards). ``--lease`` sets RMBOT_SEND_LEASE_SECONDS (the product's
default, two minutes, unless given): how long a message leased by a killed process waits before it
is offered again.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fault_runs import catch_up, storm  # noqa: E402
from fault_scenarios import four_times  # noqa: E402
from fault_support import private_database  # noqa: E402
from storage.store import SqlStore  # noqa: E402


def run_four(url: str, workdir: Path) -> bool:
    ok = True
    for platform in ("slack", "teams", "due"):
        with (
            private_database(url, workdir, f"once_{platform}") as once_url,
            private_database(url, workdir, f"four_{platform}") as four_url,
        ):
            once, four = SqlStore.open(once_url), SqlStore.open(four_url)
            try:
                started = time.monotonic()
                results = asyncio.run(four_times(platform, once, four))
            finally:
                once.close()
                four.close()
        print(f"  {platform} ({time.monotonic() - started:.1f} s)")
        for result in results:
            verdict = "same state, same messages" if not result.problems else "DIFFERENT"
            print(f"    {result.name:<62} {result.messages:>2} message(s)  {verdict}")
            for problem in result.problems:
                print("      " + problem.replace("\n", "\n      "))
            ok = ok and not result.problems
    return ok


def run_storm(url: str, workdir: Path, args: argparse.Namespace) -> bool:
    with private_database(url, workdir, "storm") as database:
        r = storm(
            database, workdir, events=args.events, kills=args.kills, seed=args.seed, rate=args.rate, lease=args.lease
        )
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(r["retry_reasons"].items())) or "none"
    print(f"  events sent:          {r['events']} DMs from {r['users']} people, {r['rate']:g} a second")
    print(f"  deliveries made:      {r['attempts']} (retries: {r['retries']}: {reasons})")
    print(
        f"  SIGKILLs:             {r['kills']}"
        + (f", at {', '.join(f'{k} s' for k in r['killed_at'])} (restarted at once)" if r["kills"] else "")
    )
    ack = r["ack_seconds"]
    print(
        f"  acknowledgement:      median {ack['median']} s, 95% within {ack['p95']} s, slowest {ack['max']} s "
        f"(of deliveries answered 2xx)"
    )
    if r["timeouts_sent_at"]:
        late = collections.Counter(int(t // 5) * 5 for t in r["timeouts_sent_at"])
        print("  no answer in 3 s:     " + ", ".join(f"{n} sent at {s}-{s + 5} s" for s, n in sorted(late.items())))
    print(f"  acknowledged:         {r['acknowledged']} of {r['events']}")
    print(
        f"  processed:            {r['processed']} of {r['events']} (inbox: {r['inbox_rows']} events, "
        f"{r['inbox_repeats']} stored twice)"
    )
    print(f"  lost:                 {r['lost']}")
    print(
        f"  replies at Slack:     {r['replies']} (duplicates: {r['duplicates']}, missing: {r['missing_replies']}, "
        f"wrong text: {r['wrong_text']}, to strangers: {len(r['strangers'])})"
    )
    print(
        f"  offered again:        {r['offered_again']} messages whose send a kill interrupted (checked against "
        f"the conversation before posting)"
    )
    print(
        f"  time:                 all acknowledged after {r['seconds_to_acknowledge']} s, "
        f"everything handled and sent after {r['seconds']} s"
    )
    return (
        r["processed"] == r["acknowledged"] == r["inbox_rows"] == r["events"]
        and not r["lost"]
        and not r["inbox_repeats"]
        and r["replies"] == r["events"]
        and not r["duplicates"]
        and not r["missing_replies"]
        and not r["wrong_text"]
        and not r["strangers"]
    )


def run_catch_up(url: str, workdir: Path, args: argparse.Namespace) -> bool:
    with private_database(url, workdir, "catchup") as database:
        r = catch_up(database, workdir, checkins=args.checkins, seed=args.seed, lease=args.lease)
    print(
        f"  check-ins due:        {r['checkins']} ({r['programmes']} programmes of five pairs), due "
        f"{r['due_window']} while no server ran"
    )
    print(
        f"  time zone:            {r['time_zone']} (a weekday there now; working hours 00:00-23:59)"
        + (f", clock shifted {r['clock_shift_days']} day(s) ahead" if r["clock_shift_days"] else "")
    )
    print(f"  SIGKILL:              after {r['killed_after_posts']} check-ins were posted; restarted")
    print(f"  due events handled:   {json.dumps(r['due_events'])}")
    print(
        f"  sent:                 {r['sent']} to {r['people_reached']} people (duplicates: {r['duplicates']}, "
        f"missing: {r['missing']}, wrong text: {r['wrong_text']})"
    )
    print(f"  offered again:        {r['offered_again']} messages whose send the kill interrupted")
    print(
        f"  after one more start: {r['sent_after_restart']} sent, {r['inbox_events_after_restart']} new events; "
        f"next check-ins scheduled: {r['next_checkins_scheduled']}"
    )
    print(f"  time:                 {r['seconds_to_catch_up']} s from the first start to the last check-in sent")
    return (
        r["sent"] == r["people_reached"] == r["checkins"]
        and not r["duplicates"]
        and not r["missing"]
        and not r["wrong_text"]
        and not r["sent_after_restart"]
        and not r["inbox_events_after_restart"]
        and r["due_events"] == {"done": r["programmes"]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL to run on (default: SQLite files)")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=40.0, help="new events per second in (b)")
    parser.add_argument("--lease", type=float, default=None, help="RMBOT_SEND_LEASE_SECONDS (default: the product's)")
    parser.add_argument("--only", default="four,storm,catchup")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the in-process bots of (a) warn about their test settings
    parts = set(args.only.split(","))
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    workdir = Path(tempfile.mkdtemp(prefix="rmbot-faults-"))
    print(
        f"fault harness on {database}, seed {args.seed}, send lease "
        f"{f'{args.lease:g} s' if args.lease else 'the default (120 s)'}; logs in {workdir}",
        flush=True,
    )
    ok, started = True, time.monotonic()
    if "four" in parts:
        print("(a) every inbound event type delivered four times, against once", flush=True)
        ok = run_four(args.database_url, workdir) and ok
    if "storm" in parts:
        print(
            f"(b) {args.events} events, {args.kills} SIGKILLs of rmbot serve, a client retrying like Slack", flush=True
        )
        ok = run_storm(args.database_url, workdir, args) and ok
    if "catchup" in parts:
        print(f"(c) the scheduler down across {args.checkins} due check-ins, then started", flush=True)
        ok = run_catch_up(args.database_url, workdir, args) and ok
    print(f"{'PASSED' if ok else 'FAILED'}: exactly once ({time.monotonic() - started:.0f} s in all)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""The two process scenarios of the fault harness, at any size (the test suite's, or the script's).

``storm``: a real ``rmbot serve`` gets N signed DMs (``help``: one reply each) from N/2 people at a steady
rate from a client that retries like Slack, while the server is SIGKILLed and restarted at random
moments. ``catch_up``: check-ins fall due while no server runs; ``rmbot serve`` starts after the window
(and is SIGKILLed once while it catches up), then is restarted once more. Both return what they
measured; the callers assert on it (tests) or print it (the script). ``offered_again`` counts the
messages whose send a kill interrupted: their lease ran out and the next process checked the
conversation for them before posting.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.commands.programmes import new_programme
from bot.domain import NewMatchPair, NewParticipant, NewPerson, ParticipantStatus, Role
from bot.feedback import CHECKIN_JOB
from fault_support import (
    HOURS,
    TEAM,
    Delivery,
    FakeSlackProcess,
    Probe,
    RetryingSlack,
    Server,
    dm_delivery,
    kill_at,
    user_id,
    wait_until,
)
from storage.store import SqlStore

HELP_REPLY = "What you can ask me"
CHECKIN_TEXT = "A short check-in from your coordinator"
PER_PROGRAMME = 10
"""Participants per programme in ``catch_up`` (five pairs): 1,000 check-ins are 100 programmes' check-ins."""


def storm(
    database_url: str, workdir: Path, *, events: int, kills: int, seed: int, rate: float, lease: float | None = None
) -> dict[str, Any]:
    """Scenario (b); see the module docstring. ``rate``: new events per second."""
    rng = random.Random(seed)
    users = max(1, (events + 1) // 2)
    deliveries = [Delivery(f"EvF{seed}x{n:06d}", user_id(n % users + 1), "") for n in range(events)]
    for delivery in deliveries:
        delivery.body = dm_delivery(delivery.event_id, delivery.user, "help")
    SqlStore.open(database_url).close()  # migrated before the first kill can land
    probe = Probe(database_url)
    with FakeSlackProcess(users) as fake:
        server = Server(database_url, fake.api_url, workdir, lease=lease)
        client = RetryingSlack(server.url)
        moments = sorted(rng.uniform(0.1, 0.9) * events / rate for _ in range(kills))
        killed: list[float] = []

        async def run(started: float) -> None:
            await asyncio.gather(client.deliver_all(deliveries, rate), kill_at(server, moments, started, killed))

        try:
            server.start()
            server.ready()
            started = time.monotonic()
            asyncio.run(run(started))
            acknowledged = time.monotonic() - started
            wait_until(
                lambda: not any(probe.backlog().values()) and fake.posts() >= events,
                timeout=(lease or 120) + 180,
                what="the inbox and outbox to drain",
            )
        finally:
            server.stop()
        finished = time.monotonic() - started
        replies = fake.by_user()
    statuses = dict(probe.rows("SELECT event_id, status FROM inbox_event WHERE platform = 'slack'"))
    resent = probe.scalar("SELECT count(*) FROM outbox_message WHERE attempts > 1")
    repeated = probe.scalar(
        "SELECT count(*) FROM (SELECT event_id FROM inbox_event GROUP BY platform, tenant_key, "
        "event_id HAVING count(*) > 1) AS repeated"
    )
    probe.close()
    expected = collections.Counter(d.user for d in deliveries)
    got = {user: len(replies.get(user, {}).get("keys", [])) for user in expected}
    keys = [key for c in replies.values() for key in c["keys"]]
    attempts = sum(d.attempts for d in deliveries)
    latencies = sorted(client.latencies)
    return {
        "events": events,
        "users": users,
        "rate": rate,
        "kills": len(killed),
        "killed_at": [round(k, 1) for k in killed],
        "attempts": attempts,
        "retries": attempts - events,
        "retry_reasons": dict(client.reasons),
        "ack_seconds": {
            "median": round(latencies[len(latencies) // 2], 3),
            "p95": round(latencies[int(len(latencies) * 0.95)], 3),
            "max": round(latencies[-1], 3),
        },
        "timeouts_sent_at": [round(t - started, 1) for t in sorted(client.timeouts)],
        "acknowledged": sum(d.acknowledged is not None for d in deliveries),
        "processed": sum(statuses.get(d.event_id) == "done" for d in deliveries),
        "lost": sum(statuses.get(d.event_id) != "done" for d in deliveries),
        "inbox_rows": len(statuses),
        "inbox_repeats": repeated,
        "offered_again": resent,
        "replies": sum(got.values()),
        "duplicates": sum(max(0, got[u] - n) for u, n in expected.items()) + len(keys) - len(set(keys)),
        "missing_replies": sum(max(0, n - got[u]) for u, n in expected.items()),
        "strangers": sorted(set(replies) - set(expected)),
        "wrong_text": sum(not t.startswith(HELP_REPLY) for c in replies.values() for t in c["texts"]),
        "seconds_to_acknowledge": round(acknowledged, 1),
        "seconds": round(finished, 1),
    }


def working_moment(now: datetime) -> tuple[timedelta, str]:
    """A clock shift (whole days, usually none) and a time zone in which ``now + shift`` is mid-day on a
    weekday, so that nudges (held outside working hours and at weekends) can be delivered at once."""
    for days in range(4):
        moment = now + timedelta(days=days)
        fits = [
            (abs(local.hour - 12), hours)
            for hours in range(-12, 15)
            if (local := moment + timedelta(hours=hours)).weekday() < 5 and 3 <= local.hour <= 20
        ]
        if fits:
            hours = min(fits)[1]
            return timedelta(days=days), "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"
    raise AssertionError("no weekday anywhere within four days")


def prepare_checkins(
    database_url: str, checkins: int, zone: str, rng: random.Random, now: datetime, window: timedelta
) -> dict[str, Any]:
    """A workspace where ``checkins`` participants (programmes of ten, in five live pairs) each have a
    check-in due at a random moment of the ``window`` before ``now``. Everyone's time zone is ``zone``
    and their working hours span the day, so every check-in can be delivered as soon as it is sent;
    each person gets one nudge, under the default daily cap of three."""
    assert checkins % 2 == 0, "check-ins go to pairs: an even number"
    store = SqlStore.open(database_url)
    today = now.date()
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", TEAM)
        coordinator = uow.people.add(
            NewPerson(
                tenant_id=tenant.id,
                name="Coordinator",
                email="coordinator@example.com",
                seniority=9,
                time_zone=zone,
                working_hours=HOURS,
            )
        )
        uow.people.link_identity(coordinator, "slack", "UCOORD")
        uow.coordinators.add_tenant_coordinator(tenant.id, coordinator.id)
    participants: dict[str, int] = {}
    due: list[datetime] = []
    for first in range(0, checkins, PER_PROGRAMME):
        with store.unit_of_work() as uow:
            name = f"Cohort {first // PER_PROGRAMME + 1:04d}"
            programme = new_programme(
                uow,
                tenant.id,
                name,
                coordinator_id=coordinator.id,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=150),
            )
            ids = []
            for n in range(first + 1, min(first + PER_PROGRAMME, checkins) + 1):
                mentor = n % 2 == 1
                person = uow.people.add(
                    NewPerson(
                        tenant_id=tenant.id,
                        name=f"Person {n}",
                        email=f"p{n}@example.com",
                        seniority=2 if mentor else 7,
                        time_zone=zone,
                        working_hours=HOURS,
                    )
                )
                uow.people.link_identity(person, "slack", user_id(n))
                participants[user_id(n)] = person.id
                role = Role.MENTOR if mentor else Role.MENTEE
                ids.append(
                    uow.participants.add(
                        NewParticipant(
                            programme_id=programme.id,
                            person_id=person.id,
                            role=role,
                            status=ParticipantStatus.ACTIVE,
                            joined_at=now - timedelta(days=30),
                        )
                    ).id
                )
            for mentor_id, mentee_id in zip(ids[0::2], ids[1::2], strict=False):
                uow.matching.add_pair(NewMatchPair(programme_id=programme.id, mentor_id=mentor_id, mentee_id=mentee_id))
            when = now - window + rng.random() * (window - timedelta(minutes=1))
            uow.schedule.add(
                tenant.id,
                CHECKIN_JOB,
                when,
                {"programme_id": programme.id, "number": 1},
                key=f"checkin:{programme.id}:1",
            )
            due.append(when)
    store.close()
    return {"participants": participants, "programmes": len(due), "first_due": min(due), "last_due": max(due)}


def catch_up(
    database_url: str,
    workdir: Path,
    *,
    checkins: int,
    seed: int,
    lease: float | None = None,
    kill: bool = True,
    window: timedelta = timedelta(hours=2),
) -> dict[str, Any]:
    """Scenario (c); see the module docstring."""
    now = datetime.now(UTC)
    shift, zone = working_moment(now)
    prepared = prepare_checkins(database_url, checkins, zone, random.Random(seed), now, window)
    probe = Probe(database_url)

    def drained() -> bool:
        return not any(probe.backlog(datetime.now(UTC) + shift).values())

    with FakeSlackProcess(0) as fake:
        server = Server(database_url, fake.api_url, workdir, lease=lease, clock_shift=shift.total_seconds())
        started = time.monotonic()
        server.start()
        try:
            server.ready()
            killed_after = None
            if kill:
                wait_until(lambda: fake.posts() >= checkins // 2, timeout=300, what="half of the check-ins", poll=0.05)
                server.kill()
                killed_after = fake.posts()
                server.start()
                server.ready()
            wait_until(
                lambda: drained() and fake.posts() >= checkins,
                timeout=(lease or 120) + 300,
                what="every check-in to be sent",
            )
        finally:
            server.stop()
        caught_up = time.monotonic() - started
        sent = fake.stats()
        inbox_before = probe.scalar("SELECT count(*) FROM inbox_event")
        server.start()  # once more: nothing is due any more, nothing may be sent again
        try:
            server.ready()
            time.sleep(3.0)  # the scheduler runs what is due as it starts, then at each due time
            wait_until(drained, timeout=60, what="the restarted server to settle")
        finally:
            server.stop()
        replies = fake.by_user()
        after = fake.stats()
    checkin_events = probe.rows("SELECT status, count(*) FROM inbox_event WHERE event_id LIKE 'due:%' GROUP BY status")
    next_checkins = probe.scalar(
        "SELECT count(*) FROM scheduled_job WHERE kind = :kind AND status = 'scheduled'", kind=CHECKIN_JOB
    )
    inbox_after = probe.scalar("SELECT count(*) FROM inbox_event")
    resent = probe.scalar("SELECT count(*) FROM outbox_message WHERE attempts > 1")
    probe.close()
    got = {user: replies.get(user, {"texts": []})["texts"] for user in prepared["participants"]}
    return {
        "checkins": checkins,
        "programmes": prepared["programmes"],
        "time_zone": zone,
        "clock_shift_days": shift.days,
        "due_window": f"{prepared['first_due']:%H:%M}-{prepared['last_due']:%H:%M} UTC",
        "killed_after_posts": killed_after,
        "offered_again": resent,
        "due_events": dict(checkin_events),
        "sent": sum(len(t) for t in got.values()),
        "people_reached": sum(bool(t) for t in got.values()),
        "duplicates": sum(max(0, len(t) - 1) for t in got.values()) + sent["duplicates"],
        "missing": sum(not t for t in got.values()),
        "wrong_text": sum(not any(CHECKIN_TEXT in line for line in t) for t in got.values() if t),
        "sent_after_restart": after["posts"] - sent["posts"],
        "inbox_events_after_restart": inbox_after - inbox_before,
        "next_checkins_scheduled": next_checkins,
        "seconds_to_catch_up": round(caught_up, 1),
    }

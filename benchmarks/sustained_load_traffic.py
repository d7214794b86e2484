"""The signed Slack requests of the sustained-load benchmark: the mix, the schedule and the open-loop driver.

The mix, drawn from one seed: half ``message.im`` DMs, 30% ``/mentoring`` slash commands, 20% ``block_actions``
button presses, built from the conformance kit's payloads (``tests/fake_slack.py``) and signed at the moment
each is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from fake_slack import interactive_body, payload, signed_headers  # noqa: E402

SECRET = "benchmark-signing-secret"
TEAM = "T111"
DM_TEXTS = ["help", "help", "support", "next", "goals", "resources", "agenda", "hello"]
COMMAND_TEXTS = ["help", "support", "next", "pause", "status"]
BUTTONS = [("support.pick|1", "change"), ("support.pick|2", "wellbeing")]


class Requests:
    """Builds the n-th request of the mix, signed at the moment it is sent; remembers its event id."""

    def __init__(self, users: int, seed_value: int) -> None:
        self.users = [f"U{n:05d}" for n in range(1, users + 1)]
        self.rng = random.Random(seed_value)
        self.dm = payload("event_callback_message_im__top_level_dm.json")
        self.form = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
        self.action = payload("block_actions.json")

    def build(self, n: int) -> tuple[bytes, dict[str, str], str, str]:
        """(body, headers, inbox event id, kind) of request ``n``."""
        user, roll, run = self.rng.choice(self.users), self.rng.random(), uuid.uuid4().hex
        channel = f"D{user[1:]}"
        if roll < 0.5:
            event = json.loads(json.dumps(self.dm))
            event.update(team_id=TEAM, event_id=f"Ev{run}", event_time=int(time.time()))
            event["authorizations"][0]["team_id"] = TEAM
            event["event"].update(user=user, text=self.rng.choice(DM_TEXTS), channel=channel, ts=f"{time.time():.6f}")
            body, kind, event_id, what = json.dumps(event), "application/json", f"Ev{run}", "dm"
        elif roll < 0.8:
            fields = dict(
                self.form,
                command="/mentoring",
                text=self.rng.choice(COMMAND_TEXTS),
                user_id=user,
                user_name=user.lower(),
                team_id=TEAM,
                channel_id=channel,
                channel_name="directmessage",
                trigger_id=f"{n}.{run}",
            )
            body, kind, event_id, what = (
                urllib.parse.urlencode(fields),
                "application/x-www-form-urlencoded",
                f"cmd:{n}.{run}",
                "command",
            )
        else:
            action_id, value = self.rng.choice(BUTTONS)
            data = json.loads(json.dumps(self.action))
            data["user"].update(id=user, username=user.lower(), name=user.lower(), team_id=TEAM)
            data["team"]["id"] = TEAM
            data["container"].update(channel_id=channel, message_ts=f"{time.time() - 60:.6f}", is_ephemeral=False)
            data["channel"] = {"id": channel, "name": "directmessage"}
            data.update(trigger_id=f"{n}.{run}")
            data["actions"][0].update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
            body, kind, event_id, what = (
                interactive_body(data),
                "application/x-www-form-urlencoded",
                f"act:{n}.{run}",
                "button",
            )
        return body.encode(), signed_headers(SECRET, body, kind), event_id, what


def plan(args: argparse.Namespace) -> list[tuple[float, bool]]:
    """(scheduled offset in seconds, in a burst) for every request of the run."""
    schedule, at = [], 0.0
    while at < args.duration:
        burst = (
            args.burst_every > 0
            and args.burst_seconds > 0
            and at % args.burst_every >= args.burst_every - args.burst_seconds
        )
        schedule.append((at, burst))
        at += 1.0 / (args.burst_rate if burst else args.rate)
    return schedule


async def drive(url: str, schedule: list[tuple[float, bool]], requests: Requests) -> list[tuple]:
    """Open-loop: request i leaves at start + offset_i. Returns (offset, burst, lag, latency, status, id, kind)."""
    import aiohttp

    records: list[tuple] = []
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        start = time.perf_counter() + 0.5

        async def one(n: int, offset: float, burst: bool) -> None:
            due = start + offset
            lag = time.perf_counter() - due
            body, headers, event_id, kind = requests.build(n)
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = 0
            records.append((offset, burst, lag, time.perf_counter() - due, status, event_id, kind))

        for n, (offset, burst) in enumerate(schedule):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n, offset, burst))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    return records

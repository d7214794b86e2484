"""Slack's side of the fault harness: signed Events API deliveries retried until acknowledged, SIGKILLs of
the server at chosen moments, and waiting for a condition."""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from fake_slack import payload, signed_headers
from fault_server import SECRET, Server

TEAM = "T111"


def dm_delivery(event_id: str, user: str, text: str) -> str:
    """The Events API body of a DM to the bot (the conformance kit's capture, re-addressed)."""
    body = copy.deepcopy(payload("event_callback_message_im__top_level_dm.json"))
    body.update(team_id=TEAM, event_id=event_id, event_time=int(time.time()))
    body["authorizations"][0]["team_id"] = TEAM
    body["event"].update(user=user, text=text, channel=f"D{user}", ts=f"{time.time():.6f}")
    return json.dumps(body)


@dataclass
class Delivery:
    """One event as Slack keeps it until the bot acknowledges it."""

    event_id: str
    user: str
    body: str
    attempts: int = 0
    acknowledged: float | None = None


class RetryingSlack:
    """Delivers events like Slack: signed, 3-second timeout, retried until acknowledged with a 2xx.

    Slack gives up after three retries; this client keeps going (the retry number keeps counting), so
    an event is only ever missing because the bot lost it."""

    def __init__(self, url: str, timeout: float = 3.0, backoff: float = 0.25) -> None:
        self.url, self.timeout, self.backoff = url + "/slack/events", timeout, backoff
        self.reasons: collections.Counter[str] = collections.Counter()
        self.latencies: list[float] = []
        """Seconds from sending to the 2xx, for every acknowledged delivery."""
        self.timeouts: list[float] = []
        """When (monotonic) each delivery that got no answer in time had been sent."""

    async def deliver(self, session: aiohttp.ClientSession, delivery: Delivery) -> None:
        """Post ``delivery`` until it is acknowledged with a 2xx, retrying as Slack does."""
        reason = ""
        while True:
            headers = signed_headers(SECRET, delivery.body, "application/json", retry=delivery.attempts or None)
            if delivery.attempts:
                headers["X-Slack-Retry-Reason"] = reason
            delivery.attempts += 1
            sent = time.monotonic()
            try:
                async with session.post(
                    self.url,
                    data=delivery.body.encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        delivery.acknowledged = time.monotonic()
                        self.latencies.append(delivery.acknowledged - sent)
                        return
                    reason = "http_error"
            except TimeoutError:
                reason = "http_timeout"
                self.timeouts.append(sent)
            except (aiohttp.ClientError, OSError):
                reason = "connection_failed"  # refused while the server is down, or reset when it died
            self.reasons[reason] += 1
            await asyncio.sleep(min(2.0, self.backoff * delivery.attempts))

    async def deliver_all(self, deliveries: list[Delivery], rate: float) -> None:
        """Start one delivery every 1/``rate`` seconds; return when every one was acknowledged."""
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def one(n: int, delivery: Delivery) -> None:
            await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
            await self.deliver(session, delivery)

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            await asyncio.gather(*(one(n, d) for n, d in enumerate(deliveries)))


async def kill_at(server: Server, moments: list[float], started: float, kills: list[float]) -> None:
    """SIGKILL the server at each moment (seconds after ``started``, monotonic) and restart it at once;
    a moment that comes while the server is still starting waits until it serves."""
    for moment in moments:
        await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
        await asyncio.to_thread(server.ready)
        server.kill()
        kills.append(time.monotonic() - started)
        server.start()
    await asyncio.to_thread(server.ready)


def wait_until(condition: Any, timeout: float, what: str, poll: float = 0.25) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)

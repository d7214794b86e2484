"""The fault harness's fake Slack: ``CountingSlack``, which also reports per conversation who is in it and
what was posted there, and ``FakeSlackProcess``, which runs it in its own process
(``python tests/fault_support.py fake-slack PORT USERS``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from typing import Any

from fake_slack import FakeSlack, slack_user
from fault_server import ROOT, SCRIPT, free_port


def user_id(n: int) -> str:
    """The Slack user id of person ``n`` (U00001…)."""
    return f"U{n:05d}"


class CountingSlack(FakeSlack):
    """The fake Slack, reporting per conversation its members, post keys and the start of each post's text."""

    def stats(self) -> dict[str, Any]:
        """The fake's own statistics, with ``conversations``: per channel its users, post keys and texts."""
        found = super().stats()
        with self._lock:
            members = {channel: sorted(users) for users, channel in self._channels.items()}
            found["conversations"] = {
                channel: {
                    "users": members.get(channel, []),
                    "keys": [
                        str(((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")) for m in posted
                    ],
                    "texts": [(m.get("text") or "")[:300] for m in posted],
                }
                for channel, posted in self.messages.items()
            }
        return found


def run_fake_slack(port: int, users: int) -> None:
    """The ``fake-slack`` role: ``CountingSlack`` on ``port``, knowing ``users`` people, until interrupted."""
    import logging

    # A server SIGKILLed in the middle of a call to the fake is the point of the exercise, not an error.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    people = {user_id(n): slack_user(user_id(n), f"Person {n}", f"person{n}@example.com") for n in range(1, users + 1)}
    fake = CountingSlack(users=people)
    fake.port_wanted = port  # type: ignore[attr-defined]
    with fake:
        print(fake.api_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


class FakeSlackProcess:
    """``CountingSlack`` in its own process, knowing ``users`` people (U00001…) for ``users.info``."""

    def __init__(self, users: int) -> None:
        self.users = users

    def __enter__(self) -> FakeSlackProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "fake-slack", str(free_port()), str(self.users)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.api_url = self.process.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.api_url:
            raise RuntimeError("the fake Slack did not start")
        self.base = self.api_url.removesuffix("/api/")
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()  # type: ignore[union-attr]

    def stats(self) -> dict[str, Any]:
        """What the fake reports at ``/_stats``."""
        with urllib.request.urlopen(f"{self.base}/_stats", timeout=60) as response:
            return json.loads(response.read())

    def posts(self) -> int:
        """Messages posted so far."""
        return int(self.stats()["posts"])

    def by_user(self) -> dict[str, dict[str, list[str]]]:
        """Every DM conversation's posts (keys and texts), by the one user in it."""
        return {c["users"][0]: c for c in self.stats()["conversations"].values() if len(c["users"]) == 1}

"""Socket Mode: with SLACK_APP_TOKEN the app connects out to Slack and acknowledges over the WebSocket,
after the same commit to the inbox."""

from __future__ import annotations

import asyncio
import copy
import time
import urllib.parse
from typing import Any

from fake_slack import FakeSlack, payload
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, TEAM, SlackBot, fake_users, seed


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_socket_mode_acknowledges_after_the_inbox_commit(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake, slack_app_token="xapp-1-test", slack_signing_secret="") as bot:
            await wait_for(lambda: fake.socket_connected)
            assert fake.calls[0].method == "apps.connections.open" and fake.calls[0].token == "xapp-1-test"
            command = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
            command.update(command="/mentoring", text="help", user_id=COORDINATOR, team_id=TEAM, trigger_id="sock.1")
            fake.socket_send(
                {"envelope_id": "env-1", "type": "slash_commands", "payload": command, "accepts_response_payload": True}
            )
            dm = bot.dm_body("status", COORDINATOR, event_id="EvSOCKET")
            fake.socket_send(
                {
                    "envelope_id": "env-2",
                    "type": "events_api",
                    "payload": dm,
                    "retry_attempt": 0,
                    "retry_reason": "",
                    "accepts_response_payload": False,
                }
            )
            retried = copy.deepcopy(dm)
            fake.socket_send(
                {
                    "envelope_id": "env-3",
                    "type": "events_api",
                    "payload": retried,
                    "retry_attempt": 1,
                    "retry_reason": "timeout",
                    "accepts_response_payload": False,
                }
            )
            await wait_for(lambda: {a.get("envelope_id") for a in fake.socket_acks} >= {"env-1", "env-2", "env-3"})
            assert bot.inbox_status("cmd:sock.1") == "pending" and bot.inbox_status("EvSOCKET") == "pending"
            await bot.work()
            assert len(fake.posts()) == 2  # help and status, the retried event once
            async with bot.client.post("/slack/events", data=b"{}") as response:
                assert response.status == 404  # no signing secret: no HTTP endpoint to forge requests to

"""``rmbot serve --role web`` and ``--role worker``: the service split across processes on one database.

Real processes: a web process acknowledges signed Slack events once they are in the inbox; a worker
process (its own port, health checks only) handles them and sends the replies to the fake Slack."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fault_runs import HELP_REPLY
from fault_support import (
    Delivery,
    FakeSlackProcess,
    Probe,
    RetryingSlack,
    Server,
    dm_delivery,
    user_id,
    wait_until,
)
from storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent


def role_server(url: str, api_url: str, workdir: Path, role: str) -> Server:
    server = Server(url, api_url, workdir)
    server.env["RMBOT_ROLE"] = role
    server.log = workdir / f"{role}.log"
    return server


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_web_process_accepts_and_a_worker_process_answers_each_event_once(database_url: str, tmp_path: Path) -> None:
    deliveries = [Delivery(f"EvRole{n:03d}", user_id(n % 10 + 1), "") for n in range(40)]
    for delivery in deliveries:
        delivery.body = dm_delivery(delivery.event_id, delivery.user, "help")
    url = database_url
    with FakeSlackProcess(10) as fake:
        SqlStore.open(url).close()
        probe = Probe(url)
        web, worker = (
            role_server(url, fake.api_url, tmp_path, "web"),
            role_server(url, fake.api_url, tmp_path, "worker"),
        )
        try:
            web.start()
            web.ready()
            # Only the web process runs: everything is acknowledged and kept, nothing is answered yet.
            asyncio.run(RetryingSlack(web.url).deliver_all(deliveries[:20], rate=40))
            assert all(d.acknowledged and d.attempts == 1 for d in deliveries[:20])
            assert probe.backlog()["inbox"] == 20 and fake.posts() == 0
            worker.start()
            worker.ready()
            assert status_of(f"{worker.url}/readyz") == 200
            assert status_of(f"{worker.url}/slack/events") in (404, 405)  # platforms are served by web only
            asyncio.run(RetryingSlack(web.url).deliver_all(deliveries[20:], rate=40))
            wait_until(lambda: fake.posts() >= 40 and not any(probe.backlog().values()), 60, "the worker to answer")
        finally:
            web.stop()
            worker.stop()
        replies = fake.by_user()
        keys = [key for conversation in replies.values() for key in conversation["keys"]]
        assert len(keys) == len(set(keys)) == 40
        assert all(text.startswith(HELP_REPLY) for c in replies.values() for text in c["texts"])
        assert probe.scalar("SELECT count(*) FROM inbox_event WHERE status = 'done'") == 40
        probe.close()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--role", "web"], "RMBOT_ROLE=web needs Slack or Teams credentials"),
        (["--role", "boss"], "'boss' is not a role; use all (the whole service), web or worker."),
    ],
)
def test_a_role_that_cannot_work_is_refused_in_one_line(tmp_path: Path, arguments: list[str], expected: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "serve", *arguments],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1

"""``RMBOT_METRICS_PORT``: ``/metrics`` on a listener of its own, never on the public one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.server import build_app, serve
from adapters.settings import ConfigurationError, load_settings
from conftest import ROOT
from storage.store import SqlStore

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


async def get(session: aiohttp.ClientSession, port: int, path: str) -> tuple[int, str, str]:
    """A real HTTP request to 127.0.0.1: status, Content-Type and body."""
    async with session.get(f"http://{LOCALHOST}:{port}{path}") as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_with_a_metrics_port_metrics_are_served_there_and_not_on_the_public_port(sqlite_store: SqlStore) -> None:
    public, private = free_port(), free_port()
    app = build_app(sqlite_store, metrics_address=(LOCALHOST, private))
    async with TestServer(app, host=LOCALHOST, port=public), aiohttp.ClientSession() as session:
        status, content_type, body = await get(session, private, "/metrics")
        assert status == 200
        assert content_type.startswith("text/plain; version=0.0.4")
        assert "rmbot_store_up 1.0" in body and "rmbot_events_received_total" in body

        assert (await get(session, public, "/metrics"))[0] == 404
        assert (await get(session, public, "/healthz"))[0] == 200
        assert (await get(session, public, "/readyz"))[0] == 200
        assert (await get(session, private, "/healthz"))[0] == 404  # the metrics listener serves /metrics only
        assert (await get(session, private, "/readyz"))[0] == 404

    with pytest.raises(aiohttp.ClientConnectionError):  # the metrics listener stops with the server
        async with aiohttp.ClientSession() as session:
            await get(session, private, "/metrics")


async def test_without_a_metrics_port_metrics_stay_on_the_public_port(sqlite_store: SqlStore) -> None:
    public = free_port()
    async with TestServer(build_app(sqlite_store), host=LOCALHOST, port=public), aiohttp.ClientSession() as session:
        status, content_type, body = await get(session, public, "/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        assert "rmbot_store_up 1.0" in body
        assert (await get(session, public, "/healthz"))[0] == 200


async def test_a_metrics_port_already_taken_stops_start_up(sqlite_store: SqlStore) -> None:
    with socket.socket() as taken:
        taken.bind((LOCALHOST, 0))
        taken.listen()
        server = TestServer(
            build_app(sqlite_store, metrics_address=(LOCALHOST, taken.getsockname()[1])),
            host=LOCALHOST,
            port=free_port(),
        )
        with pytest.raises(OSError):
            await server.start_server()
        await server.close()


def test_the_metrics_port_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RMBOT_METRICS_PORT", raising=False)
    monkeypatch.delenv("RMBOT_METRICS_HOST", raising=False)
    assert load_settings().rmbot_metrics_port is None
    assert load_settings().rmbot_metrics_host == ""
    monkeypatch.setenv("RMBOT_METRICS_PORT", "9100")
    monkeypatch.setenv("RMBOT_METRICS_HOST", "10.0.0.5")
    assert load_settings().rmbot_metrics_port == 9100
    assert load_settings().rmbot_metrics_host == "10.0.0.5"
    monkeypatch.setenv("RMBOT_METRICS_PORT", "")  # set but empty, as a compose file or template may leave it
    assert load_settings().rmbot_metrics_port is None
    for wrong in ("0", "70000", "metrics"):
        monkeypatch.setenv("RMBOT_METRICS_PORT", wrong)
        with pytest.raises(ConfigurationError) as refused:
            load_settings()
        assert str(refused.value).startswith("Configuration error: RMBOT_METRICS_PORT")


def test_serve_refuses_a_metrics_port_equal_to_the_public_port() -> None:
    settings = load_settings(rmbot_metrics_port=3005, database_url="sqlite:///never-opened.db")
    with pytest.raises(ConfigurationError) as refused:
        serve(settings, port=3005)  # refused before anything is opened or bound
    assert "RMBOT_METRICS_PORT is 3005" in str(refused.value)
    assert not (ROOT / "never-opened.db").exists()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_rmbot_serve_reads_the_metrics_port_from_the_environment(tmp_path: Path) -> None:
    """The real process: ``RMBOT_METRICS_PORT`` moves ``/metrics`` off the public listener."""
    public, private = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "RMBOT_", "DATABASE_URL"))
    }
    # Made-up Slack settings make it serve HTTP (not the console); its Web API is a closed local port.
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{tmp_path / 'rmbot.db'}",
        SLACK_BOT_TOKEN="xoxb-placeholder",
        SLACK_SIGNING_SECRET="placeholder",
        SLACK_API_URL=f"http://{LOCALHOST}:9/api/",
        RMBOT_HOST=LOCALHOST,
        RMBOT_PORT=str(public),
        RMBOT_METRICS_PORT=str(private),
        RMBOT_LOG_LEVEL="WARNING",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if status_of(f"http://{LOCALHOST}:{public}/healthz") == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        assert status_of(f"http://{LOCALHOST}:{private}/metrics") == 200
        assert status_of(f"http://{LOCALHOST}:{public}/metrics") == 404
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    said = log.read_text(errors="replace")
    assert f"Metrics on http://{LOCALHOST}:{private}/metrics only." in said
    assert "(GET /healthz, /readyz)." in said

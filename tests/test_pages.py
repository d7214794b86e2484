"""The website, privacy and terms pages the Teams app package points at, served by ``rmbot serve`` from
templates in ``prompts/pages/`` (or the operator's own, in RMBOT_PAGES_DIR). Real HTTP requests."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.pages import PAGES, mount_pages
from adapters.server import build_app
from adapters.settings import ConfigurationError, load_settings
from adapters.teams.package import manifest
from cli_runner import serving
from storage.store import SqlStore

BOT_ID = "5353a86e-52fb-4979-8a69-c7efcd1b0bd3"


async def fetch(store: SqlStore, path: str, **settings: str) -> tuple[int, str, dict[str, str]]:
    app = build_app(store)
    mount_pages(app, load_settings(**settings))
    async with TestClient(TestServer(app)) as client:
        async with client.get(path) as response:
            return response.status, await response.text(), dict(response.headers)


async def test_the_package_points_at_pages_the_server_serves(sqlite_store: SqlStore) -> None:
    document = manifest(BOT_ID, "https://mentoring.example.com")
    developer = document["developer"]
    for url in (developer["websiteUrl"], developer["privacyUrl"], developer["termsOfUseUrl"]):
        path = url.removeprefix("https://mentoring.example.com") or "/"
        assert path in PAGES
        status, body, headers = await fetch(sqlite_store, path, rmbot_public_url="https://mentoring.example.com")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert body.lstrip().lower().startswith("<!doctype html>") and "</html>" in body
        assert "Content-Security-Policy" in headers


async def test_the_privacy_page_says_what_is_stored_and_how_to_see_and_delete_it(sqlite_store: SqlStore) -> None:
    status, body, _ = await fetch(sqlite_store, "/privacy")
    assert status == 200
    for fact in (
        "name",
        "email",
        "manager",
        "time zone",
        "working hours",
        "intake",
        "diversity",
        "optional",
        "pulse",
        "at least 5",
        "my-data",
        "forget-me",
        "session notes",
        "pair goals",
        "coordinator",
        "365 days",
        "backups",
        "Slack",
        "Microsoft Teams",
        "files",
        "7 days",
    ):
        assert fact.lower() in body.lower(), fact


async def test_the_operator_can_replace_a_page_and_the_others_stay(sqlite_store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "privacy.html.j2").write_text(
        "{% extends 'base.html.j2' %}{% block main %}<p>Contoso HR, privacy@contoso.example</p>{% endblock %}",
        encoding="utf-8",
    )
    status, body, _ = await fetch(sqlite_store, "/privacy", rmbot_pages_dir=str(tmp_path))
    assert status == 200 and "privacy@contoso.example" in body and "<html" in body
    status, body, _ = await fetch(sqlite_store, "/terms", rmbot_pages_dir=str(tmp_path))
    assert status == 200 and "privacy@contoso.example" not in body


async def test_values_in_pages_are_escaped(sqlite_store: SqlStore) -> None:
    status, body, _ = await fetch(sqlite_store, "/", rmbot_public_url='https://x.example/"><script>alert(1)</script>')
    assert status == 200 and "<script>alert(1)" not in body


@pytest.mark.parametrize(
    "write, problem",
    [
        (None, "is not a directory"),
        ("{% block main %}{{ unclosed }", "terms.html.j2"),
    ],
)
def test_a_bad_pages_directory_stops_start_up_with_one_line(
    sqlite_store: SqlStore, tmp_path: Path, write: str | None, problem: str
) -> None:
    folder = tmp_path / "pages"
    if write is not None:
        folder.mkdir()
        (folder / "terms.html.j2").write_text(write, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        mount_pages(build_app(sqlite_store), load_settings(rmbot_pages_dir=str(folder)))
    assert "RMBOT_PAGES_DIR" in str(raised.value) and problem in str(raised.value) and "\n" not in str(raised.value)


def test_rmbot_serve_serves_the_pages(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
    }
    with serving(env, tmp_path) as base, urllib.request.urlopen(f"{base}/privacy", timeout=2) as response:
        assert response.status == 200 and b"forget-me" in response.read()

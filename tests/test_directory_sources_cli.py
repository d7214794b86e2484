"""`rmbot directory sync google|slack` end to end: the command line, a source over HTTP against its fake, the
CSV import's validation with the seniority mapping, and what lands in the store (people, managers, chat
identities, leavers). A source that cannot complete its listing changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.wiring import ensure_tenant
from cli_runner import run_cli
from fake_google_directory import FakeGoogleDirectory, backend_error, google_user
from fake_scim import FakeScim, scim_user
from fake_slack import FakeSlack, slack_user
from storage.store import SqlStore
from storage.tables import PersonIdentityRow, PersonRow

ADMIN = "it-admin@example.com"
SENIORITY = """\
titles:
  - {pattern: "chief|^ceo", level: 6}
  - {pattern: "cto|director", level: 5}
default: 2
"""
CLEARED = (
    "SLACK_BOT_TOKEN",
    "SLACK_SCIM_TOKEN",
    "SLACK_API_URL",
    "RMBOT_SLACK_MANAGERS_CSV",
    "RMBOT_GOOGLE_TOKEN_URL",
    "RMBOT_DIRECTORY_SYNC_TENANT",
)


def environment(tmp_path: Path, **values: str) -> dict[str, str | None]:
    mapping = tmp_path / "seniority.yml"
    mapping.write_text(SENIORITY, encoding="utf-8")
    base: dict[str, str | None] = dict.fromkeys(CLEARED)
    return {
        **base,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}",
        "RMBOT_SENIORITY_MAP": str(mapping),
        **values,
    }


def directory(tmp_path: Path, tenant_key: str) -> dict[str, dict[str, Any]]:
    """Everyone in the tenant's directory: their fields, manager's email, chat identities and whether they left."""
    store = SqlStore.open(f"sqlite:///{tmp_path / 'rmbot.db'}")
    try:
        tenant = ensure_tenant(store, tenant_key)
        with store.unit_of_work() as uow:
            session = uow.session
            rows: list[PersonRow] = list(session.exec(select(PersonRow).where(col(PersonRow.tenant_id) == tenant.id)))
            emails = {row.id: row.email for row in rows}
            linked: list[PersonIdentityRow] = list(
                session.exec(select(PersonIdentityRow).where(col(PersonIdentityRow.tenant_id) == tenant.id))
            )
            ids = {identity.person_id: identity.external_id for identity in linked}
            return {
                str(row.email): {
                    "name": row.name,
                    "title": row.title,
                    "seniority": row.seniority,
                    "department": row.department,
                    "time_zone": row.time_zone,
                    "manager": emails.get(row.manager_id) if row.manager_id else None,
                    "chat_id": ids.get(row.id or 0),
                    "left": row.left_at is not None,
                }
                for row in rows
            }
    finally:
        store.close()


# -- Google Workspace -------------------------------------------------------------------------------------


@pytest.fixture
def google() -> Iterator[FakeGoogleDirectory]:
    users = [
        google_user("ceo@example.com", "Grace Hopper", title="Chief Executive", department="Board"),
        google_user("cto@example.com", "Alan Turing", title="CTO", department="Engineering", manager="ceo@example.com"),
        google_user("dev@example.com", "Ada Lovelace", title="Engineer", manager="cto@example.com"),
        google_user("gone@example.com", "Old Hand", title="Engineer", manager="cto@example.com", suspended=True),
    ]
    with FakeGoogleDirectory(users, admins={ADMIN}, page_size=2) as fake:
        yield fake


def google_env(fake: FakeGoogleDirectory, tmp_path: Path) -> dict[str, str | None]:
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(fake.service_account()), encoding="utf-8")
    return environment(
        tmp_path,
        RMBOT_GOOGLE_SERVICE_ACCOUNT_FILE=str(key),
        RMBOT_GOOGLE_ADMIN_EMAIL=ADMIN,
        RMBOT_GOOGLE_API_URL=fake.base,
    )


def test_rmbot_directory_sync_google(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    env = google_env(google, tmp_path)

    first = run_cli("directory", "sync", "google", "--tenant", "console", env=env)
    assert first.returncode == 0, first.stderr
    assert "3 added" in first.stdout and "0 left" in first.stdout
    people = directory(tmp_path, "console")
    assert sorted(people) == ["ceo@example.com", "cto@example.com", "dev@example.com"]
    assert people["dev@example.com"] | {"chat_id": None} == {
        "name": "Ada Lovelace",
        "title": "Engineer",
        "seniority": 2,
        "department": "",
        "time_zone": "UTC",
        "manager": "cto@example.com",
        "chat_id": None,
        "left": False,
    }
    assert (people["ceo@example.com"]["seniority"], people["cto@example.com"]["manager"]) == (6, "ceo@example.com")

    google.users[2]["suspended"] = True  # Ada is suspended: she left
    google.users[1]["organizations"][0]["title"] = "Director of Engineering"
    second = run_cli("directory", "sync", "google", "--tenant", "console", env=env)
    assert second.returncode == 0, second.stderr
    assert "left: dev@example.com" in second.stdout and "changed: cto@example.com" in second.stdout
    people = directory(tmp_path, "console")
    assert people["dev@example.com"]["left"] and people["cto@example.com"]["title"] == "Director of Engineering"

    google.users[0]["name"]["fullName"] = "Rear Admiral Grace Hopper"
    google.script(503, backend_error(), after=1, times=10, retry_after=0)
    failed = run_cli("directory", "sync", "google", "--tenant", "console", env=env)
    assert failed.returncode == 1
    assert "nothing was changed" in failed.stderr and "503" in failed.stderr
    assert directory(tmp_path, "console")["ceo@example.com"]["name"] == "Grace Hopper", "nothing was applied"


def test_rmbot_directory_sync_google_without_settings_names_them(tmp_path: Path) -> None:
    env = environment(tmp_path, RMBOT_GOOGLE_SERVICE_ACCOUNT_FILE="", RMBOT_GOOGLE_ADMIN_EMAIL="")
    ran = run_cli("directory", "sync", "google", env=env)
    assert ran.returncode == 1 and "RMBOT_GOOGLE_SERVICE_ACCOUNT_FILE is not set" in ran.stderr
    assert ran.stderr.strip().count("\n") == 0, "one line"


# -- Slack ------------------------------------------------------------------------------------------------


def test_rmbot_directory_sync_slack_users_list_with_managers_csv(tmp_path: Path) -> None:
    managers = tmp_path / "managers.csv"
    managers.write_text("email,manager_email\ncto@example.com,ceo@example.com\ndev@example.com,cto@example.com\n")
    members = {
        "U0CEO": slack_user("U0CEO", "Grace Hopper", "ceo@example.com", "Chief Executive", "Europe/London"),
        "U0CTO": slack_user("U0CTO", "Alan Turing", "cto@example.com", "CTO", "Europe/Paris"),
        "U0BOT": slack_user("U0BOT", "Deploy Bot", is_bot=True),
        "U0DEV": slack_user("U0DEV", "Ada Lovelace", "dev@example.com", "Engineer", "America/New_York"),
    }
    with FakeSlack(users=members) as fake:
        env = environment(
            tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.api_url, RMBOT_SLACK_MANAGERS_CSV=str(managers)
        )
        ran = run_cli("directory", "sync", "slack", "--tenant", "slack:T111", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "3 added" in ran.stdout
    people = directory(tmp_path, "slack:T111")
    assert people["dev@example.com"] == {
        "name": "Ada Lovelace",
        "title": "Engineer",
        "seniority": 2,
        "department": "",
        "time_zone": "America/New_York",
        "manager": "cto@example.com",
        "chat_id": "U0DEV",
        "left": False,
    }
    assert people["cto@example.com"]["manager"] == "ceo@example.com"


def test_rmbot_directory_sync_slack_scim(tmp_path: Path) -> None:
    users = [
        scim_user("W0CEO", "ceo@example.com", "Grace Hopper", title="Chief Executive", timezone="Europe/London"),
        scim_user("W0DEV", "dev@example.com", "Ada Lovelace", title="Engineer", manager_id="W0CTO"),
        scim_user("W0CTO", "cto@example.com", "Alan Turing", title="CTO", department="Engineering", manager_id="W0CEO"),
        scim_user("W0GONE", "gone@example.com", "Old Hand", manager_id="W0CTO", active=False),
    ]
    with FakeScim(users, tokens={"xoxp-admin": True}, page_size=3) as fake:
        env = environment(tmp_path, SLACK_SCIM_TOKEN="xoxp-admin", SLACK_SCIM_URL=fake.url)
        ran = run_cli("directory", "sync", "slack", "--tenant", "slack:E111", env=env)
        assert len(fake.listed("/scim/v2/Users")) == 2
    assert ran.returncode == 0, ran.stderr
    people = directory(tmp_path, "slack:E111")
    assert sorted(people) == ["ceo@example.com", "cto@example.com", "dev@example.com"]
    assert people["dev@example.com"]["manager"] == "cto@example.com" and people["dev@example.com"]["chat_id"] == "W0DEV"
    assert people["cto@example.com"] | {"chat_id": ""} == {
        "name": "Alan Turing",
        "title": "CTO",
        "seniority": 5,
        "department": "Engineering",
        "time_zone": "UTC",
        "manager": "ceo@example.com",
        "chat_id": "",
        "left": False,
    }
    assert people["ceo@example.com"]["time_zone"] == "Europe/London"

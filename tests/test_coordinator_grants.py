"""Coordinators named before they exist: ``rmbot coordinators add EMAIL`` on a fresh database, the pending
grant, and the moment it is claimed (directory import, first contact in the console), ``my-data`` and
``forget-me``. Slack and Teams first contact are in ``test_slack_install_offer.py`` and ``test_teams_admins.py``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from adapters.settings import ConfigurationError, load_settings
from adapters.wiring import open_store
from bot.domain import NewPerson
from bot.grants import ANY_TENANT
from chat import Chat
from storage.store import SqlStore

AMARA = "amara@example.com"
DIRECTORY = "email,name,seniority\namara@example.com,Amara Okafor,8\narjun@example.com,Arjun Mehta,2\n"


def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def coordinator(store: SqlStore, platform: str, external: str, email: str) -> bool:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find(platform, external)
        person = uow.people.by_email(tenant.id, email) if tenant else None
        return person is not None and uow.coordinators.is_tenant_coordinator(tenant.id, person.id)  # type: ignore[union-attr]


def grants(store: SqlStore) -> list[tuple[str, str | None]]:
    with store.unit_of_work() as uow:
        return sorted(
            (g.tenant_key, g.email) for g in uow.grants.from_source("cli") + uow.grants.from_source("settings")
        )


def test_coordinators_add_on_a_fresh_database_waits_for_the_person_and_the_import_makes_them_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = cli(database_url, monkeypatch, "coordinators", "add", AMARA)
    assert code == 0, output
    assert "import them first" not in output
    assert AMARA in output and "first appear" in output
    code, again = cli(database_url, monkeypatch, "coordinators", "add", AMARA.upper())
    assert code == 0 and "already" in again  # idempotent, and emails are matched without case
    store = open_store(load_settings(database_url=database_url))
    assert grants(store) == [(ANY_TENANT, AMARA)]

    people = tmp_path / "people.csv"
    people.write_text(DIRECTORY, encoding="utf-8")
    code, output = cli(database_url, monkeypatch, "directory", "import", str(people), "--tenant", "slack:T42")
    assert code == 0, output
    assert coordinator(store, "slack", "T42", AMARA)
    assert not coordinator(store, "slack", "T42", "arjun@example.com")
    assert grants(store) == [(ANY_TENANT, AMARA)]  # without --tenant the grant stands for every tenant
    store.close()


def test_a_grant_for_one_tenant_is_used_there_only_and_then_removed(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = cli(database_url, monkeypatch, "coordinators", "add", AMARA, "--tenant", "slack:T1")
    assert code == 0 and "slack:T1" in output, output
    people = tmp_path / "people.csv"
    people.write_text(DIRECTORY, encoding="utf-8")
    assert cli(database_url, monkeypatch, "directory", "import", str(people), "--tenant", "slack:T2")[0] == 0
    store = open_store(load_settings(database_url=database_url))
    assert not coordinator(store, "slack", "T2", AMARA)
    assert grants(store) == [("slack:T1", AMARA)]
    assert cli(database_url, monkeypatch, "directory", "import", str(people), "--tenant", "slack:T1")[0] == 0
    assert coordinator(store, "slack", "T1", AMARA)
    assert grants(store) == []  # claimed: nothing is kept about her beyond the coordinator role
    code, output = cli(database_url, monkeypatch, "coordinators", "add", AMARA, "--tenant", "slack:T1")
    assert code == 0 and "already a coordinator" in output
    store.close()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["coordinators", "add", "not-an-email"], "'not-an-email' is not an email address"),
        (["coordinators", "add", AMARA, "--tenant", "irc:x"], "is not a tenant"),
    ],
)
def test_coordinators_add_refuses_bad_input_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    code, output = cli(database_url, monkeypatch, *args)
    assert code != 0 and expected in output and len(output.strip().splitlines()) == 1, output


def test_first_contact_in_the_console_claims_the_grant(store: SqlStore) -> None:
    from bot import grants as granting

    chat = Chat(store)
    with store.unit_of_work() as uow:
        outcome = granting.grant(uow, "Grace@Example.com", "console", source="cli")
    assert outcome.pending == "new"
    chat.add_person("grace@example.com", "Grace Mensah")  # added without an import: nothing claimed yet
    assert not coordinator(store, "console", "console", "grace@example.com")
    said = "\n".join(chat.send("grace@example.com", "help"))
    assert "For coordinators" in said
    assert coordinator(store, "console", "console", "grace@example.com")
    assert grants(store) == []


def test_my_data_shows_the_grant_and_forget_me_erases_it(store: SqlStore) -> None:
    from bot import grants as granting

    chat = Chat(store)
    chat.add_person("zoe@example.com", "Zoe Adams")
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("slack", "T9")
        uow.people.add(NewPerson(tenant_id=tenant.id, name="Zoe elsewhere", email="zoe@example.com"))
        granting.grant(uow, "zoe@example.com", ANY_TENANT, source="cli")
        granting.grant(uow, "zoe@example.com", "teams:0000aaaa-0000-4000-8000-000000000000", source="cli")
    chat.send("zoe@example.com", "my-data")
    [message] = [m for m in chat.last["zoe@example.com"] if m.attachments]
    record = json.loads(base64.b64decode(message.attachments[0].content_b64))
    assert record["tenant_coordinator"] is True
    assert [(g["tenant"], g["email"]) for g in record["coordinator_grants"]] == [("any", "zoe@example.com")]
    assert "teams:" not in json.dumps(record)  # another tenant's grant is not this tenant's data
    assert "coordinator" in message.text.lower()

    chat.send("zoe@example.com", "forget-me")
    chat.press("zoe@example.com", "Yes, delete my data")
    assert grants(store) == [("teams:0000aaaa-0000-4000-8000-000000000000", "zoe@example.com")]


# --- RMBOT_ADMIN_EMAILS ------------------------------------------------------------------------------


def test_admin_emails_parse_per_tenant_entries() -> None:
    settings = load_settings(
        rmbot_admin_emails=" Amara@Example.com , 72F988BF-86F1-41AF-91AB-2D7CD011DB47:lee@contoso.com,"
        "slack:T0123:kim@example.com ; console:ops@example.com"
    )
    assert settings.admin_grants == [
        (ANY_TENANT, "amara@example.com"),
        ("teams:72f988bf-86f1-41af-91ab-2d7cd011db47", "lee@contoso.com"),
        ("slack:T0123", "kim@example.com"),
        ("console", "ops@example.com"),
    ]
    assert load_settings(rmbot_admin_emails="").admin_grants == []


@pytest.mark.parametrize(
    "value, problem",
    [
        ("amara", "'amara' is not an email address"),
        ("nowhere:amara@example.com", "'nowhere' is not a tenant"),
        ("irc:x:amara@example.com", "'irc:x' is not a tenant"),
    ],
)
def test_bad_admin_emails_stop_start_up_with_one_line(value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(rmbot_admin_emails=value)
    assert "RMBOT_ADMIN_EMAILS" in str(raised.value) and problem in str(raised.value)
    assert "\n" not in str(raised.value)


def test_admin_emails_are_kept_in_step_with_the_setting_when_the_store_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'admins.db'}"
    store = open_store(load_settings(database_url=url, rmbot_admin_emails="a@example.com,teams:abc:b@example.com"))
    assert grants(store) == [(ANY_TENANT, "a@example.com"), ("teams:abc", "b@example.com")]
    store.close()
    store = open_store(load_settings(database_url=url, rmbot_admin_emails="a@example.com"))
    assert grants(store) == [(ANY_TENANT, "a@example.com")]  # removed from the setting: no longer waiting
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        uow.people.add(NewPerson(tenant_id=tenant.id, name="A", email="a@example.com"))
    store.close()
    store = open_store(load_settings(database_url=url, rmbot_admin_emails="a@example.com"))
    assert coordinator(store, "console", "console", "a@example.com")  # someone already known: at once
    store.close()

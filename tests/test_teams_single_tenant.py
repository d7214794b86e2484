"""Single-tenant bots (the default; Azure no longer creates multi-tenant ones): the bot's own token for the
connector comes from ``login.microsoftonline.com/<tenant id>``, not ``/botframework.com``. Tested over HTTP:
the fake plays Microsoft Entra ID's token endpoint and the connector, and checks what the bot sends."""

from __future__ import annotations

import functools

import pytest

from adapters.settings import ConfigurationError, Settings
from adapters.teams import auth
from adapters.teams.auth import check_settings, make_authentication
from adapters.teams.tokens import ClientCredentials, TokenError
from fake_teams import LOGIN_URL, FakeTeams
from storage.store import SqlStore
from test_teams_harness import APP_ID, COORDINATOR, TENANT, TeamsBot, seed


def credentials(fake: FakeTeams, app_type: str) -> dict[str, str | bool]:
    return {
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "not-a-real-secret",
        "microsoft_app_type": app_type,
        "microsoft_app_tenant_id": TENANT if app_type == "SingleTenant" else "",
        "teams_enabled": False,
        "teams_openid_metadata_url": fake.openid_url,
        "teams_login_url": LOGIN_URL,
    }


@pytest.mark.parametrize("app_type, authority", [("SingleTenant", TENANT), ("MultiTenant", "botframework.com")])
async def test_the_bots_token_comes_from_its_own_tenant(
    sqlite_store: SqlStore, app_type: str, authority: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        monkeypatch.setattr(
            auth, "ClientCredentials", functools.partial(ClientCredentials, http_client=fake.login_client())
        )
        async with TeamsBot(sqlite_store, fake, **credentials(fake, app_type)) as bot:
            inbound = fake.token(APP_ID, fake.service_url)  # inbound tokens are the Bot Framework's either way
            status, _ = await bot.post(bot.personal(COORDINATOR, "help"), {"Authorization": f"Bearer {inbound}"})
            assert status == 200
            await bot.work()
            assert await bot.say(COORDINATOR, "help") == 401  # unsigned: refused
            status, _ = await bot.post(bot.personal(COORDINATOR, "status"), {"Authorization": f"Bearer {inbound}"})
            await bot.work()
            attempts = fake.attempts()
            assert len(attempts) == 2
            assert {a.authorization for a in attempts} == {f"Bearer {fake.issued_token(authority)}"}
            [(tenant, form)] = fake.token_requests  # fetched once, then reused until it expires
            assert tenant == authority
            assert form["client_id"] == APP_ID and form["grant_type"] == "client_credentials"
            assert form["scope"] == "https://api.botframework.com/.default"


def test_single_tenant_is_the_default_and_needs_the_tenant_id() -> None:
    settings = Settings(microsoft_app_id=APP_ID, microsoft_app_password="x", microsoft_app_tenant_id="", _env_file=None)
    assert settings.microsoft_app_type == "SingleTenant"
    with pytest.raises(ConfigurationError) as raised:
        check_settings(settings)
    message = str(raised.value)
    assert "MICROSOFT_APP_TENANT_ID" in message and "MICROSOFT_APP_TYPE=MultiTenant" in message and "\n" not in message
    check_settings(
        Settings(microsoft_app_id=APP_ID, microsoft_app_password="x", microsoft_app_tenant_id=TENANT, _env_file=None)
    )
    check_settings(
        Settings(
            microsoft_app_id=APP_ID,
            microsoft_app_type="UserAssignedMSI",  # no secret with an identity
            microsoft_app_tenant_id=TENANT,
            _env_file=None,
        )
    )


def test_local_testing_without_credentials_still_starts_whatever_the_default_app_type() -> None:
    """`TEAMS_ENABLED=true` with no app id (the Bot Framework Emulator) serves unauthenticated, as documented."""
    settings = Settings(teams_enabled=True, microsoft_app_id="")
    check_settings(settings)
    assert make_authentication(settings) is not None


def test_refused_credentials_give_the_error_code_and_never_the_secret() -> None:
    with FakeTeams() as fake:
        fetch = ClientCredentials(LOGIN_URL, TENANT, APP_ID, "", http_client=fake.login_client())
        with pytest.raises(TokenError) as refused:
            fetch()
        assert "invalid_request" in str(refused.value) and TENANT in str(refused.value)
        fetch = ClientCredentials(LOGIN_URL, TENANT, APP_ID, "s3cret-value", http_client=fake.login_client())
        assert fetch() == fake.issued_token(TENANT)


def test_the_sign_in_address_must_be_https() -> None:
    settings = Settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password="x",
        microsoft_app_tenant_id=TENANT,
        teams_login_url="http://login.example.test",
        _env_file=None,
    )
    with pytest.raises(ConfigurationError) as raised:
        check_settings(settings)
    assert "TEAMS_LOGIN_URL" in str(raised.value) and "https://" in str(raised.value)

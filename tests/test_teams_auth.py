"""With credentials set, only requests bearing a valid Bot Framework token get in; everything else gets 401.

The fake publishes an OpenID metadata document and a signing key (endorsed for ``msteams``) and signs
tokens as the Bot Framework channel does; ``TEAMS_OPENID_METADATA_URL`` points the bot at it.
"""

from __future__ import annotations

import socket

import pytest

from adapters.settings import ConfigurationError, Settings
from adapters.teams.auth import check_settings
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import APP_ID, COORDINATOR, TeamsBot


def credentials(fake: FakeTeams) -> dict[str, str]:
    return {
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "not-a-real-password",
        "teams_openid_metadata_url": fake.openid_url,
        "teams_enabled": False,
    }


@pytest.mark.parametrize(
    "case", ["no header", "wrong key", "not for this bot", "expired", "other service url", "other issuer", "not bearer"]
)
async def test_requests_without_a_valid_token_are_refused_with_401(sqlite_store: SqlStore, case: str) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            body = bot.personal(COORDINATOR, "help")
            token = {
                "no header": None,
                "wrong key": fake.token(APP_ID, fake.service_url, signed_with="wrong"),
                "not for this bot": fake.token(
                    APP_ID, fake.service_url, audience="00000000-0000-0000-0000-000000000000"
                ),
                "expired": fake.token(APP_ID, fake.service_url, expires_in=-3600),
                "other service url": fake.token(APP_ID, "https://evil.example.com/"),
                "other issuer": fake.token(APP_ID, fake.service_url, issuer="https://sts.example.com/"),
                "not bearer": "Basic " + fake.token(APP_ID, fake.service_url),
            }[case]
            headers = {} if token is None else {"Authorization": token if case == "not bearer" else f"Bearer {token}"}
            status, _ = await bot.post(body, headers)
            assert status == 401
            assert sqlite_store.inbox.pending_count() == 0


async def test_a_valid_token_is_accepted(sqlite_store: SqlStore) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            body = bot.personal(COORDINATOR, "help")
            status, _ = await bot.post(body, {"Authorization": f"Bearer {fake.token(APP_ID, fake.service_url)}"})
            assert status == 200
            assert bot.inbox_status(body["id"]) == "pending"


async def test_unreachable_signing_keys_are_a_503_so_teams_tries_again(sqlite_store: SqlStore) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    with FakeTeams() as fake:
        settings = {**credentials(fake), "teams_openid_metadata_url": f"http://127.0.0.1:{closed_port}/openid"}
        async with TeamsBot(sqlite_store, fake, **settings) as bot:
            token = fake.token(APP_ID, fake.service_url)
            status, _ = await bot.post(bot.personal(COORDINATOR, "help"), {"Authorization": f"Bearer {token}"})
            assert status == 503
            assert sqlite_store.inbox.pending_count() == 0


@pytest.mark.parametrize(
    "values, problem",
    [
        ({"microsoft_app_id": "not-a-guid", "microsoft_app_password": "x"}, "GUID"),
        ({"microsoft_app_id": APP_ID}, "MICROSOFT_APP_PASSWORD"),
        (
            {"microsoft_app_id": APP_ID, "microsoft_app_password": "x", "microsoft_app_type": "SingleTenant"},
            "MICROSOFT_APP_TENANT_ID",
        ),
        (
            {"microsoft_app_id": APP_ID, "microsoft_app_password": "x", "microsoft_app_type": "Other"},
            "MICROSOFT_APP_TYPE",
        ),
        (
            {"microsoft_app_id": APP_ID, "microsoft_app_password": "x", "rmbot_public_url": "http://plain.example.com"},
            "https://",
        ),
    ],
)
def test_unusable_credentials_stop_start_up_with_one_line(values: dict[str, str], problem: str) -> None:
    base = {
        "microsoft_app_id": "",
        "microsoft_app_password": "",
        "microsoft_app_tenant_id": "",
        "microsoft_app_type": "MultiTenant",
        "rmbot_public_url": "",
    }
    with pytest.raises(ConfigurationError) as raised:
        check_settings(Settings(**{**base, **values}))
    assert problem in str(raised.value) and "\n" not in str(raised.value)

"""A bot running as a user-assigned managed identity (``MICROSOFT_APP_TYPE=UserAssignedMSI``) gets its token for
the connector from Azure's instance metadata service, through the Agents SDK's MSAL provider. Tested over HTTP:
the fake plays the instance metadata service (MSAL is pointed at it with ``AZURE_POD_IDENTITY_AUTHORITY_HOST``)
and the connector, and checks what the bot sends."""

from __future__ import annotations

import socket

import pytest

from adapters.teams.managed_identity import ManagedIdentityToken
from adapters.teams.tokens import TokenError
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import APP_ID, COORDINATOR, TENANT, TeamsBot, seed

OTHER_SOURCES = [  # what would make MSAL ask App Service, Service Fabric, Machine Learning, Arc or Cloud Shell
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZUREPS_HOST_ENVIRONMENT",
]


def on_a_virtual_machine(monkeypatch: pytest.MonkeyPatch, metadata_host: str) -> None:
    """The environment of an Azure VM or container whose instance metadata service is ``metadata_host``."""
    for name in OTHER_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", metadata_host)


async def test_the_bots_token_comes_from_the_managed_identity_and_is_kept(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        on_a_virtual_machine(monkeypatch, fake.base)
        settings = {
            "microsoft_app_id": APP_ID,
            "microsoft_app_type": "UserAssignedMSI",  # no secret
            "microsoft_app_tenant_id": TENANT,
            "teams_enabled": False,
            "teams_openid_metadata_url": fake.openid_url,
        }
        async with TeamsBot(sqlite_store, fake, **settings) as bot:
            inbound = {"Authorization": f"Bearer {fake.token(APP_ID, fake.service_url)}"}
            for text in ("help", "status"):
                status, _ = await bot.post(bot.personal(COORDINATOR, text), inbound)
                assert status == 200
                await bot.work()
            attempts = fake.attempts()
            assert len(attempts) == 2
            assert {a.authorization for a in attempts} == {f"Bearer {fake.identity_token(APP_ID)}"}
            [asked] = fake.identity_requests  # once, then kept until shortly before it expires
            assert asked["client_id"] == APP_ID and asked["Metadata"] == "true"
            assert asked["resource"] == "https://api.botframework.com"
            assert fake.token_requests == []  # no client-credentials grant: there is no secret


def test_an_unreachable_metadata_service_is_a_token_error_naming_only_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    on_a_virtual_machine(monkeypatch, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(TokenError) as failed:
        ManagedIdentityToken(APP_ID)()
    assert str(failed.value) == "no managed identity token: ConnectionError"

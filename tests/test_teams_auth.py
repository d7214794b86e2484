"""With credentials set, only requests bearing a valid Bot Framework token get in; everything else gets 401.

The fake publishes an OpenID metadata document and a signing key (endorsed for ``msteams``) and signs
tokens as the Bot Framework channel does; ``TEAMS_OPENID_METADATA_URL`` points the bot at it. Each refusal is
checked for its own reason (the log names the check that failed), and the keys' fetching is watched: once
for everyone waiting, without holding up other requests, again for a rotated key but not for forged ones.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import jwt
import pytest

from adapters.settings import ConfigurationError, Settings
from adapters.teams.auth import check_settings
from adapters.teams.signing_keys import SigningKeys
from fake_teams import ISSUER, KEY_ID, FakeTeams
from storage.store import SqlStore
from test_teams_harness import APP_ID, COORDINATOR, TeamsBot


def credentials(fake: FakeTeams) -> dict[str, str]:
    return {
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "not-a-real-password",
        "teams_openid_metadata_url": fake.openid_url,
        "teams_enabled": False,
    }


REFUSALS = {  # the reason, and what the log says of it
    "no header": "no Authorization header",
    "not bearer": "not 'Bearer <token>'",
    "not a JWT": "not a JWT",
    "unsigned": "signed with 'none', not RS256",
    "wrong key": "does not verify: Signature verification failed",
    "unknown key": "'never-published', which the OpenID metadata does not publish",
    "not for this bot": "is for '00000000-0000-0000-0000-000000000000', not this bot",
    "expired": "the token has expired",
    "other service url": "for the service 'https://evil.example.com/'",
    "no service url claim": "for the service 'None'",
    "other issuer": "issued by 'https://sts.example.com/'",
    "not endorsed for the channel": "not endorsed for the channel 'webchat'",
}


def refused_request(fake: FakeTeams, body: dict[str, Any], case: str) -> dict[str, str]:
    """The headers of a request refused for the reason ``case`` (``body`` is changed where the reason is in it)."""
    now = int(time.time())
    unsigned = {"iss": ISSUER, "aud": APP_ID, "serviceurl": fake.service_url, "nbf": now - 10, "exp": now + 3600}
    token = {
        "no header": None,
        "not bearer": fake.token(APP_ID, fake.service_url),
        "not a JWT": "not-a-token",
        "unsigned": jwt.encode(unsigned, None, algorithm="none", headers={"kid": KEY_ID}),
        "wrong key": fake.token(APP_ID, fake.service_url, signed_with="wrong"),
        "unknown key": fake.token(APP_ID, fake.service_url, key_id="never-published"),
        "not for this bot": fake.token(APP_ID, fake.service_url, audience="00000000-0000-0000-0000-000000000000"),
        "expired": fake.token(APP_ID, fake.service_url, expires_in=-3600),
        "other service url": fake.token(APP_ID, "https://evil.example.com/"),
        "no service url claim": fake.token(APP_ID, None),
        "other issuer": fake.token(APP_ID, fake.service_url, issuer="https://sts.example.com/"),
        "not endorsed for the channel": fake.token(APP_ID, fake.service_url),
    }[case]
    if case == "not endorsed for the channel":
        body["channelId"] = "webchat"  # the key is endorsed for msteams only
    if token is None:
        return {}
    return {"Authorization": ("Basic " if case == "not bearer" else "Bearer ") + token}


@pytest.mark.parametrize("case", REFUSALS)
async def test_requests_without_a_valid_token_are_refused_with_401(
    sqlite_store: SqlStore, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            body = bot.personal(COORDINATOR, "help")
            with caplog.at_level(logging.INFO, logger="adapters.teams.service"):
                status, _ = await bot.post(body, refused_request(fake, body, case))
            assert status == 401
            assert REFUSALS[case] in caplog.text  # refused for this reason, not another
            assert sqlite_store.inbox.pending_count() == 0
            assert bot.pokes == 0


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


async def test_the_signing_keys_are_fetched_once_and_a_slow_fetch_blocks_nothing_else(sqlite_store: SqlStore) -> None:
    """Five activities arrive while Microsoft is slow to publish its keys: the keys are fetched once, for all
    five, and meanwhile the server answers other requests at once (the fetch does not block the event loop)."""
    with FakeTeams() as fake:
        fake.metadata_delay = 3.0
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            headers = {"Authorization": f"Bearer {fake.token(APP_ID, fake.service_url)}"}
            bodies = [bot.personal(COORDINATOR, f"help {n}") for n in range(5)]
            started = time.monotonic()
            posts = [asyncio.create_task(bot.post(body, headers)) for body in bodies]
            await asyncio.sleep(0.2)
            async with bot.client.get("/healthz") as response:
                assert response.status == 200
            assert time.monotonic() - started < 2.0  # a fetch blocking the loop would hold everything 3 s
            assert not any(post.done() for post in posts)  # still waiting for the keys
            assert [status for status, _ in await asyncio.gather(*posts)] == [200] * 5
            assert fake.key_fetches == 1
            assert [bot.inbox_status(body["id"]) for body in bodies] == ["pending"] * 5
            await bot.post(bot.personal(COORDINATOR, "status"), headers)
            assert fake.key_fetches == 1  # kept


async def test_a_new_signing_key_is_fetched_when_first_seen_but_at_most_every_five_minutes(
    sqlite_store: SqlStore,
) -> None:
    """Microsoft rotates its keys: a token signed with a key published since the last fetch makes the bot fetch
    the keys again, and is accepted; unknown key ids (forged ones) never make it fetch more than once in five
    minutes. The key set is also fetched again after a day."""
    now = [1000.0]
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            bot.service.authentication.keys = SigningKeys(fake.openid_url, clock=lambda: now[0])

            async def status_with(token: str) -> int:
                status, _ = await bot.post(bot.personal(COORDINATOR, "help"), {"Authorization": f"Bearer {token}"})
                return status

            assert await status_with(fake.token(APP_ID, fake.service_url)) == 200
            assert fake.key_fetches == 1
            fake.rotate_keys()
            new_key_token = fake.token(APP_ID, fake.service_url, signed_with="new")
            now[0] += 60
            assert await status_with(new_key_token) == 401  # fetched a minute ago: not again yet
            assert fake.key_fetches == 1
            now[0] += 300
            assert await status_with(new_key_token) == 200
            assert fake.key_fetches == 2
            forged = fake.token(APP_ID, fake.service_url, key_id="forged")
            for _ in range(3):
                assert await status_with(forged) == 401
            assert fake.key_fetches == 2
            now[0] += 301
            assert await status_with(forged) == 401
            assert await status_with(forged) == 401
            assert fake.key_fetches == 3
            now[0] += 24 * 3600
            assert await status_with(fake.token(APP_ID, fake.service_url)) == 200
            assert fake.key_fetches == 4


@pytest.mark.parametrize("authenticated", [True, False])
async def test_an_activity_the_protocol_model_cannot_read_is_refused_with_400(
    sqlite_store: SqlStore, authenticated: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeTeams() as fake:
        settings = credentials(fake) if authenticated else {}
        async with TeamsBot(sqlite_store, fake, **settings) as bot:
            body = bot.personal(COORDINATOR, "help", conversation=["not", "an", "object"])
            headers = {"Authorization": f"Bearer {fake.token(APP_ID, fake.service_url)}"}
            with caplog.at_level(logging.WARNING, logger="adapters.teams.service"):
                status, _ = await bot.post(body, headers)
            assert status == 400
            assert "unexpected shape: unreadable conversation" in caplog.text
            assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # a warning only
            assert sqlite_store.inbox.pending_count() == 0
            assert fake.key_fetches == 0  # refused before anything was fetched


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

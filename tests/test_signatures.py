"""Who may talk to the bot: Slack's request signature and the Bot Framework JWT, over real HTTP.

Complements ``test_slack_http.py`` and ``test_teams_auth.py`` with the cases they leave out: the shared
signing vector sent to the running app, headers missing or malformed, timestamps from the future,
tokens not yet valid, signed with an unknown key id or with no algorithm at all, and the size limit of
``/api/messages``. Every refusal is a 401 (or 413) with nothing accepted into the inbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from slack_bolt.middleware.request_verification.async_request_verification import AsyncRequestVerification

from fake_slack import SPECS, FakeSlack, signature
from fake_teams import ISSUER, KEY_ID, FakeTeams
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, SECRET, SlackBot
from test_teams_auth import credentials
from test_teams_harness import APP_ID, TeamsBot
from test_teams_harness import COORDINATOR as TEAMS_COORDINATOR

VECTOR = json.loads((SPECS / "signing_test_vector.json").read_text())


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def at_vector_time(bot: SlackBot) -> None:
    """Make the app's signature check see the clock of the signing vector (a moment in 2018)."""
    [check] = [m for m in bot.service.app._async_middleware_list if isinstance(m, AsyncRequestVerification)]
    check.verifier.clock = FixedClock(VECTOR["clock_now_for_validity"])


async def post_vector(bot: SlackBot, body: str, timestamp: str, signed: str) -> int:
    headers = {
        "Content-Type": VECTOR["content_type"],
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signed,
    }
    async with bot.client.post("/slack/events", data=body.encode(), headers=headers) as response:
        return response.status


async def test_the_shared_signing_vector_is_accepted_by_the_running_app(sqlite_store: SqlStore) -> None:
    """Slack's published request (its secret is the harness's) gets in; each derived forgery gets a 401."""
    assert VECTOR["signing_secret"] == SECRET
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            at_vector_time(bot)
            status = await post_vector(
                bot, VECTOR["body"], VECTOR["x_slack_request_timestamp"], VECTOR["expected_x_slack_signature"]
            )
            assert status == 200 and sqlite_store.inbox.pending_count() == 1
            for case in VECTOR["derived_negative_cases_not_upstream"]:  # the one valid case repeats the request
                status = await post_vector(bot, case["body"], case["timestamp"], case["signature"])
                assert (status == 200) is case["expect_valid"], (case["case"], status)
            assert sqlite_store.inbox.pending_count() == 1
            trigger = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
            assert bot.inbox_status(f"cmd:{trigger}", team="T1DC2JH3J") == "pending"


@pytest.mark.parametrize(
    "case",
    [
        "from the future",
        "no signature header",
        "no timestamp header",
        "v1= prefix",
        "timestamp not a number",
        "signature of another timestamp",
        "empty body signed",
    ],
)
async def test_malformed_or_misplaced_signatures_are_refused_with_401(sqlite_store: SqlStore, case: str) -> None:
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            body = json.dumps(bot.dm_body("help", COORDINATOR))
            now = str(int(time.time()))
            good = signature(SECRET, now, body)
            headers: dict[str, str] = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": now,
                "X-Slack-Signature": good,
            }
            if case == "from the future":
                later = str(int(time.time()) + 301)
                headers.update(
                    {"X-Slack-Request-Timestamp": later, "X-Slack-Signature": signature(SECRET, later, body)}
                )
            elif case == "no signature header":
                del headers["X-Slack-Signature"]
            elif case == "no timestamp header":
                del headers["X-Slack-Request-Timestamp"]
            elif case == "v1= prefix":
                headers["X-Slack-Signature"] = "v1=" + good[3:]
            elif case == "timestamp not a number":
                headers.update(
                    {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": signature(SECRET, "soon", body)}
                )
            elif case == "signature of another timestamp":
                headers["X-Slack-Request-Timestamp"] = str(int(now) - 1)
            elif case == "empty body signed":
                headers["X-Slack-Signature"] = signature(SECRET, now, "")
            async with bot.client.post("/slack/events", data=body.encode(), headers=headers) as response:
                assert response.status == 401, case
            assert sqlite_store.inbox.pending_count() == 0


# -- Teams: the Bot Framework token ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def forged(fake: FakeTeams, case: str) -> str:
    """A token that is wrong in exactly one way (``case``)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": fake.service_url,
        "nbf": now - 10,
        "exp": now + 3600,
    }
    if case == "not yet valid":
        claims.update(nbf=now + 3600, exp=now + 7200)
        return jwt.encode(claims, fake.key, algorithm="RS256", headers={"kid": KEY_ID})
    if case == "unknown key id":
        return jwt.encode(claims, fake.key, algorithm="RS256", headers={"kid": "somebody-elses-key"})
    if case == "no key id":
        return jwt.encode(claims, fake.wrong_key, algorithm="RS256")
    if case == "alg none":
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": KEY_ID}).encode())
        return f"{header}.{_b64(json.dumps(claims).encode())}."
    if case == "HS256 keyed with the public key":
        from cryptography.hazmat.primitives import serialization

        public = fake.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = (
            f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': KEY_ID}).encode())}."
            f"{_b64(json.dumps(claims).encode())}"
        )
        mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"
    if case == "no service url claim":
        del claims["serviceurl"]
        return jwt.encode(claims, fake.key, algorithm="RS256", headers={"kid": KEY_ID})
    if case == "another bot's audience":
        return fake.token("6f1d2c3b-0000-4000-8000-00000000abcd", fake.service_url)
    if case == "garbage":
        return "not.a.token"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "not yet valid",
        "unknown key id",
        "no key id",
        "alg none",
        "HS256 keyed with the public key",
        "no service url claim",
        "another bot's audience",
        "garbage",
    ],
)
async def test_tokens_that_do_not_prove_the_bot_framework_sent_it_are_refused_with_401(
    sqlite_store: SqlStore, case: str
) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            status, _ = await bot.post(
                bot.personal(TEAMS_COORDINATOR, "help"), {"Authorization": f"Bearer {forged(fake, case)}"}
            )
            assert status == 401, case
            assert sqlite_store.inbox.pending_count() == 0


async def test_a_token_cannot_be_replayed_for_another_service_url(sqlite_store: SqlStore) -> None:
    """The token names the service URL it was issued for; the same token on an activity claiming another
    service URL (where the bot's replies would go) is refused."""
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake, **credentials(fake)) as bot:
            token = fake.token(APP_ID, fake.service_url)
            good = bot.personal(TEAMS_COORDINATOR, "help")
            status, _ = await bot.post(good, {"Authorization": f"Bearer {token}"})
            assert status == 200
            moved = bot.personal(TEAMS_COORDINATOR, "help", serviceUrl="https://attacker.example.com/")
            status, _ = await bot.post(moved, {"Authorization": f"Bearer {token}"})
            assert status == 401
            assert bot.inbox_status(moved["id"]) is None and bot.inbox_status(good["id"]) == "pending"


@pytest.mark.parametrize("authenticated", [True, False])
async def test_an_activity_over_one_megabyte_is_refused_with_413(sqlite_store: SqlStore, authenticated: bool) -> None:
    with FakeTeams() as fake:
        settings = credentials(fake) if authenticated else {}
        async with TeamsBot(sqlite_store, fake, **settings) as bot:
            body = bot.personal(TEAMS_COORDINATOR, "x" * (1024 * 1024 + 10))
            headers = {"Authorization": f"Bearer {fake.token(APP_ID, fake.service_url)}"} if authenticated else {}
            status, _ = await bot.post(body, headers)
            assert status == 413
            assert sqlite_store.inbox.pending_count() == 0
            status, _ = await bot.post(bot.personal(TEAMS_COORDINATOR, "x" * 1000), headers)
            assert status == 200  # just under the limit is fine

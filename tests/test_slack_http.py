"""The Slack endpoint over real HTTP: signatures, the durable inbox before the ack, retries, what is ignored."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from fake_slack import SPECS, FakeSlack, payload, signature, slack_user
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, SECRET, TEAM, SlackBot, fake_users, seed

VECTOR = json.loads((SPECS / "signing_test_vector.json").read_text())


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_the_signing_test_vector_and_its_negative_cases() -> None:
    """Our signer reproduces Slack's published signature; the verifier bolt uses refuses every bad case."""
    assert (
        signature(VECTOR["signing_secret"], VECTOR["x_slack_request_timestamp"], VECTOR["body"])
        == VECTOR["expected_x_slack_signature"]
    )
    verifier = SignatureVerifier(VECTOR["signing_secret"], clock=FixedClock(VECTOR["clock_now_for_validity"]))
    assert verifier.is_valid(VECTOR["body"], VECTOR["x_slack_request_timestamp"], VECTOR["expected_x_slack_signature"])
    for case in VECTOR["derived_negative_cases_not_upstream"]:
        assert verifier.is_valid(case["body"], case["timestamp"], case["signature"]) is case["expect_valid"], case[
            "case"
        ]


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "stale", "uppercase hex", "no v0=", "unsigned"])
async def test_requests_that_are_not_from_slack_are_refused_with_401(sqlite_store: SqlStore, case: str) -> None:
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            body = json.dumps(bot.dm_body("help", COORDINATOR))
            now = int(time.time())
            headers: dict[str, str] = {}
            kwargs: dict[str, Any] = {}
            if case == "wrong secret":
                kwargs["secret"] = "not-the-secret"
            elif case == "stale":
                kwargs["timestamp"] = now - 301
            else:
                good = signature(SECRET, str(now), body)
                forged = {
                    "tampered body": good,
                    "uppercase hex": "v0=" + good[3:].upper(),
                    "no v0=": good[3:],
                    "unsigned": "",
                }[case]
                headers = {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": forged}
                if case == "tampered body":
                    body = body.replace("help", "status")
            status, _ = await bot.post(body, "application/json", headers=headers, **kwargs)
            assert status == 401
            assert sqlite_store.inbox.pending_count() == 0


async def test_url_verification_answers_the_challenge(sqlite_store: SqlStore) -> None:
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            challenge = payload("url_verification.json")
            status, text = await bot.event(challenge)
            assert status == 200 and challenge["challenge"] in text


async def test_a_slash_command_is_in_the_inbox_before_the_200(store: SqlStore) -> None:
    """The response is only produced once the event is committed (checked at the moment it leaves)."""
    seed(store)
    seen: dict[str, Any] = {}
    with FakeSlack(users=fake_users()) as fake:
        bot = SlackBot(store, fake)

        @web.middleware
        async def watch(request: web.Request, handler: Any) -> web.StreamResponse:
            response = await handler(request)
            seen["status_when_answered"] = bot.inbox_status("cmd:trig.fixed")
            return response

        bot.web_app.middlewares.append(watch)
        async with bot:
            status, text = await bot.command("status", trigger="trig.fixed", channel="C0GENERAL")
            assert status == 200
            assert seen["status_when_answered"] == "pending"
            assert "direct messages" in text  # typed in a channel: told the answer comes by DM
            assert bot.pokes == 1
            await bot.work()
            assert bot.inbox_status("cmd:trig.fixed") == "done"
            reply = fake.posts()[-1]
            assert "Digital 2030" in reply["text"] and reply["channel"] == fake.dm_channel(COORDINATOR)


async def test_retries_have_exactly_one_effect(store: SqlStore) -> None:
    seed(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            body = bot.dm_body("help", COORDINATOR, event_id="EvRETRY")
            for retry in (None, 1, 2, 3):
                status, _ = await bot.event(body, retry=retry)
                assert status == 200
            await bot.work()
            assert len(fake.posts()) == 1
            assert bot.inbox_status("EvRETRY") == "done"


async def test_a_retry_whose_first_attempt_never_reached_the_store_is_processed(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            accept = bot.runtime.accept
            calls = {"n": 0}

            def flaky(event: Any) -> bool:
                calls["n"] += 1
                if calls["n"] == 1:
                    raise ConnectionError("database went away")
                return accept(event)

            bot.runtime.accept = flaky  # type: ignore[method-assign]
            body = bot.dm_body("help", COORDINATOR, event_id="EvLOST")
            first, _ = await bot.event(body)
            assert first >= 500 and bot.inbox_status("EvLOST") is None  # not acknowledged: Slack retries
            second, _ = await bot.event(body, retry=1)
            assert second == 200 and bot.inbox_status("EvLOST") == "pending"
            await bot.work()
            assert len(fake.posts()) == 1


async def test_the_bots_own_messages_and_other_bots_are_ignored(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            own = bot.dm_body("I said this", fake.bot_user)
            own["event"]["bot_id"] = "B111"
            other = bot.dm_body("a webhook", "W999")
            other["event"].update(bot_id="B999", subtype="bot_message")
            for body in (own, other):
                status, _ = await bot.event(body)
                assert status == 200
            assert sqlite_store.inbox.pending_count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"event": {"subtype": "message_changed"}},
        {"event": {"subtype": "channel_join"}},
        {"event": {"type": "reaction_added", "channel_type": None}},
        {"event": {"type": "member_joined_channel"}},
        {"event": {"channel_type": "channel"}},
        {"event": {"type": "app_home_opened", "tab": "messages"}},
    ],
)
async def test_events_it_does_not_handle_get_an_empty_200(sqlite_store: SqlStore, change: dict[str, Any]) -> None:
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            body = bot.dm_body("hello", COORDINATOR)
            body["event"].update(change["event"])
            status, text = await bot.event(body)
            assert status == 200 and text == ""
            assert sqlite_store.inbox.pending_count() == 0 and fake.views == []


async def test_unknown_interactions_and_options_are_acknowledged(sqlite_store: SqlStore) -> None:
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            status, _ = await bot.interact(
                {
                    "type": "view_closed",
                    "team": {"id": TEAM},
                    "user": {"id": COORDINATOR},
                    "view": {"id": "V1", "callback_id": "elsewhere"},
                }
            )
            assert status == 200
            status, text = await bot.interact(
                {
                    "type": "block_suggestion",
                    "team": {"id": TEAM},
                    "user": {"id": COORDINATOR},
                    "action_id": "x",
                    "block_id": "b",
                    "value": "a",
                    "container": {},
                    "api_app_id": "A111",
                }
            )
            assert status == 200 and json.loads(text) == {"options": []}
            assert sqlite_store.inbox.pending_count() == 0


async def test_a_body_over_one_megabyte_is_refused_with_413(sqlite_store: SqlStore) -> None:
    with FakeSlack() as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            body = bot.dm_body("x" * (1024 * 1024 + 10), COORDINATOR)
            status, _ = await bot.event(body)
            assert status == 413


async def test_a_mention_in_a_channel_is_a_command_answered_by_dm(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            body = payload("event_callback_app_mention__authorizations.json")
            body.update(team_id=TEAM, event_id="EvMENTION")
            body["authorizations"][0]["team_id"] = TEAM
            body["event"].update(user=COORDINATOR, text=f"<@{fake.bot_user}> help", team=TEAM)
            status, _ = await bot.event(body)
            assert status == 200
            await bot.work()
            [reply] = fake.posts()
            assert reply["channel"] == fake.dm_channel(COORDINATOR) and "What you can ask me" in reply["text"]


async def test_an_unknown_user_in_another_workspace_gets_a_tenant_of_their_own(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users={"W777": slack_user("W777", "Zed Other", "zed@other.example")}) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.event(bot.dm_body("status", "W777", team="T999"))
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                other = uow.tenants.find("slack", "T999")
                home = uow.tenants.find("slack", TEAM)
                assert other is not None and home is not None and other.id != home.id
                assert [p.name for p in uow.people.in_tenant(other.id)] == ["Zed Other"]
            assert "coordinators" in fake.posts()[-1]["text"].lower()  # refused: not a coordinator there

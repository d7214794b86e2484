"""Secrets never reach the logs or the inbox: a full run on Slack and Teams, logging everything at DEBUG.

Every credential gets a distinctive value; the bots are installed, take commands, DMs and button presses,
meet a refused request, a failed delivery that is retried, and a 429. Then every log record of the run
(formatted with its exception text, from every library) and every row of the queues is searched for
those values, for the signatures Slack sent and for the bearer tokens on both sides.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from fake_slack import FakeSlack, signed_headers, slack_user
from fake_teams import FakeTeams
from storage import teams_references as refs
from storage.store import SqlStore
from storage.tables import InboxEventRow, OutboxMessageRow, ScheduledJobRow
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, SlackBot, fake_users, seed
from test_slack_oauth import install
from test_slack_socket import wait_for
from test_teams_harness import APP_ID, TeamsBot, walk
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import seed as seed_teams

BOT_TOKEN = "xoxb-LEAKCHECK-bot-7f3a"
SIGNING_SECRET = "LEAKCHECK-signing-91c2"
APP_TOKEN = "xapp-1-LEAKCHECK-app-5d10"
CLIENT_SECRET = "LEAKCHECK-client-secret-44ab"
STATE_SECRET = "LEAKCHECK-state-secret-0e9f"
INSTALLED_TOKEN = "xoxb-LEAKCHECK-installed-c3d4"
APP_PASSWORD = "LEAKCHECK-app-password-8e21"
LINK_SECRET = "LEAKCHECK-link-secret-b6f0"
OUTBOUND_TOKEN = "LEAKCHECK-outbound-bearer-2a77"
SECRETS = [
    BOT_TOKEN,
    SIGNING_SECRET,
    APP_TOKEN,
    CLIENT_SECRET,
    STATE_SECRET,
    INSTALLED_TOKEN,
    APP_PASSWORD,
    LINK_SECRET,
    OUTBOUND_TOKEN,
]


class Everything(logging.Handler):
    """Every record of the run, formatted as an operator's log file would hold it (exceptions included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.out = io.StringIO()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.out.write(self.format(record) + "\n")
        self.out.write(repr(record.args) + "\n")  # what a structured (JSON) formatter would write too


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Everything, pytest.LogCaptureFixture]]:
    caplog.set_level(logging.DEBUG)
    handler = Everything()
    logging.getLogger().addHandler(handler)
    try:
        yield handler, caplog
    finally:
        logging.getLogger().removeHandler(handler)


def assert_nowhere(text: str, secrets: list[str], where: str) -> None:
    leaked = [s for s in secrets if s and s in text]
    lines = [line[:400] for line in text.splitlines() if any(s in line for s in leaked)]
    assert not leaked, f"{where} holds {leaked}: {lines[:6]}"


def stored(store: SqlStore) -> str:
    """The queues (inbox, outbox, schedule) and the Teams references, as text."""
    with Session(store.engine) as session:
        rows: list[Any] = []
        for table in (
            InboxEventRow,
            OutboxMessageRow,
            ScheduledJobRow,
            refs.TeamsConversationRow,
            refs.TeamsAccountRow,
            refs.TeamsSendRow,
        ):
            rows += [row.model_dump(mode="json") for row in session.execute(select(table)).scalars()]
    return json.dumps(rows)


SIGNATURES: list[str] = []


class SigningBot(SlackBot):
    """The Slack harness, signing with our secret and remembering every signature it sent."""

    async def post(self, body: str, content_type: str, **kwargs: Any) -> tuple[int, str]:
        headers = signed_headers(
            SIGNING_SECRET, body, content_type, kwargs.pop("timestamp", None), kwargs.pop("retry", None)
        )
        SIGNATURES.append(headers["X-Slack-Signature"])
        return await super().post(body, content_type, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)


def make_due(store: SqlStore) -> None:
    """Messages waiting for a retry are due now."""
    with Session(store.engine) as session, session.begin():
        session.execute(
            update(OutboxMessageRow)
            .where(OutboxMessageRow.status == "pending")
            .values(not_before=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_a_slack_run_logs_no_token_secret_or_signature(store: SqlStore, logs: Any) -> None:
    handler, caplog = logs
    seed(store)
    users = {**fake_users(), "W500": slack_user("W500", "Ines Duarte", "ines@installed.example")}
    with FakeSlack(
        users=users,
        tokens={BOT_TOKEN: "T111", APP_TOKEN: "T111"},
        install={"team": "T_NEW", "team_name": "New Co", "token": INSTALLED_TOKEN},
    ) as fake:
        async with SigningBot(store, fake, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET) as bot:
            assert (await bot.command("help"))[0] == 200
            await bot.command("invite <@W222> as mentor")
            await bot.work()
            consent = next(p for p in fake.posts(fake.dm_channel(MENTOR)))
            button = next(e for b in consent["blocks"] if b["type"] == "actions" for e in b["elements"])
            await bot.press(MENTOR, button["action_id"], button.get("value", ""))
            await bot.dm("status", COORDINATOR)
            fake.fail("chat.postMessage", "internal_error")  # a failed delivery, retried
            fake.rate_limit("chat.postMessage", retry_after=1)  # then a 429
            await bot.dm("help", MENTEE)
            await bot.work()
            make_due(store)
            await bot.work()
            time.sleep(1.1)
            make_due(store)
            await bot.work()
            status, _ = await SlackBot.post(bot, '{"type": "event_callback"}', "application/json", secret="wrong")
            assert status == 401
            assert len(SIGNATURES) >= 5 and fake.rate_limited >= 1
            assert any(not c.ok for c in fake.calls if c.method == "chat.postMessage")  # the failed delivery
            assert {c.token for c in fake.calls_to("chat.postMessage")} == {BOT_TOKEN}  # the secret really flowed
        oauth = {
            "slack_bot_token": "",
            "slack_client_id": "111.222",
            "slack_client_secret": CLIENT_SECRET,
            "slack_state_secret": STATE_SECRET,
            "slack_signing_secret": SIGNING_SECRET,
        }
        async with SigningBot(store, fake, **oauth) as bot:
            assert (await install(bot))[0] == 200
            body = bot.dm_body("help", "W500", team="T_NEW")
            body.pop("enterprise_id")
            body["authorizations"][0].update(enterprise_id=None)
            await bot.event(body)
            await bot.work()
            assert fake.calls_to("chat.postMessage")[-1].token == INSTALLED_TOKEN
        async with SlackBot(
            store, fake, slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_signing_secret=""
        ) as bot:  # Socket Mode
            await wait_for(lambda: fake.socket_connected)
            fake.socket_send(
                {
                    "envelope_id": "env-1",
                    "type": "events_api",
                    "payload": bot.dm_body("help", MENTEE),
                    "retry_attempt": 0,
                    "retry_reason": "",
                    "accepts_response_payload": False,
                }
            )
            await wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in fake.socket_acks))
            await bot.work()
    everything = handler.out.getvalue() + "\n".join(caplog.messages) + caplog.text
    assert "chat.postMessage" in everything  # the libraries' DEBUG logging was on
    assert_nowhere(everything, SECRETS + SIGNATURES, "the log")
    assert_nowhere(stored(store), SECRETS + SIGNATURES, "the database queues")


async def test_a_teams_run_logs_no_password_link_secret_or_bearer_token(
    store: SqlStore, logs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, caplog = logs
    import adapters.teams.auth as auth
    import adapters.teams.service as service

    monkeypatch.setattr(auth, "token_source", lambda settings: lambda: OUTBOUND_TOKEN)  # Azure AD's token, fetched
    monkeypatch.setattr(service, "token_source", lambda settings: lambda: OUTBOUND_TOKEN)
    seed_teams(store)
    bearers: list[str] = []
    with FakeTeams(allow_create={T_MENTOR.account}) as fake:
        settings = {
            "microsoft_app_id": APP_ID,
            "microsoft_app_password": APP_PASSWORD,
            "teams_enabled": False,
            "teams_openid_metadata_url": fake.openid_url,
            "rmbot_link_secret": LINK_SECRET,
            "rmbot_public_url": "https://mentoring.example.com",
        }
        async with TeamsBot(store, fake, **settings) as bot:
            for deliverer in bot.worker.deliverers:
                deliverer.sleep = lambda seconds: None  # type: ignore[attr-defined]

            async def send(activity: dict[str, Any]) -> int:
                bearers.append(fake.token(APP_ID, fake.service_url))
                status, _ = await bot.post(activity, {"Authorization": f"Bearer {bearers[-1]}"})
                return status

            for member in (T_COORDINATOR, T_MENTOR):
                assert await send(bot.installed(member)) == 200
            await send(bot.personal(T_COORDINATOR, "help"))
            await send(bot.personal(T_COORDINATOR, f"invite {T_MENTOR.email} as mentor"))
            fake.answer(503)  # a failed delivery, retried
            fake.answer(429, retry_after=0)
            await bot.work()
            make_due(store)
            await bot.work()
            consent = next(data for card in fake.cards(T_MENTOR.chat) for data in _buttons(card))
            assert await send(bot.execute(T_MENTOR, consent)) == 200
            await send(bot.personal(T_COORDINATOR, "report csv"))
            await bot.work()
            forged = fake.token(APP_ID, fake.service_url, signed_with="wrong")
            status, _ = await bot.post(bot.personal(T_COORDINATOR, "help"), {"Authorization": f"Bearer {forged}"})
            assert status == 401
            links = [str(a["url"]) for c in fake.cards() for a in walk(c) if "/teams/files/" in str(a.get("url", ""))]
            assert links, "the report was offered by download link"
            for link in links[:1]:
                async with bot.client.get(link.replace("https://mentoring.example.com", "")) as response:
                    assert response.status == 200
            assert any(p.authorization == f"Bearer {OUTBOUND_TOKEN}" for p in fake.attempts())  # it really flowed
            assert [p.status for p in fake.attempts()][:2] == [503, 429]
    everything = handler.out.getvalue() + "\n".join(caplog.messages) + caplog.text
    secrets = SECRETS + bearers + [forged] + [b.rsplit(".", 1)[1] for b in bearers]
    assert_nowhere(everything, secrets, "the log")
    assert_nowhere(stored(store), secrets, "the database queues")


def _buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"] for e in walk(card) if e.get("type") == "Action.Execute" and "accept" in str(e.get("data"))]


def test_json_logs_redact_secrets_in_exceptions_and_download_links() -> None:
    """The JSON formatter uses the redacted exception text, and capability URLs in access logs are hidden."""
    import io
    import json as json_module

    from adapters.observability import JsonFormatter
    from adapters.redaction import protect

    protect("json-secret-4711")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("rmbot.test.json")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("token json-secret-4711 refused")
        except RuntimeError:
            logger.error("failed", exc_info=True)
        logger.error('127.0.0.1 "GET /teams/files/1.0.99.c2lnbmF0dXJl HTTP/1.1" 200')
    finally:
        logger.removeHandler(handler)
    lines = [json_module.loads(line) for line in stream.getvalue().splitlines()]
    assert "json-secret-4711" not in stream.getvalue() and "[redacted]" in lines[0]["exception"]
    assert "c2lnbmF0dXJl" not in lines[1]["message"]

"""Unbounded input: typed text is capped at TEXT_LIMIT on every platform and refused in one sentence, what people
typed is echoed only as a short excerpt, and one message renders into a bounded number of posts or cards."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console.session import console_event
from adapters.slack import translate as slack_translate
from adapters.slack.render import render_message
from adapters.teams import cards
from adapters.teams.translate import event_of
from bot.model import MESSAGE_TEXT_LIMIT, TEXT_LIMIT, Address, OutgoingMessage, Section
from bot.wording import EXCERPT, excerpt, say
from chat import Chat
from fake_slack import FakeSlack
from fake_teams import FakeTeams
from storage.sql import select
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_slack_harness import COORDINATOR, MENTOR, SlackBot, blocks_text, fake_users, seed
from test_teams_harness import COORDINATOR as TEAMS_COORDINATOR
from test_teams_harness import MENTOR as TEAMS_MENTOR
from test_teams_harness import TeamsBot, card_text
from test_teams_harness import seed as seed_teams

HUGE = 900_000
COORD = "amara.okafor@example.com"
OTHER = "arjun.mehta@example.com"


def stored_text(store: SqlStore, platform: str) -> list[str]:
    """The text of every inbox payload of ``platform`` (what the store keeps of what people typed)."""
    with store.unit_of_work() as uow:
        rows = uow.session.exec(select(InboxEventRow).where(InboxEventRow.platform == platform)).all()
        return [str((row.payload or {}).get("text", "")) for row in rows]


def refusal(length: int) -> str:
    return f"{length:,} characters long"


# -- Slack over HTTP ---------------------------------------------------------------------------------------


async def test_a_900_kb_slack_dm_is_refused_at_once_and_others_are_answered(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            started = time.monotonic()
            status, _ = await bot.dm("word " * (HUGE // 5), MENTOR)
            assert status == 200
            assert (await bot.dm("help", COORDINATOR))[0] == 200
            await bot.work()
            elapsed = time.monotonic() - started
            [refused] = fake.posts(fake.dm_channel(MENTOR))
            shown = blocks_text(refused["blocks"])
            assert refusal(HUGE) in shown and f"{TEXT_LIMIT:,}" in shown and "did nothing" in shown
            assert len(shown) < 400
            assert "invite" in blocks_text(fake.posts(fake.dm_channel(COORDINATOR))[-1]["blocks"])
            assert max(map(len, stored_text(sqlite_store, "slack"))) <= TEXT_LIMIT
            assert elapsed < 10, elapsed  # was 11 s to handle and 60 s to render 84 posts


async def test_a_too_long_slash_command_is_refused(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            assert (await bot.command("program edit name " + "n" * 5_000))[0] == 200
            await bot.work()
            [refused] = fake.posts(fake.dm_channel(COORDINATOR))
            assert "did nothing" in blocks_text(refused["blocks"])
            assert "n" * 100 not in blocks_text(refused["blocks"])


def test_slack_reads_only_the_beginning_of_long_text() -> None:
    body = {
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "text": "<@U2|x> " * 100_000},
    }
    event = slack_translate.from_message(body)
    assert event is not None
    assert len(event.text) <= TEXT_LIMIT and event.text_length == 800_000
    within = slack_translate.from_message({**body, "event": {**body["event"], "text": "a" * TEXT_LIMIT}})
    assert within is not None and within.text_length == 0 and len(within.text) == TEXT_LIMIT


# -- Teams over HTTP ---------------------------------------------------------------------------------------


async def test_a_900_kb_teams_message_is_refused_at_once_and_others_are_answered(sqlite_store: SqlStore) -> None:
    seed_teams(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            started = time.monotonic()
            assert await bot.say(TEAMS_MENTOR, "x" * HUGE) == 200
            assert await bot.say(TEAMS_COORDINATOR, "help") == 200
            await bot.work()
            elapsed = time.monotonic() - started
            [refused] = bot.cards_for(TEAMS_MENTOR)
            assert refusal(HUGE) in card_text(refused) and "did nothing" in card_text(refused)
            assert "x" * 100 not in card_text(refused)
            assert "invite" in card_text(bot.cards_for(TEAMS_COORDINATOR)[-1])
            assert max(map(len, stored_text(sqlite_store, "teams"))) <= TEXT_LIMIT
            assert elapsed < 10, elapsed


def test_teams_marks_long_text_and_keeps_text_within_the_limit() -> None:
    activity = {
        "type": "message",
        "id": "1",
        "text": "y" * (TEXT_LIMIT + 1),
        "from": {"id": "29:a", "aadObjectId": "aad-a"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1"},
    }
    event = event_of(activity)
    assert event is not None and event.text_length == TEXT_LIMIT + 1 and len(event.text) == TEXT_LIMIT
    within = event_of({**activity, "text": "y" * TEXT_LIMIT})
    assert within is not None and within.text_length == 0


# -- the console -------------------------------------------------------------------------------------------


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    chat = Chat(store)
    chat.load_sample()
    return chat


def test_a_900_kb_console_line_is_refused_and_the_next_person_is_answered(chat: Chat) -> None:
    started = time.monotonic()
    [answer] = chat.send(OTHER, "z" * HUGE)
    assert refusal(HUGE) in answer and f"{TEXT_LIMIT:,}" in answer and "did nothing" in answer
    assert time.monotonic() - started < 5
    assert max(map(len, stored_text(chat.store, "console"))) <= TEXT_LIMIT
    assert any("help" in line for line in chat.send(COORD, "help"))


def test_the_limit_itself_is_accepted_and_one_more_character_refused(chat: Chat) -> None:
    at_limit = console_event(COORD, "q" * TEXT_LIMIT, None, datetime.now(UTC), "e1")
    assert at_limit.text_length == 0 and len(at_limit.text) == TEXT_LIMIT
    over = console_event(COORD, "q" * (TEXT_LIMIT + 1), None, datetime.now(UTC), "e2")
    assert over.text_length == TEXT_LIMIT + 1 and len(over.text) == TEXT_LIMIT
    [answer] = chat.send(COORD, "q" * TEXT_LIMIT)
    assert "I don't know" in answer
    [answer] = chat.send(COORD, "q" * (TEXT_LIMIT + 1))
    assert "did nothing" in answer


def test_a_too_long_answer_inside_a_questionnaire_is_not_taken(chat: Chat) -> None:
    chat.make_tenant_coordinator(COORD)
    [question] = chat.send(COORD, "program new")
    assert "called?" in question
    [refused] = chat.send(COORD, "N" * (TEXT_LIMIT + 10))
    assert "did nothing" in refused
    [following] = chat.send(COORD, "Digital 2030")  # the name was still the question waiting for its answer
    assert "focus" in following


# -- echoes ------------------------------------------------------------------------------------------------


def test_an_unknown_3000_character_word_is_echoed_as_an_excerpt_only(chat: Chat) -> None:
    [answer] = chat.send(COORD, "w" * 3_000)
    assert "I don't know" in answer
    assert "w" * EXCERPT + "…" in answer and "w" * (EXCERPT + 1) not in answer
    assert len(answer) < 300


def test_the_excerpt_filter() -> None:
    assert excerpt("short") == "short"
    assert excerpt("a" * 200) == "a" * EXCERPT + "…"
    assert excerpt(42) == 42
    shown = say("flow.not_shown_yet", typed="t" * 1_000)
    assert "t" * EXCERPT + "…" in shown and "t" * (EXCERPT + 1) not in shown
    unknown = say("commands.unknown", given="*" * 100, suggestion="")
    assert "\\*" * EXCERPT + "…" in unknown and unknown.count("*") == EXCERPT  # cut, then escaped


# -- rendering is bounded ----------------------------------------------------------------------------------


def huge_message() -> OutgoingMessage:
    return OutgoingMessage(
        tenant_id=1,
        to=Address.person(1),
        idempotency_key="k",
        text="para " * (HUGE // 5),
        sections=[Section(text="section " * 1_000, fields=[("Label", "value " * 100)] * 50)] * 20,
        context=["small print " * 100] * 20,
    )


def test_a_huge_message_renders_into_a_few_slack_posts_with_a_note() -> None:
    message = huge_message()
    started = time.monotonic()
    pages = render_message(message)
    assert time.monotonic() - started < 5
    assert len(pages) <= MESSAGE_TEXT_LIMIT // 10_000 + 2
    assert sum(len(blocks_text(p.blocks)) for p in pages) <= MESSAGE_TEXT_LIMIT + 2_000
    assert say("slack.shortened").strip("()") in blocks_text(pages[-1].blocks)


def test_a_huge_message_renders_into_a_few_teams_cards_with_a_note() -> None:
    started = time.monotonic()
    rendered = cards.render(huge_message())
    assert time.monotonic() - started < 5
    assert len(rendered) <= 5
    assert say("teams.shortened").strip("()") in card_text(rendered[-1])


def test_a_message_within_the_limit_is_rendered_whole() -> None:
    message = OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="k", text="word " * 2_000)
    assert message.shortened("note") is message
    shortened = huge_message().shortened("note")
    assert shortened.text_size() <= MESSAGE_TEXT_LIMIT + len("note") and shortened.context[-1] == "note"

"""Slack's syntax stays in the Slack adapter: mentions and channels reach the engine resolved, as neutral words.

``invite <@U123|amara> as mentor`` arrives as ``invite @amara as mentor`` with ``@amara`` → ``U123`` in
``mentions``; ``program announce <#C123|general>`` as ``program announce #general`` with ``#general`` →
``C123`` in ``channels``; a leading ``mentoring`` (or ``/mentoring`` in a DM) is stripped and the event
marked ``addressed``. Then over HTTP, through the fake Slack: the invitation and the call for volunteers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from adapters.slack.translate import from_command, from_mention, from_message, readable
from bot.model import InboundEvent
from fake_slack import FakeSlack
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_slack_harness import COORDINATOR, MENTOR, TEAM, SlackBot, fake_users, seed

ROOT = Path(__file__).resolve().parents[1]


def dm(text: str) -> dict[str, Any]:
    return {
        "team_id": TEAM,
        "event_id": "Ev1",
        "event": {"type": "message", "channel_type": "im", "user": COORDINATOR, "text": text, "ts": "1.0"},
    }


def slash(text: str) -> dict[str, Any]:
    return {"team_id": TEAM, "user_id": COORDINATOR, "command": "/mentoring", "text": text, "trigger_id": "t1"}


def no_slack_syntax(event: InboundEvent) -> bool:
    return "<@" not in event.text and "<#" not in event.text and "<" not in event.text


def test_user_mentions_become_neutral_words_mapped_to_their_slack_ids() -> None:
    text, mentions, channels = readable("invite <@U123|amara> <@W456> and <@U789|amara> as mentor")
    assert text == "invite @amara @W456 and @amara.2 as mentor"
    assert mentions == {"@amara": "U123", "@W456": "W456", "@amara.2": "U789"}
    assert channels == {}


def test_channels_become_neutral_words_mapped_to_their_slack_ids() -> None:
    text, mentions, channels = readable("program announce <#C123|general> or <#G9|> &lt;b&gt;")
    assert text == "program announce #general or #G9 <b>"
    assert channels == {"#general": "C123", "#G9": "G9"} and mentions == {}


def test_a_slash_command_arrives_resolved_and_addressed() -> None:
    event = from_command(slash("invite <@U123|amara> <@U456|ben> as mentor"))
    assert event.text == "invite @amara @ben as mentor" and no_slack_syntax(event)
    assert event.mentions == {"@amara": "U123", "@ben": "U456"} and event.addressed
    announce = from_command(slash("program announce <#C123|general>"))
    assert announce.text == "program announce #general" and announce.channels == {"#general": "C123"}
    assert from_command(slash("mentoring help")).text == "help"  # "with or without the word mentoring"


def test_a_dm_is_addressed_only_when_it_starts_with_the_word_or_the_slash_command() -> None:
    for typed in ("mentoring status", "/mentoring status", "Mentoring   status"):
        event = from_message(dm(typed))
        assert event is not None and (event.text, event.addressed) == ("status", True), typed
    plain = from_message(dm("status"))
    assert plain is not None and (plain.text, plain.addressed) == ("status", False)
    alone = from_message(dm("mentoring"))
    assert alone is not None and (alone.text, alone.addressed) == ("", True)


def test_the_bots_own_mention_is_dropped_in_a_channel() -> None:
    body = dm("<@UBOT> invite <@U123|amara> as mentee")
    event = from_mention(body, "UBOT")
    assert event is not None and event.text == "invite @amara as mentee"
    assert event.mentions == {"@amara": "U123"} and event.kind == "command"


def test_no_slack_syntax_in_the_engine() -> None:
    """``grep -n "<@\\|<#" bot -r`` finds nothing: the engine knows no platform's mention syntax."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "<@" in line or "<#" in line
    ]
    assert found == []


def last_inbox_event(store: SqlStore) -> dict[str, Any]:
    with Session(store.engine) as session:
        rows = session.exec(select(InboxEventRow)).all()
        return dict(max(rows, key=lambda r: r.id or 0).payload)


async def test_an_invitation_and_a_call_for_volunteers_over_http(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            assert (await bot.command(f"invite <@{MENTOR}|arjun> as mentor"))[0] == 200
            stored = last_inbox_event(sqlite_store)
            assert stored["text"] == "invite @arjun as mentor" and stored["mentions"] == {"@arjun": MENTOR}
            await bot.work()
            [consent] = fake.posts(fake.dm_channel(MENTOR))
            assert "Digital 2030" in consent["text"]
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                assert tenant is not None
                person = uow.people.by_identity(tenant.id, "slack", MENTOR)
                assert person is not None and uow.participants.find(programme, person.id) is not None

            assert (await bot.command("program announce <#C0GENERAL|general>"))[0] == 200
            stored = last_inbox_event(sqlite_store)
            assert stored["text"] == "program announce #general"
            assert stored["channels"] == {"#general": "C0GENERAL"}
            await bot.work()
            [call] = fake.posts("C0GENERAL")
            assert "volunteers" in call["text"].lower() or "Digital 2030" in call["text"]
            replies = [p["text"] for p in fake.posts(fake.dm_channel(COORDINATOR))]
            assert any("Posted the call" in t and "#general" in t for t in replies)

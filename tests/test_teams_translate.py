"""Teams' syntax stays in the Teams adapter: ``<at>…</at>`` mentions reach the engine resolved, as neutral words.

A person's ``<at>Amara Okafor</at>`` arrives as ``@Amara.Okafor`` with the person's id in ``mentions``; a
channel's ``<at>General</at>`` (its ``19:`` id in the activity's entities) as ``#General`` with the channel's
id in ``channels``; a leading ``mentoring`` is stripped and the event marked ``addressed``. Then over HTTP,
through the fake connector: a call for volunteers posted in the channel a coordinator mentioned.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from adapters.teams.translate import event_of
from fake_teams import FakeTeams
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_teams_harness import BOT, CHANNEL, COORDINATOR, TENANT, TeamsBot, card_text, seed


def activity(text: str, *mentions: tuple[str, dict[str, str]], personal: bool = True) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "1",
        "text": text,
        "from": {"id": "29:coord", "aadObjectId": "aad-coord", "name": "Grace"},
        "recipient": {"id": BOT, "name": "Mentoring"},
        "conversation": {"conversationType": "personal" if personal else "channel", "tenantId": TENANT, "id": "a:1"},
        "entities": [{"type": "mention", "text": shown, "mentioned": who} for shown, who in mentions],
    }


AMARA = ("<at>Amara Okafor</at>", {"id": "29:amara", "aadObjectId": "aad-amara", "name": "Amara Okafor"})
BEN = ("<at>Ben</at>", {"id": "29:ben", "name": "Ben"})
GENERAL = ("<at>General</at>", {"id": "19:general@thread.tacv2", "name": "General"})


def test_people_mentioned_become_neutral_words_mapped_to_their_ids() -> None:
    event = event_of(activity("invite <at>Amara Okafor</at> <at>Ben</at> as mentor", AMARA, BEN))
    assert event is not None
    assert event.text == "invite @Amara.Okafor @Ben as mentor"
    assert event.mentions == {"@Amara.Okafor": "aad-amara", "@Ben": "29:ben"}
    assert "<at>" not in event.text and event.channels == {} and not event.addressed


def test_a_channel_mentioned_becomes_a_neutral_word_mapped_to_its_id() -> None:
    event = event_of(activity("program announce <at>General</at>", GENERAL))
    assert event is not None
    assert event.text == "program announce #General"
    assert event.channels == {"#General": "19:general@thread.tacv2"} and event.mentions == {}


def test_the_leading_word_is_stripped_and_the_event_addressed() -> None:
    event = event_of(activity("mentoring invite <at>Amara Okafor</at> as mentee", AMARA))
    assert event is not None and event.addressed
    assert (event.text, event.mentions) == ("invite @Amara.Okafor as mentee", {"@Amara.Okafor": "aad-amara"})
    alone = event_of(activity("mentoring"))
    assert alone is not None and (alone.text, alone.addressed) == ("", True)
    bot = ("<at>Mentoring</at>", {"id": BOT, "name": "Mentoring"})
    in_channel = event_of(activity("<at>Mentoring</at> status", bot, personal=False))
    assert in_channel is not None and (in_channel.text, in_channel.kind) == ("status", "command")


def test_two_people_of_the_same_name_get_different_words() -> None:
    other = ("<at>Ben </at>", {"id": "29:ben2", "name": "Ben"})
    event = event_of(activity("coordinators add <at>Ben</at> <at>Ben </at>", BEN, other))
    assert event is not None and event.text == "coordinators add @Ben @Ben.2"
    assert event.mentions == {"@Ben": "29:ben", "@Ben.2": "29:ben2"}


def _stored(store: SqlStore, event_id: str) -> dict[str, Any]:
    with Session(store.engine) as session:
        row = session.exec(select(InboxEventRow).where(InboxEventRow.event_id == event_id)).one()
        return dict(row.payload)


async def test_a_call_for_volunteers_goes_to_the_channel_mentioned(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            team_install = bot.channel(COORDINATOR, "")
            team_install.update(type="conversationUpdate", text=None, entities=[], membersAdded=[{"id": BOT}])
            team_install["conversation"]["id"] = CHANNEL
            team_install["channelData"]["channel"] = {"id": CHANNEL, "name": "General"}
            assert (await bot.post(team_install))[0] == 200
            body = bot.channel(COORDINATOR, "program announce <at>General</at>", mentions=[("General", CHANNEL, "")])
            assert (await bot.post(body))[0] == 200
            stored = _stored(sqlite_store, body["id"])
            assert stored["text"] == "program announce #General" and stored["channels"] == {"#General": CHANNEL}
            await bot.work()
            [call] = fake.cards(CHANNEL)
            assert "volunteers" in card_text(call).lower()
            assert any("Posted the call" in card_text(c) for c in bot.cards_for(COORDINATOR))

"""A pressed Teams card follows the engine's outcome (issue #18): the press is acknowledged at once with a short
message that leaves the card alone; once the engine has decided, the card pressed is replaced through the
outbox (``PUT …/activities/{replyToId}``): the choice without its buttons when it was taken, "no longer
applies" when it was outdated, and nothing at all (buttons kept) when it was refused for another reason.
Driven over HTTP with activities against the fake connector; every card shown is checked against the schema."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.wording import say, unescape
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import (
    CHANNEL,
    COORDINATOR,
    MENTEE,
    MENTOR,
    TENANT,
    Member,
    TeamsBot,
    assert_valid_card,
    buttons,
    card_text,
    person_id,
    seed,
)

MESSAGE = "application/vnd.microsoft.activity.message"
YES, NO = "Yes, I'm in", "No, thanks"


def last_card(bot: TeamsBot, member: Member) -> tuple[str, dict[str, Any]]:
    """The id of the newest activity in ``member``'s chat, and its card."""
    post = [p for p in bot.fake.attempts() if p.conversation == member.chat and 200 <= p.status < 300][-1]
    return post.activity_id, post.body["attachments"][0]["content"]


async def press(
    bot: TeamsBot, member: Member, activity_id: str, data: dict[str, Any], via: str = "execute", **fields: Any
) -> tuple[int, Any]:
    """``member`` presses a button of the card ``activity_id`` (its data ``data``), as Teams sends it: an
    ``adaptiveCard/action`` invoke, or the ``Action.Submit`` fallback's message, naming the card in ``replyToId``."""
    body = (bot.execute if via == "execute" else bot.submit)(member, data, replyToId=activity_id, **fields)
    return await bot.post(body)


def shown(bot: TeamsBot, activity_id: str) -> dict[str, Any]:
    card = bot.fake.shown(activity_id)
    assert_valid_card(card)
    return card


def status_of(store: SqlStore, programme: int, member: Member) -> str:
    with store.unit_of_work() as uow:
        participant = uow.participants.find(programme, person_id(store, member))
        assert participant is not None
        return participant.status.value


async def invited(bot: TeamsBot) -> tuple[str, dict[str, Any]]:
    await bot.install(COORDINATOR, MENTOR)
    await bot.say(COORDINATOR, f"invite {MENTOR.email} as mentor")
    await bot.work()
    activity_id, card = last_card(bot, MENTOR)
    assert set(buttons(card)) == {YES, NO}
    return activity_id, card


def answers_since(bot: TeamsBot, member: Member, before: int) -> str:
    return "\n".join(card_text(c) for c in bot.cards_for(member)[before:])


async def test_a_taken_press_shows_the_choice_without_buttons_once_the_engine_took_it(store: SqlStore) -> None:
    programme = seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            invitation, card = await invited(bot)
            status, answer = await press(bot, MENTOR, invitation, buttons(card)[YES])
            assert status == 200 and answer["type"] == MESSAGE and YES in answer["value"]
            assert fake.updates(invitation) == []  # nothing shown before the engine decides
            assert shown(bot, invitation) == card

            await bot.work()
            assert status_of(store, programme, MENTOR) == "active"
            [update] = fake.updates(invitation)
            assert update.conversation == MENTOR.chat and update.body["id"] == invitation
            now = shown(bot, invitation)
            assert not buttons(now) and f"✓ {YES}" in card_text(now)
            assert "Digital 2030" in card_text(now)  # the invitation is still there to read


async def test_an_outdated_press_says_so_on_the_card_and_changes_nothing(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            invitation, card = await invited(bot)
            await press(bot, MENTOR, invitation, buttons(card)[YES], via="submit")
            await bot.work()
            first, question = last_card(bot, MENTOR)  # the intake's first question, with its buttons
            assert "Yes" in buttons(question)
            await bot.say(MENTOR, "yes")  # answered by typing: the card's question has moved on
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.ensure("teams", TENANT)
                answers = dict(uow.conversations.load(tenant.id, person_id(sqlite_store, MENTOR)).answers)

            before = len(bot.cards_for(MENTOR))
            status, answer = await press(bot, MENTOR, first, buttons(question)["No"])
            assert status == 200 and answer["type"] == MESSAGE
            await bot.work()
            now = shown(bot, first)
            assert not buttons(now) and unescape(say("pressed.closed")) in card_text(now)
            assert answers_since(bot, MENTOR, before).count(unescape(say("flow.stale_answer"))) == 1
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.ensure("teams", TENANT)
                assert dict(uow.conversations.load(tenant.id, person_id(sqlite_store, MENTOR)).answers) == answers

            # the invitation pressed again from a screen not refreshed: it keeps the choice made on it
            before = len(bot.cards_for(MENTOR))
            await press(bot, MENTOR, invitation, buttons(card)[NO])
            await bot.work()
            assert status_of(sqlite_store, programme, MENTOR) == "active"
            assert "already answered the invitation" in answers_since(bot, MENTOR, before)
            assert f"✓ {YES}" in card_text(shown(bot, invitation))
            assert unescape(say("pressed.closed")) not in card_text(shown(bot, invitation))


async def test_a_press_refused_for_another_reason_keeps_its_buttons(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            invitation, card = await invited(bot)
            forged = {**buttons(card)[YES], "rmbot_value": "v1:not-a-number:mentor"}
            before = len(bot.cards_for(MENTOR))
            await press(bot, MENTOR, invitation, forged)
            await bot.work()
            assert fake.updates(invitation) == [] and shown(bot, invitation) == card  # choose again
            assert len(bot.cards_for(MENTOR)) == before + 1  # one sentence saying what went wrong
            assert status_of(sqlite_store, programme, MENTOR) == "invited"


async def test_the_update_is_durable_and_has_one_effect(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            invitation, card = await invited(bot)
            body = bot.execute(MENTOR, buttons(card)[YES], replyToId=invitation, id="press-1")
            for _ in range(2):  # Teams re-sends an invoke it had no answer to: one effect
                assert (await bot.post(body))[0] == 200
            fake.update_answers.append((429, 0.1))  # the first update is throttled: it waits in the outbox
            await bot.work()
            assert [u.status for u in fake.updates(invitation)] == [429]
            assert shown(bot, invitation) == card
            await asyncio.sleep(0.7)  # Retry-After, and its jitter
            await bot.work()
            await bot.work()
            assert [u.status for u in fake.updates(invitation)] == [429, 200]
            now = shown(bot, invitation)
            assert f"✓ {YES}" in card_text(now) and not buttons(now)
            texts = "\n".join(card_text(c) for c in bot.cards_for(MENTOR))
            assert texts.count("Wonderful, you're in") == 1  # the invoke sent twice was handled once


async def test_presses_in_a_channel_leave_the_card_alone(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            data = {
                "rmbot_action": "join.pick",
                "rmbot_value": "1:mentee",
                "rmbot_ref": "1",
                "rmbot_label": "As a mentee",
            }
            body = bot.execute(MENTEE, data, replyToId="1000000000001")
            body["conversation"] = {"conversationType": "channel", "id": CHANNEL, "tenantId": TENANT}
            status, answer = await bot.post(body)
            assert status == 200 and answer["type"] == MESSAGE
            await bot.work()
            assert [p for p in fake.posts if p.path == "update"] == []  # a changed card would change for everyone

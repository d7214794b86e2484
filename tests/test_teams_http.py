"""The Teams endpoint over real HTTP: conversations, card actions (Submit and Execute), re-sends, mentions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain import NewPerson, ParticipantStatus
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import (
    BOT,
    CHANNEL,
    COORDINATOR,
    MENTEE,
    MENTOR,
    TENANT,
    TeamsBot,
    assert_valid_card,
    buttons,
    card_text,
    person_id,
    seed,
)


def participant_status(store: SqlStore, programme_id: int, member: Any) -> ParticipantStatus | None:
    with store.unit_of_work() as uow:
        found = uow.participants.find(programme_id, person_id(store, member))
        return found.status if found else None


async def test_installing_welcomes_once_and_help_round_trips(store: SqlStore) -> None:
    """Install (conversationUpdate and installationUpdate: one welcome), then `help` and `mentoring help`."""
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            for kind in ("conversationUpdate", "installationUpdate"):
                status, _ = await bot.post(bot.installed(COORDINATOR, kind))
                assert status == 200
            await bot.work()
            [welcome] = bot.cards_for(COORDINATOR)
            assert "help" in card_text(welcome)
            for text in ("help", "mentoring help"):
                assert await bot.say(COORDINATOR, text) == 200
            await bot.work()
            cards = bot.cards_for(COORDINATOR)
            assert len(cards) == 3
            assert "invite" in card_text(cards[-1]) and card_text(cards[-1]) == card_text(cards[-2])
            [activity, *_] = fake.activities(COORDINATOR.chat)
            assert activity["type"] == "message" and activity["summary"] and activity["from"] == {"id": BOT}


async def test_the_captured_personal_message_is_understood(sqlite_store: SqlStore) -> None:
    """The conformance kit's activity, unchanged except for its service URL: its text reaches the engine."""
    from fake_teams import activity_file

    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            body = activity_file("personal_message.json")
            body["serviceUrl"] = fake.service_url
            status, _ = await bot.post(body)
            assert status == 200
            assert bot.store.inbox.status_of("teams", body["conversation"]["tenantId"], body["id"]) == "pending"
            await bot.work()
            [card] = fake.cards(body["conversation"]["id"])
            assert_valid_card(card)
            assert "ping" in card_text(card)  # the one-line correction for an unknown command names it


async def test_mentions_are_stripped_in_a_team_channel(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            body = bot.channel(COORDINATOR, "status  --program digital-2030")
            assert body["text"].startswith("<at>Mentoring</at>")
            status, _ = await bot.post(body)
            assert status == 200
            event = _inbox_event(sqlite_store, body["id"])
            assert event["text"] == "status --program digital-2030" and event["kind"] == "command"
            assert event["conversation"].startswith(CHANNEL)
            await bot.work()
            [_, reply] = bot.cards_for(COORDINATOR)  # answered privately, in the personal chat
            assert "Digital 2030" in card_text(reply)
            assert not fake.activities(CHANNEL)


async def test_other_mentions_become_tokens_linked_to_their_account(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            body = bot.channel(
                COORDINATOR, "invite <at>Arjun Mehta</at> as mentor", mentions=[("Arjun Mehta", MENTOR.account, "")]
            )
            await bot.post(bot.installed(MENTOR))  # his personal install taught us his account's AD id
            assert (await bot.post(body))[0] == 200
            event = _inbox_event(sqlite_store, body["id"])
            assert event["text"] == "invite @Arjun.Mehta as mentor"
            assert event["mentions"] == {"@Arjun.Mehta": MENTOR.aad}


async def test_invite_consent_card_and_action_submit(store: SqlStore) -> None:
    """invite → consent card in the invitee's chat → Action.Submit pressed → participant active."""
    programme = seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            await bot.install(COORDINATOR, MENTOR)
            await bot.say(COORDINATOR, "invite arjun@example.com as mentor")
            await bot.work()
            consent = bot.cards_for(MENTOR)[-1]
            assert "Digital 2030" in card_text(consent)
            accept = next(data for title, data in buttons(consent).items() if "in" in title.lower())
            status, answer = await bot.post(bot.submit(MENTOR, accept))
            assert (status, answer) == (200, None)
            await bot.work()
            assert participant_status(store, programme, MENTOR) == ParticipantStatus.ACTIVE
            assert len(bot.cards_for(MENTOR)) > 2  # thanks, then the intake's first question


async def test_action_execute_is_answered_with_an_invoke_response_after_the_commit(store: SqlStore) -> None:
    programme = seed(store)
    seen: dict[str, Any] = {}
    with FakeTeams() as fake:
        bot = TeamsBot(store, fake)

        @web.middleware
        async def watch(request: web.Request, handler: Any) -> web.StreamResponse:
            response = await handler(request)
            seen["status_when_answered"] = bot.inbox_status("invoke-1")
            return response

        bot.web_app.middlewares.append(watch)
        async with bot:
            await bot.install(COORDINATOR, MENTOR)
            await bot.say(COORDINATOR, "invite arjun@example.com as mentor")
            await bot.work()
            accept = next(data for title, data in buttons(bot.cards_for(MENTOR)[-1]).items() if "in" in title.lower())
            status, answer = await bot.post(bot.execute(MENTOR, accept, id="invoke-1"))
            assert status == 200
            # a message, which leaves the card alone: the card changes once the engine decided (test_teams_pressed.py)
            assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.activity.message"
            assert "Yes, I'm in" in answer["value"]
            assert seen["status_when_answered"] == "pending"  # committed before the answer left
            await bot.work()
            assert participant_status(store, programme, MENTOR) == ParticipantStatus.ACTIVE


async def test_action_execute_on_a_channel_card_answers_with_a_message(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            body = bot.execute(
                MENTEE, {"rmbot_action": "join.pick", "rmbot_value": "1:mentee", "rmbot_label": "As a mentee"}
            )
            body["conversation"] = {"conversationType": "channel", "id": CHANNEL, "tenantId": TENANT}
            status, answer = await bot.post(body)
            assert status == 200
            assert answer["type"] == "application/vnd.microsoft.activity.message" and "As a mentee" in answer["value"]
            assert _inbox_event(sqlite_store, body["id"])["action"] == {
                "id": "join.pick",
                "value": "1:mentee",
                "values": {},
            }


async def test_a_resent_activity_has_one_effect(store: SqlStore) -> None:
    seed(store)
    with FakeTeams() as fake:
        async with TeamsBot(store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.work()
            body = bot.personal(COORDINATOR, "program list", activity_id="resent-1")
            for _ in range(3):  # Teams re-sends after 15 s without an answer
                assert (await bot.post(body))[0] == 200
            await bot.work()
            assert len(bot.cards_for(COORDINATOR)) == 2  # the welcome, and one answer
            assert bot.inbox_status("resent-1") == "done"


async def test_what_the_engine_does_not_need_is_acknowledged(sqlite_store: SqlStore) -> None:
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            typing = bot.personal(COORDINATOR, None, type="typing")
            reaction = bot.personal(COORDINATOR, None, type="messageReaction", reactionsAdded=[{"type": "like"}])
            other_invoke = bot.personal(COORDINATOR, None, type="invoke", name="task/fetch", value={})
            for body in (typing, reaction):
                assert (await bot.post(body))[0] == 200
            assert (await bot.post(other_invoke)) == (200, {})
            assert sqlite_store.inbox.pending_count() == 0
            async with bot.client.post("/api/messages", data="x", headers={"Content-Type": "text/plain"}) as response:
                assert response.status == 415
            async with bot.client.post(
                "/api/messages", data="{", headers={"Content-Type": "application/json"}
            ) as response:
                assert response.status == 400


def _inbox_event(store: SqlStore, event_id: str) -> dict[str, Any]:
    from sqlmodel import Session, select

    from storage.tables import InboxEventRow

    with Session(store.engine) as session:
        row = session.execute(select(InboxEventRow).where(InboxEventRow.event_id == event_id)).scalar_one()
        return dict(row.payload)


async def test_a_directory_person_is_linked_by_email_on_first_contact(store: SqlStore) -> None:
    """Priya is in the HR import by email only; her first message links her Teams account to that person."""
    from test_teams_harness import Member

    priya = Member("c0ffee00-0000-4000-8000-000000000009", "29:priya", "Priya Shah", "priya@example.com", 3)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        existing = uow.people.add(NewPerson(tenant_id=tenant.id, name="Priya Shah", email=priya.email, title="Analyst"))
    member = {
        "id": priya.account,
        "name": "Priya S.",
        "aadObjectId": priya.aad,
        "email": "Priya@Example.com",
        "userPrincipalName": "priya@example.com",
        "tenantId": TENANT,
    }
    with FakeTeams(members={priya.account: member}) as fake:
        async with TeamsBot(store, fake) as bot:
            assert await bot.say(priya, "help") == 200
            assert await bot.say(priya, "my-data") == 200
            await bot.work()
            assert person_id(store, priya) == existing.id
            with store.unit_of_work() as uow:
                assert len(uow.people.in_tenant(tenant.id)) == 1
                assert uow.people.get(existing.id).title == "Analyst"  # what the HR import set wins
            assert len([p for p in fake.posts if p.path == "members"]) == 1  # looked up once


async def test_a_message_back_is_read_by_its_value_or_else_its_text(sqlite_store: SqlStore) -> None:
    """A ``messageBack`` button (spec: a message with ``text`` and ``value``): the card data wins, else the text."""
    seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            pressed = bot.personal(
                COORDINATOR, "Yes, I'm in", value={"rmbot_action": "consent", "rmbot_value": "9:accept"}
            )
            typed = bot.personal(COORDINATOR, "program list", value={"some": "other card"})
            for body in (pressed, typed):
                assert (await bot.post(body))[0] == 200
            assert _inbox_event(sqlite_store, pressed["id"])["action"] == {
                "id": "consent",
                "value": "9:accept",
                "values": {},
            }
            assert _inbox_event(sqlite_store, typed["id"])["text"] == "program list"

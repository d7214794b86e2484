"""What Teams itself tells the bot, and what Teams itself does with what the bot sends (issue #18, items 7,
9 and 11), over HTTP with signed activities against the fake connector:

* the person's time zone (``clientInfo.timezone``, ``localTimezone``) fills a record that has none, is
  shown for confirmation in the intake, and never replaces a zone the directory or the person gave;
* an announcement is a new post in the channel, never a reply in the thread where it was asked for;
* a multi-select keeps the questionnaire's maximum: the card says it, and a card submitted over it is
  refused inside the card, with the engine's words, without reaching the engine.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.teams import auth, cards
from adapters.teams.limits import over_limit, refused_card
from adapters.teams.tokens import ClientCredentials
from bot.flows.definition import load_flow
from bot.model import Address, Choice, Form, FormField, OutgoingMessage
from bot.wording import say
from fake_teams import LOGIN_URL, FakeTeams
from storage import teams_references as refs
from storage.store import SqlStore
from test_teams_harness import (
    APP_ID,
    BOT,
    CHANNEL,
    COORDINATOR,
    MENTOR,
    TENANT,
    Member,
    TeamsBot,
    assert_valid_card,
    buttons,
    card_text,
    person_id,
    seed,
    walk,
)

INDIA = "Asia/Kolkata"


class SignedBot(TeamsBot):
    """The bot with an app id: every activity carries a Bot Framework token, signed as Teams signs them."""

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        token = self.fake.token(APP_ID, self.fake.service_url)
        return await super().post(activity, {"Authorization": f"Bearer {token}", **(headers or {})})


@asynccontextmanager
async def signed_bot(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SignedBot]:
    """A single-tenant bot checking every token; its own token for the connector comes from the fake."""
    with FakeTeams() as fake:
        monkeypatch.setattr(
            auth, "ClientCredentials", functools.partial(ClientCredentials, http_client=fake.login_client())
        )
        credentials = {
            "microsoft_app_id": APP_ID,
            "microsoft_app_password": "not-a-real-secret",
            "microsoft_app_type": "SingleTenant",
            "microsoft_app_tenant_id": TENANT,
            "teams_enabled": False,
            "teams_openid_metadata_url": fake.openid_url,
            "teams_login_url": LOGIN_URL,
        }
        bot = SignedBot(store, fake, **credentials)
        async with bot:
            yield bot


def from_zone(body: dict[str, Any], zone: str, local: str | None = None) -> dict[str, Any]:
    """``body`` as sent from a device in ``zone`` (``local``: a different ``localTimezone``; an empty zone is
    left out, as Teams does)."""
    client = {"type": "clientInfo", "locale": "en-IN", "country": "IN", "platform": "Web", "timezone": zone}
    body["entities"] = [client if zone else {k: v for k, v in client.items() if k != "timezone"}]
    local = zone if local is None else local
    body.pop("localTimezone", None)
    if local:
        body["localTimezone"] = local
    return body


def zone_of(store: SqlStore, member: Member) -> str:
    with store.unit_of_work() as uow:
        person = uow.people.get(person_id(store, member))
        assert person is not None
        return person.time_zone


def set_zone(store: SqlStore, member: Member, zone: str) -> None:
    with store.unit_of_work() as uow:
        person = uow.people.get(person_id(store, member))
        assert person is not None
        person.time_zone = zone
        uow.people.save(person)


async def invited_and_consented(bot: SignedBot, member: Member, zone: str = "Europe/London") -> dict[str, Any]:
    """``member`` installs the app and presses "I'm in" on the invitation, from a device in ``zone``;
    returns the card of the intake's first question."""
    await bot.install(COORDINATOR)
    assert (await bot.post(from_zone(bot.installed(member), zone)))[0] == 200
    await bot.say(COORDINATOR, f"invite {member.email} as mentor")
    await bot.work()
    consent = bot.cards_for(member)[-1]
    accept = next(data for title, data in buttons(consent).items() if "in" in title.lower())
    assert (await bot.post(from_zone(bot.submit(member, accept), zone)))[0] == 200
    await bot.work()
    return bot.cards_for(member)[-1]


# -- 7: the time zone Teams reports -----------------------------------------------------------------------


async def test_a_person_without_a_zone_gets_the_one_teams_reports_and_confirms_it_in_the_intake(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)
    async with signed_bot(store, monkeypatch) as bot:
        assert zone_of(store, MENTOR) == "UTC"  # the HR import had none
        first = await invited_and_consented(bot, MENTOR, INDIA)
        assert zone_of(store, MENTOR) == INDIA
        assert f"Time zone {INDIA}" in card_text(first) and "Are your time zone and working hours right?" in card_text(
            first
        )


async def test_a_zone_from_the_directory_or_the_intake_is_never_replaced(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = seed(store)
    set_zone(store, MENTOR, "America/New_York")
    async with signed_bot(store, monkeypatch) as bot:
        first = await invited_and_consented(bot, MENTOR, INDIA)
        assert zone_of(store, MENTOR) == "America/New_York"
        assert "Time zone America/New_York" in card_text(first)
        # someone who confirmed UTC in an intake keeps it, wherever their laptop says they are
        set_zone(store, MENTOR, "UTC")
        with store.unit_of_work() as uow:
            place = uow.participants.find(programme, person_id(store, MENTOR))
            assert place is not None
            place.intake = {"profile_ok": True}
            uow.participants.save(place)
        assert (await bot.post(from_zone(bot.personal(MENTOR, "help"), INDIA)))[0] == 200
        await bot.work()
        assert zone_of(store, MENTOR) == "UTC"


@pytest.mark.parametrize(
    "sent, local, kept",
    [
        ("Asia/Kolkata", None, INDIA),
        ("asia/kolkata", None, INDIA),  # spelt in another case: the IANA name is stored
        ("GMT Standard Time", "Europe/London", "Europe/London"),  # a Windows name: the activity's own zone
        ("UTC+05:30", "", "UTC"),
        ("../../../etc/passwd", "Not/AZone", "UTC"),
        ("", "", "UTC"),
    ],
)
async def test_only_a_real_iana_zone_is_taken(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch, sent: str, local: str | None, kept: str
) -> None:
    seed(sqlite_store)
    async with signed_bot(sqlite_store, monkeypatch) as bot:
        assert (await bot.post(from_zone(bot.personal(MENTOR, "help"), sent, local)))[0] == 200
        await bot.work()
        assert zone_of(sqlite_store, MENTOR) == kept
        assert any("help" in card_text(c).lower() for c in bot.cards_for(MENTOR))


# -- 9: announcements are new posts in the channel ---------------------------------------------------------


def team_channel_message(bot: SignedBot, text: str) -> dict[str, Any]:
    """A coordinator's channel message (in a thread of General) that @mentions the bot and names General."""
    body = bot.channel(COORDINATOR, text, mentions=[("General", CHANNEL, "")])
    body["channelData"]["channel"] = {"id": CHANNEL, "name": "General"}
    return body


async def test_an_announcement_asked_for_in_a_thread_is_a_new_post_in_the_channel(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)
    async with signed_bot(store, monkeypatch) as bot:
        await bot.install(COORDINATOR)
        body = team_channel_message(bot, "program announce <at>General</at>")
        assert body["conversation"]["id"] == f"{CHANNEL};messageid={body['id']}"
        assert (await bot.post(body))[0] == 200
        await bot.work()
        [post] = [p for p in bot.fake.attempts() if not p.conversation.startswith("a:")]
        assert post.conversation == CHANNEL and post.reply_to == "" and post.body["conversation"]["id"] == CHANNEL
        [call] = bot.fake.cards(CHANNEL)
        assert_valid_card(call)
        assert "volunteers" in card_text(call).lower()
        kept = refs.conversation(store.engine, TENANT, CHANNEL)
        assert kept is not None and kept.name == "General"  # the channel, not the thread


async def test_a_channel_reference_kept_with_a_thread_still_posts_anew(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_store)
    async with signed_bot(sqlite_store, monkeypatch) as bot:
        await bot.install(COORDINATOR)
        thread = f"{CHANNEL};messageid=1617000000001"
        reference = {
            "tenant_key": TENANT,
            "conversation_id": thread,
            "conversation_type": "channel",
            "service_url": bot.fake.service_url,
            "bot_id": BOT,
            "name": "General",
        }
        sqlite_store.teams.remember(TENANT, reference, [])  # as stored before channel ids were kept whole
        assert await bot.say(COORDINATOR, "program announce #general") == 200
        await bot.work()
        [post] = [p for p in bot.fake.attempts() if not p.conversation.startswith("a:")]
        assert (post.conversation, post.reply_to) == (CHANNEL, "")


# -- 11: the card keeps the engine's limit on a multi-select ------------------------------------------------


async def teach_topics_card(bot: SignedBot) -> dict[str, Any]:
    """The mentor's intake up to "What could you teach?": consent, then "yes" to the directory details."""
    first = await invited_and_consented(bot, MENTOR)
    assert (await bot.post(bot.execute(MENTOR, buttons(first)["Yes"])))[0] == 200
    await bot.work()
    card = bot.cards_for(MENTOR)[-1]
    assert "What could you teach" in card_text(card)
    return card


def choice_set(card: dict[str, Any]) -> dict[str, Any]:
    [found] = [e for e in walk(card["body"]) if e.get("type") == "Input.ChoiceSet"]
    return found


async def test_the_card_says_the_limit_and_refuses_more_choices_inside_the_card(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)
    limit = next(s.max_selected for s in load_flow("intake").steps if s.id == "teach_topics")
    assert limit == 5
    async with signed_bot(store, monkeypatch) as bot:
        card = await teach_topics_card(bot)
        topics = choice_set(card)
        assert topics["isMultiSelect"] is True and topics["label"] == f"Pick up to {limit}"
        send = buttons(card)["Send"]
        assert send["rmbot_limits"] == {"rmbot_answer": limit}
        values = [c["value"] for c in topics["choices"]]
        too_many = ",".join(values[: limit + 2])

        status, answer = await bot.post(bot.execute(MENTOR, {**send, "rmbot_answer": too_many}, id="over-1"))
        assert status == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
        refreshed = answer["value"]
        assert_valid_card(refreshed)
        shown = card_text(refreshed)
        assert say("input.too_many", maximum=limit) in shown and "What could you teach" in shown
        assert choice_set(refreshed)["value"] == too_many  # what was ticked is still ticked, to untick two
        assert buttons(refreshed)["Send"] == send  # and the card can be sent again
        assert bot.inbox_status("over-1") is None  # never reached the engine
        sent = len(bot.fake.attempts())
        await bot.work()
        assert len(bot.fake.attempts()) == sent  # so nothing was answered in the chat either

        status, answer = await bot.post(bot.execute(MENTOR, {**send, "rmbot_answer": ",".join(values[:limit])}))
        assert status == 200 and answer["type"] == "application/vnd.microsoft.activity.message"
        await bot.work()
        assert "What could you teach" not in card_text(bot.cards_for(MENTOR)[-1])  # the next question
        with store.unit_of_work() as uow:
            tenant = uow.tenants.ensure("teams", TENANT)
            state = uow.conversations.load(tenant.id, person_id(store, MENTOR))
        assert str(values[:limit]) in str(state)


async def test_an_older_client_without_card_refresh_hears_the_same_limit_from_the_engine(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_store)
    async with signed_bot(sqlite_store, monkeypatch) as bot:
        card = await teach_topics_card(bot)
        send = buttons(card)["Send"]
        values = [c["value"] for c in choice_set(card)["choices"]]
        status, answer = await bot.post(bot.submit(MENTOR, {**send, "rmbot_answer": ",".join(values[:7])}))
        assert (status, answer) == (200, None)  # Action.Submit: a message, answered in the chat
        await bot.work()
        refusals = [c for c in bot.cards_for(MENTOR) if say("input.too_many", maximum=5) in card_text(c)]
        assert refusals


def test_a_form_keeps_each_fields_own_limit() -> None:
    """In a form, each multi-select shows and carries its own limit (from its definition, not a constant)."""
    choices = [Choice(label=f"Topic {n}", action="", value=f"t{n}") for n in range(1, 5)]
    form = Form(
        action="demo.save",
        title="Your topics",
        fields=[
            FormField(id="few", label="Two at most", kind="multi_choice", choices=choices, max_selected=2),
            FormField(id="any", label="As many as you like", kind="multi_choice", choices=choices, max_selected=4),
        ],
    )
    message = OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="k", text="Topics", form=form)
    [card] = cards.render(message, "7")
    assert_valid_card(card)
    labels = [e["label"] for e in walk(card["body"]) if e.get("type") == "Input.ChoiceSet"]
    assert labels == ["Two at most (pick up to 2)", "As many as you like"]
    submit = buttons(card)["Submit"]
    assert submit["rmbot_limits"] == {"rmbot_f_few": 2}
    assert over_limit({**submit, "rmbot_f_few": "t1,t2", "rmbot_f_any": "t1,t2,t3,t4"}) is None
    overrun = over_limit({**submit, "rmbot_f_few": "t1,t2,t3"})
    assert overrun is not None and (overrun.input_id, overrun.maximum, overrun.picked) == ("rmbot_f_few", 2, 3)
    refusal = say("input.too_many", maximum=2)
    refused = refused_card([card], {**submit, "rmbot_f_few": "t1,t2,t3", "rmbot_f_any": "t4"}, overrun, refusal)
    assert refused is not None
    assert_valid_card(refused)
    items = [e for e in walk(refused["body"]) if e.get("id") == "rmbot_controls"][0]["items"]
    at = next(i for i, e in enumerate(items) if e.get("id") == "rmbot_f_few")
    assert card_text({"body": [items[at + 1]]}) == refusal
    assert [e.get("value") for e in items if e.get("type") == "Input.ChoiceSet"] == ["t1,t2,t3", "t4"]

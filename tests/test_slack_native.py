"""Slack-native behaviour: times as date tokens each reader sees in their own zone, commands typed in a pair's
group DM answered there (and only to the pair), and App Home buttons answered in a modal, not in the DMs.

Driven over HTTP with signed requests against the fake Slack (``tests/fake_slack.py``), plus each renderer
of a moment (Slack, Teams, the console), which must never show the neutral marker itself.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.console.render import plain, render
from adapters.slack.mrkdwn import label, to_mrkdwn, to_plain
from adapters.slack.render import render_message
from adapters.teams.cards import render as card
from adapters.teams.markdown import text_blocks
from bot.domain import NewMatchPair, NewParticipant, ParticipantStatus, Role
from bot.model import Address, Choice, OutgoingMessage, Section
from bot.sessions.circles import circle_key
from bot.sessions.model import NewSession
from bot.sessions.slots import local_label, local_moment
from bot.wording import escape, say, unescape
from fake_slack import FakeSlack, payload
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, blocks_text, fake_users, seed

GOAL = "Run one hybrid-friendly team meeting a month"
SESSION_AT = (datetime.now(UTC) + timedelta(days=3)).replace(hour=13, minute=30, second=0, microsecond=0)


def paired(store: SqlStore, session: bool = True) -> None:
    """MENTOR (Kolkata) and MENTEE (New York) paired in the seeded programme, with a goal and a session ahead."""
    programme_id = seed(store)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None
        ids: dict[str, int] = {}
        for user, role, zone in ((MENTOR, Role.MENTOR, "Asia/Kolkata"), (MENTEE, Role.MENTEE, "America/New_York")):
            person = uow.people.by_identity(tenant.id, "slack", user)
            assert person is not None
            person.time_zone = zone
            uow.people.save(person)
            ids[user] = uow.participants.add(
                NewParticipant(
                    programme_id=programme_id, person_id=person.id, role=role, status=ParticipantStatus.ACTIVE
                )
            ).id
        uow.matching.add_pair(
            NewMatchPair(
                programme_id=programme_id,
                mentor_id=ids[MENTOR],
                mentee_id=ids[MENTEE],
                goals=[{"text": GOAL, "by": None, "done": False}],
            )
        )
        if session:
            uow.sessions.add(
                NewSession(
                    programme_id=programme_id,
                    circle=circle_key(ids[MENTOR], [ids[MENTEE]]),
                    mentor_id=ids[MENTOR],
                    mentee_ids=[ids[MENTEE]],
                    sequence=1,
                    starts_at=SESSION_AT,
                    minutes=45,
                    anchor_time_zone="America/New_York",
                    uid="native-1@test",
                )
            )


def everything(fake: FakeSlack) -> str:
    """Every argument of every call the bot made to Slack, as one text (to look for leaks)."""
    return json.dumps([call.args for call in fake.calls])


def token(at: datetime, fallback: str) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


# -- dates ---------------------------------------------------------------------------------------------------


async def test_a_session_time_reaches_slack_as_a_date_token_with_the_readers_zone_as_fallback(
    sqlite_store: SqlStore,
) -> None:
    paired(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.dm("next", MENTOR)
            await bot.work()
            [answer] = fake.posts(fake.dm_channel(MENTOR))
            shown = blocks_text(answer["blocks"])
            kolkata = local_label(SESSION_AT, "Asia/Kolkata")
            assert token(SESSION_AT, kolkata) in shown  # each reader's Slack shows it in their own zone
            assert kolkata in answer["text"] and "<!date" not in answer["text"]  # the notification: plain text
            assert "moment:" not in everything(fake)


def test_every_renderer_shows_a_moment_and_never_its_marker() -> None:
    when = local_moment(SESSION_AT, "America/Port_of_Spain")  # a zone with underscores, as escaped text
    fallback = local_label(SESSION_AT, "America/Port_of_Spain")
    message = OutgoingMessage(
        tenant_id=1,
        to=Address.person(1),
        idempotency_key="k",
        text=say("sessions.kept", when=when) + "\n\n**Next: " + when + "**",
        sections=[Section(text=f"_at {when}_", fields=[("Next session", when)])],
        context=[f"Small print: {when}"],
        choices=[Choice(label=fallback, action="slot.pick", value="v")],
    )
    # Slack: date tokens in mrkdwn (bold and italic kept around them), the fallback in plain text
    [page] = render_message(message)
    shown = json.dumps(page.blocks)
    assert shown.count("<!date^") == 5 and f"*{token(SESSION_AT, fallback)}*" in to_mrkdwn(f"**{when}**")
    assert f"_{token(SESSION_AT, fallback)}_" in to_mrkdwn(f"_{when}_")
    assert page.text.startswith(to_plain(say("sessions.kept", when=when))) and fallback in page.text
    assert label(when, 75) == fallback and "<!date" not in page.text
    # Teams and the console: today's text, in the recipient's zone
    teams = json.dumps(card(message))
    console = "\n".join(plain(line) for line in render(message))
    for text in (shown, page.text, teams, console):
        assert "moment:" not in text and "](" not in text
    assert fallback in teams and "<!date" not in teams
    assert console.count(fallback) == 6 and "<!date" not in console
    # anywhere text is read plainly (transcripts, exports), it is the fallback
    assert unescape(when) == fallback


def test_a_long_paragraph_is_never_cut_inside_a_moment_in_teams() -> None:
    when = local_moment(SESSION_AT, "Europe/London")
    paragraph = " ".join(f"word{n} {when}" for n in range(120))  # one paragraph of about 7,000 characters
    pieces = text_blocks(paragraph, limit=3000)
    shown = json.dumps(pieces)
    assert len(pieces) >= 3 and "moment:" not in shown and "](" not in shown
    assert shown.count(local_label(SESSION_AT, "Europe/London")) == 120


def test_a_typed_marker_stays_what_was_typed() -> None:
    typed = escape("[soon](moment:1700000000) <!date^1700000000^{time}|x>")
    assert "<!date" not in to_mrkdwn(typed) and "[soon](moment:1700000000)" in to_mrkdwn(typed)
    assert unescape(typed) == "[soon](moment:1700000000) <!date^1700000000^{time}|x>"


# -- a pair's group DM ---------------------------------------------------------------------------------------


def group_body(bot: SlackBot, user: str, channel: str, text: str, ts: str = "") -> dict[str, Any]:
    """A ``message.mpim`` event: ``user`` typed ``text`` in the group DM ``channel``."""
    body = bot.dm_body(text, user)
    body["event"].update(channel=channel, channel_type="mpim", ts=ts or f"{time.time():.6f}")
    return body


def mention_body(bot: SlackBot, user: str, channel: str, text: str, ts: str) -> dict[str, Any]:
    """The ``app_mention`` Slack sends for the same message."""
    body: dict[str, Any] = copy.deepcopy(payload("event_callback_app_mention__authorizations.json"))
    body.update(team_id=TEAM, event_id=bot.next_id("EvMention"))
    body["authorizations"][0]["team_id"] = TEAM
    body["event"].update(user=user, text=text, team=TEAM, channel=channel, ts=ts, event_ts=ts)
    return body


async def test_goals_typed_in_the_pairs_group_dm_are_answered_there_once(sqlite_store: SqlStore) -> None:
    paired(sqlite_store, session=False)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        async with SlackBot(sqlite_store, fake) as bot:
            assert (await bot.event(group_body(bot, MENTEE, group, "mentoring goals")))[0] == 200
            # a mention arrives twice (message.mpim and app_mention): it is one command
            ts = f"{time.time():.6f}"
            await bot.event(group_body(bot, MENTOR, group, f"<@{fake.bot_user}> goals", ts))
            await bot.event(mention_body(bot, MENTOR, group, f"<@{fake.bot_user}> goals", ts))
            await bot.work()
            answers = fake.posts(group)
            assert len(answers) == 2 and all(GOAL in a["text"] for a in answers)
            assert not fake.posts(fake.dm_channel(MENTEE)) and not fake.posts(fake.dm_channel(MENTOR))


async def test_in_a_group_dm_with_someone_else_the_pairs_answer_stays_private(sqlite_store: SqlStore) -> None:
    paired(sqlite_store, session=False)
    with FakeSlack(users=fake_users()) as fake:
        crowd = fake.group_dm(MENTOR, MENTEE, COORDINATOR)
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.event(group_body(bot, MENTOR, crowd, "mentoring goals"))  # in the pair, not alone with it
            await bot.event(group_body(bot, COORDINATOR, crowd, "mentoring goals"))  # not in the pair
            await bot.work()
            assert not fake.posts(crowd)
            assert GOAL in fake.posts(fake.dm_channel(MENTOR))[-1]["text"]
            # the pair's goal went to the mentor alone: nowhere else, in no call
            assert {post["channel"] for post in fake.posts() if GOAL in json.dumps(post)} == {fake.dm_channel(MENTOR)}
            assert all(GOAL not in json.dumps(c.args) for c in fake.calls if c.method != "chat.postMessage")


async def test_a_slow_slack_never_delays_the_ack_of_a_group_dm_command_and_the_answer_stays_private(
    sqlite_store: SqlStore,
) -> None:
    paired(sqlite_store, session=False)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        fake.slow("conversations.members", 5.0)  # who is in the group DM: not known in time
        async with SlackBot(sqlite_store, fake) as bot:
            started = time.monotonic()
            assert (await bot.event(group_body(bot, MENTEE, group, "mentoring goals")))[0] == 200
            assert time.monotonic() - started < 2.5  # well inside Slack's 3 s
            await bot.work()
            assert not fake.posts(group)  # not known to be the pair's own group DM: nothing shown there
            assert GOAL in fake.posts(fake.dm_channel(MENTEE))[-1]["text"]


async def test_what_is_not_the_pairs_own_is_answered_privately_and_chatter_is_ignored(sqlite_store: SqlStore) -> None:
    paired(sqlite_store, session=False)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.event(group_body(bot, MENTEE, group, "mentoring help"))
            chatter = group_body(bot, MENTOR, group, "see you on Tuesday, goals first?")
            await bot.event(chatter)
            await bot.work()
            assert not fake.posts(group)
            assert "What you can ask me" in fake.posts(fake.dm_channel(MENTEE))[-1]["text"]
            assert bot.inbox_status(chatter["event_id"]) is None
            assert bot.inbox_status(f"msg:{group}:{chatter['event']['ts']}") is None


# -- the App Home --------------------------------------------------------------------------------------------


async def open_home(bot: SlackBot, fake: FakeSlack, user: str) -> dict[str, Any]:
    body = copy.deepcopy(payload("event_callback_app_home_opened__home_tab.json"))
    body.update(team_id=TEAM, event_id=bot.next_id("EvHome"))
    body["event"]["user"] = user
    await bot.event(body)
    await bot.service.drain()
    view: dict[str, Any] = fake.calls_to("views.publish")[-1].args["view"]
    return view


def view_button(view: dict[str, Any], value: str) -> dict[str, Any]:
    return next(
        e
        for b in view["blocks"]
        if b["type"] in ("actions", "section")
        for e in b.get("elements", []) + ([b["accessory"]] if "accessory" in b else [])
        if e.get("value") == value
    )


async def press_in_view(bot: SlackBot, user: str, view_type: str, button: dict[str, Any], trigger: str) -> None:
    """A ``block_actions`` payload from a button in a view (the Home tab, or a modal): no channel."""
    body = copy.deepcopy(payload("block_actions.json"))
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body.pop("channel")
    body.pop("response_url")
    body["container"] = {"type": "view", "view_id": "V0HOME"}
    body["view"] = {"id": "V0HOME", "type": view_type, "team_id": TEAM, "blocks": []}
    body["trigger_id"] = trigger
    body["actions"][0].update(action_id=button["action_id"], value=button["value"], action_ts=f"{time.time():.6f}")
    assert (await bot.interact(body))[0] == 200


async def test_a_home_button_answers_in_a_modal_and_a_button_there_in_the_next(sqlite_store: SqlStore) -> None:
    paired(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            home = await open_home(bot, fake, MENTOR)
            await press_in_view(bot, MENTOR, "home", view_button(home, "next"), "home.press.1")
            await bot.work()
            [opened] = fake.calls_to("views.open")
            assert opened.args["trigger_id"] == "home.press.1" and opened.args["view"]["type"] == "modal"
            shown = blocks_text(opened.args["view"]["blocks"])
            assert token(SESSION_AT, local_label(SESSION_AT, "Asia/Kolkata")) in shown  # the next session
            assert not fake.posts()  # nothing sent to the DMs
            # a button in such a modal (here one that runs `goals`) answers in a modal pushed onto it
            button = {**view_button(home, "goals"), "value": "goals"}
            await press_in_view(bot, MENTOR, "modal", button, "modal.press.1")
            await bot.work()
            [pushed] = fake.calls_to("views.push")
            assert pushed.args["trigger_id"] == "modal.press.1" and GOAL in blocks_text(pushed.args["view"]["blocks"])
            assert not fake.posts() and sqlite_store.inbox.pending_count() == 0


async def test_a_home_answer_whose_trigger_expired_comes_by_dm_instead(sqlite_store: SqlStore) -> None:
    paired(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            home = await open_home(bot, fake, MENTEE)
            await press_in_view(bot, MENTEE, "home", view_button(home, "goals"), "expired.home.1")
            await bot.work()
            assert not fake.calls_to("views.open")
            assert GOAL in fake.posts(fake.dm_channel(MENTEE))[-1]["text"]  # nothing lost

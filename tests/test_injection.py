"""Platform markup in what people type stays inert, end to end through the engine, on every platform.

A participant puts Slack control sequences, markdown links, Teams mentions, Rich console markup and
template syntax into goals, agenda items, intake answers and their name; everything the bot then sends
to anyone is rendered for Slack, Teams and the terminal and must show that text literally: no live
mention, channel, broadcast or link in Slack's mrkdwn (``&lt;`` escapes), no link or mention in an
Adaptive Card, no styling in the terminal, no template evaluated. (Unit-level escaping is tested in
``test_markup.py``, ``test_slack_render.py`` and ``test_teams_cards.py``; a programme name typed in
Slack in ``test_slack_flow.py``.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapters.console.render import plain
from adapters.console.render import render as console_render
from adapters.slack.render import render_message
from adapters.teams import cards
from bot.clock import OffsetClock
from bot.directory import parse_directory
from bot.model import OutgoingMessage
from chat import Chat
from directory_support import existing_managers, import_directory
from fake_slack import FakeSlack
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_intake import MENTEE_ANSWERS, START, answer_all, join
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, pair_up
from test_slack_harness import TEAM, SlackBot, fake_users, seed
from test_teams_harness import COORDINATOR as TEAMS_COORDINATOR
from test_teams_harness import MENTEE as TEAMS_MENTEE
from test_teams_harness import TENANT, TeamsBot, walk
from test_teams_harness import seed as seed_teams

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C123>",
    "*bold*",
    "<https://evil.example|click me>",
    "[click](https://evil.example)",
    "**x**",
    "@everyone",
    "<at>Someone</at>",
    "[bold red]x[/]",
    "${x}",
    "{{ 7 * 7 }}",
    "_it_ `code` ~strike~ &amp; &lt;",
]
NAME = "Eve <!channel> <@U123> <#C123> *b* [c](https://evil.example) <at>S</at> [bold red]x[/] ${x} {{ 7 * 7 }}"
LIVE_IN_SLACK = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<https://evil.example")


# -- what each platform would show, checked for live markup ------------------------------------------


def _mrkdwn(value: Any) -> list[str]:
    """The mrkdwn texts of Block Kit blocks (where Slack parses mentions, channels and links)."""
    found: list[str] = []
    for element in walk(value):
        text = element.get("text")
        if isinstance(text, str) and element.get("type") == "mrkdwn":
            found.append(text)
    return found


def slack_shows(text: str, blocks: list[dict[str, Any]]) -> str:
    """What Slack shows for a post, after checking that it holds no live mention, channel or link."""
    parsed = [text, *_mrkdwn(blocks)]
    for piece in parsed:
        for token in LIVE_IN_SLACK:
            assert token not in piece, (token, piece)
    return "\n".join(parsed).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def teams_shows(card: dict[str, Any]) -> str:
    """What Teams shows for a card, after checking that nobody's text became a link, a mention or a template."""
    assert "msteams" not in card and "$data" not in json.dumps(card)  # no mention entities, no templating
    shown: list[str] = []
    for element in walk(card):
        assert "evil.example" not in str(element.get("url", "")), element
        if element.get("type") == "TextRun":
            assert "evil.example" not in json.dumps(element.get("selectAction", "")), element
            shown.append(element["text"])
        markdown = (
            [element["text"]]
            if element.get("type") == "TextBlock"
            else [element["title"], element["value"]]
            if "title" in element and "value" in element
            else []
        )
        for field in markdown:  # these fields are read as markdown by Teams
            assert not re.search(r"(?<!\\)(<at>|\]\(https://evil)", field), field
            shown.append(re.sub(r"\\(.)", r"\1", field))
    return "\n".join(shown)


def console_shows(message: OutgoingMessage) -> str:
    return plain("\n".join(console_render(message)))


def assert_inert(messages: list[OutgoingMessage], *typed: str) -> None:
    """Every message is inert on every platform, and each typed text is shown literally on each of them."""
    seen: dict[str, list[str]] = {"slack": [], "teams": [], "console": []}
    for message in messages:
        seen["slack"] += [slack_shows(page.text, page.blocks) for page in render_message(message)]
        seen["teams"] += [teams_shows(card) for card in cards.render(message)]
        seen["console"].append(console_shows(message))
    for platform, shown in seen.items():
        for text in typed:
            assert any(text in s for s in shown), (platform, text, shown[-3:])


def since(chat: Chat, email: str, count: int) -> list[OutgoingMessage]:
    return chat.received(email)[count:]


# -- through the engine -------------------------------------------------------------------------------


def test_goals_and_agenda_items_reach_both_partners_as_typed(chat: Chat) -> None:
    pair_up(chat)
    start = {who: len(chat.received(who)) for who in (MENTOR, MENTEE)}
    typed = [f"Try {payload} daily" for payload in HOSTILE]
    for text in typed:
        assert "Saved" in chat.send(MENTEE, f"goals add {text}")[0]
    confirm_first(chat)
    for text in typed:
        assert "Added to the agenda" in chat.send(MENTEE, f"agenda add {text}")[0]
    for command in ("goals", "agenda", "next"):
        chat.send(MENTOR, command)
    assert_inert(since(chat, MENTOR, start[MENTOR]), *typed)
    assert_inert(since(chat, MENTEE, start[MENTEE]), *typed)


@pytest.fixture
def intake_chat(store: SqlStore) -> Chat:
    chat = Chat(store, OffsetClock(start=START))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-01-15", "2030-07-15")
    return chat


def test_free_text_intake_answers_are_shown_back_as_typed(intake_chat: Chat) -> None:
    chat = intake_chat
    learn, goal = " ".join(HOSTILE[:8]), " ".join(HOSTILE[8:])
    join(chat, MENTEE, "mentee")
    start = len(chat.received(MENTEE))
    answers = list(MENTEE_ANSWERS)
    answers[2:4] = [learn, goal]  # what they want to learn, and their goal: free text
    answer_all(chat, MENTEE, answers[:-1])
    chat.send(MENTEE, "review")  # every answer, each with a button to change it
    chat.send(MENTEE, answers[-1])
    assert_inert(since(chat, MENTEE, start), learn, goal)
    assert_inert(chat.received(COORD))


def test_a_name_from_the_hr_directory_is_shown_as_it_is_written(chat: Chat) -> None:
    with chat.store.unit_of_work() as uow:  # the directory is a snapshot: Eve comes with everyone already there
        tenant = uow.tenants.ensure("console", "console")
        everyone = [(p.email, p.name, p.seniority) for p in uow.people.in_tenant(tenant.id) if p.email]
    rows = "\n".join(f'{email},"{name}",{seniority}' for email, name, seniority in everyone)
    parsed = parse_directory(
        f'email,name,seniority\n{rows}\neve@example.com,"{NAME}",2\n', existing_managers(chat.store, tenant.id)
    )
    assert parsed.errors == []
    import_directory(chat.store, tenant.id, parsed.rows)
    start = len(chat.received(COORD))
    chat.send(COORD, "invite eve@example.com as mentor")
    chat.press("eve@example.com", "Yes, I'm in")
    chat.send(COORD, "status")
    assert_inert(since(chat, COORD, start), NAME)
    assert_inert(chat.received("eve@example.com"))


def test_a_coordinators_goal_is_shown_to_participants_as_typed(chat: Chat) -> None:
    goal = "Raise confidence [click](https://evil.example) <!channel> [bold red]x[/] ${x} {{ 7 * 7 }}"
    assert "goal" in chat.send(COORD, f"program edit goal-metric {goal}")[0].lower()
    chat.send(COORD, f"invite @{MENTOR.split('@')[0]} as mentor")
    chat.press(MENTOR, "Yes, I'm in")
    chat.send(MENTOR, "cancel")  # leave the intake: text is a command again
    start = len(chat.received(MENTOR))
    chat.send(MENTOR, "dashboard")
    assert_inert(since(chat, MENTOR, start), goal)


# -- through the platforms ----------------------------------------------------------------------------


def rename(store: SqlStore, platform: str, tenant: str, email: str, name: str) -> None:
    with store.unit_of_work() as uow:
        found = uow.tenants.find(platform, tenant)
        person = uow.people.by_email(found.id, email)  # type: ignore[union-attr]
        person.name = name  # type: ignore[union-attr]
        uow.people.save(person)  # type: ignore[arg-type]


async def test_in_slack_a_hostile_name_and_echoed_text_are_posted_escaped(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    rename(sqlite_store, "slack", TEAM, "daniel@example.com", NAME)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command("invite <@W333> as mentee")
            await bot.dm("&lt;!here&gt; &lt;https://evil.example|click me&gt;", "W111")  # as Slack sends it
            await bot.work()
            shown = [slack_shows(post["text"], post.get("blocks") or []) for post in fake.posts()]
            assert any(NAME in text for text in shown), shown  # the invitation, as the coordinator reads it
            assert any("<!here>" in text for text in shown), shown  # "I don't know <!here>", shown not sent
            assert "<!here>" not in json.dumps(fake.posts())


async def test_in_teams_a_hostile_name_is_never_a_mention_or_a_link(sqlite_store: SqlStore) -> None:
    seed_teams(sqlite_store)
    teams_name = NAME.replace("Eve", "Daniel")
    rename(sqlite_store, "teams", TENANT, TEAMS_MENTEE.email, teams_name)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(TEAMS_COORDINATOR, TEAMS_MENTEE)
            assert await bot.say(TEAMS_COORDINATOR, f"invite {TEAMS_MENTEE.email} as mentee") == 200
            await bot.work()
            shown = [teams_shows(card) for card in bot.cards_for(TEAMS_COORDINATOR)]
            assert any(teams_name in text for text in shown), shown
            for activity in fake.activities():  # no mention entities; the summary is plain text, never parsed
                assert "entities" not in activity and "text" not in activity

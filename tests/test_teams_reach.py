"""Reaching everyone invited in Teams: team rosters read when the app is added to a team, and the app installed
for people through Microsoft Graph when the operator allows it (with the fallback when Graph refuses).

Activities go in over HTTP; the connector is ``tests/fake_teams.py`` and Graph ``tests/fake_graph.py``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from adapters.settings import ConfigurationError, Settings
from adapters.teams.auth import check_settings
from adapters.teams.connector import Connector
from adapters.teams.delivery import TeamsDeliverer
from adapters.teams.graph import GRAPH_SCOPE, PERMISSION, graph_reach
from adapters.teams.pacing import Pacer
from bot.domain import NewPerson
from fake_graph import FakeGraph, GraphUser
from fake_teams import LOGIN_URL, FakeTeams
from storage import teams_references as refs
from storage.store import SqlStore
from storage.teams_references import TeamsAccountRow
from test_teams_delivery import make_due, outbox_rows
from test_teams_harness import (
    APP_ID,
    BOT,
    COORDINATOR,
    MENTEE,
    NEWCOMER,
    TEAM,
    TENANT,
    Member,
    TeamsBot,
    card_text,
    person_id,
    seed,
)

CATALOG_APP_ID = "8a1ed5b8-2c1d-4b8a-9b8e-0e5f3c2d1a00"
LENA = Member("b1c2d3e4-0000-4000-8000-000000000005", "29:lena", "Lena Fischer", "lena@example.com", 2)
"""Invited by email only: the directory has no Teams account for her."""


def member_record(member: Member, email: str = "") -> dict[str, Any]:
    """A roster entry as ``pagedmembers`` returns it (a TeamsChannelAccount)."""
    given, _, surname = member.name.partition(" ")
    return {
        "id": member.account,
        "name": member.name,
        "aadObjectId": member.aad,
        "email": email or member.email,
        "userPrincipalName": email or member.email,
        "givenName": given,
        "surname": surname,
        "tenantId": TENANT,
        "userRole": "user",
    }


def bystanders(count: int) -> list[dict[str, Any]]:
    """Colleagues in the team the directory knows nothing about."""
    return [
        member_record(
            Member(f"c0ffee00-0000-4000-8000-{n:012d}", f"29:bystander-{n}", f"Bystander {n}", f"by{n}@example.com", 3)
        )
        for n in range(count)
    ]


def team_install(bot: TeamsBot, kind: str = "conversationUpdate") -> dict[str, Any]:
    """The app added to a team by the coordinator (``conversationUpdate`` with the bot in ``membersAdded``,
    or ``installationUpdate`` ``add``), in the team's General channel."""
    body = bot.channel(COORDINATOR, "")
    body.update(type=kind, text=None, entities=[])
    body["channelData"]["eventType"] = "teamMemberAdded"
    if kind == "conversationUpdate":
        body["membersAdded"] = [{"id": BOT}]
    else:
        body["action"] = "add"
    return body


def stored_accounts(store: SqlStore) -> set[str]:
    with Session(store.engine) as session:
        return set(session.exec(select(TeamsAccountRow.account_id).where(TeamsAccountRow.tenant_key == TENANT)).all())


def held_for(store: SqlStore, member: Member) -> list[Any]:
    wanted = person_id(store, member)
    return [r for r in outbox_rows(store) if wanted in r.pending and r.status == "pending"]


def add_lena(store: SqlStore) -> int:
    """Lena, known to the directory by email only (an HR import without Teams ids)."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        person = uow.people.add(NewPerson(tenant_id=tenant.id, name=LENA.name, email=LENA.email, seniority=2))
        return person.id


def people_count(store: SqlStore) -> int:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", TENANT)
        return len(uow.people.in_tenant(tenant.id))


async def settled(bot: TeamsBot) -> None:
    """Wait for the roster reads the service started in the background."""
    while bot.service.background:
        await asyncio.gather(*list(bot.service.background))


# -- team rosters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["conversationUpdate", "installationUpdate"])
async def test_adding_the_app_to_a_team_reads_its_roster_and_releases_what_waited(store: SqlStore, kind: str) -> None:
    """Kavya's invitation waits (she has no chat with the bot); the app is added to her team: the roster is read
    page by page (after one 429), her chat is opened and the invitation delivered. Nothing is kept about the
    600 colleagues the directory does not know."""
    seed(store)
    others = bystanders(600)
    roster = [member_record(COORDINATOR), *others[:450], member_record(NEWCOMER), *others[450:]]
    with FakeTeams(allow_create={NEWCOMER.account}, rosters={TEAM: roster}) as fake:
        async with TeamsBot(store, fake) as bot:
            slept: list[float] = []
            bot.service.roster.sleep = slept.append
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            [held] = held_for(store, NEWCOMER)
            assert held.held_for_install and held.not_before > datetime.now(UTC) + timedelta(minutes=10)
            fake.roster_answers.append((429, 0.0))
            assert (await bot.post(team_install(bot, kind)))[0] == 200
            await settled(bot)
            pages = [p for p in fake.posts if p.path == "pagedmembers"]
            assert [p.status for p in pages] == [429, 200, 200] and slept == [0.0]
            assert pages[1].conversation == TEAM and pages[1].body == {"pageSize": "500"}
            assert pages[2].body == {"pageSize": "500", "continuationToken": "500"}
            assert stored_accounts(store) == {COORDINATOR.account, NEWCOMER.account}
            await bot.work()
            [created] = [p for p in fake.posts if p.path == "conversations"]
            assert created.body["members"] == [{"id": NEWCOMER.account}] and created.body["bot"] == {"id": BOT}
            assert created.body["tenantId"] == TENANT
            invitation = fake.cards(f"a:created-{NEWCOMER.account}")
            assert len(invitation) == 1 and "Digital 2030" in card_text(invitation[0])
            assert not held_for(store, NEWCOMER)


async def test_the_roster_links_someone_the_directory_knows_by_email_only(sqlite_store: SqlStore) -> None:
    """Lena was imported without a Teams id; the roster gives her email (in another case), so her Teams account
    is linked and the invitation that waited for her reaches her. Bystanders create nobody."""
    seed(sqlite_store)
    add_lena(sqlite_store)
    roster = [*bystanders(3), member_record(LENA, email="Lena@Example.com")]
    with FakeTeams(allow_create={LENA.account}, rosters={TEAM: roster}) as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite lena@example.com as mentor")
            await bot.work()
            before = people_count(sqlite_store)
            assert not fake.cards(f"a:created-{LENA.account}")
            assert (await bot.post(team_install(bot)))[0] == 200
            await settled(bot)
            await bot.work()
            assert any("Digital 2030" in card_text(c) for c in fake.cards(f"a:created-{LENA.account}"))
            assert person_id(sqlite_store, LENA)  # her Teams account is linked to her directory entry
            assert people_count(sqlite_store) == before
            assert not stored_accounts(sqlite_store) & {m["id"] for m in roster if m["id"] != LENA.account}


async def test_someone_joining_a_team_with_the_app_gets_what_waited(sqlite_store: SqlStore) -> None:
    """Daniel joins a team that has the app (a ``conversationUpdate`` naming him): his waiting invitation goes out."""
    seed(sqlite_store)
    with FakeTeams(allow_create={MENTEE.account}) as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite daniel@example.com as mentee")
            await bot.work()
            assert held_for(sqlite_store, MENTEE)
            joined = team_install(bot)
            joined["membersAdded"] = [{"id": MENTEE.account, "aadObjectId": MENTEE.aad}]
            assert (await bot.post(joined))[0] == 200
            await settled(bot)
            assert not [p for p in fake.posts if p.path == "pagedmembers"]  # the bot was there already
            await bot.work()
            assert any("Digital 2030" in card_text(c) for c in fake.cards(f"a:created-{MENTEE.account}"))


async def test_the_deliverer_reads_the_rosters_again_before_holding_someone(store: SqlStore) -> None:
    """The roster could not be read when the app was added to the team (as if that read were lost with a
    restart), and Lena joined the directory only afterwards: before holding her invitation, the deliverer
    reads the team's roster again, links her by email and reaches her at once. It does not read it again
    for the next person it cannot find within the hour."""
    seed(store)
    with FakeTeams(allow_create={LENA.account}) as fake:
        async with TeamsBot(store, fake) as bot:
            await bot.install(COORDINATOR)
            assert (await bot.post(team_install(bot)))[0] == 200
            await settled(bot)
            assert [p.status for p in fake.posts if p.path == "pagedmembers"] == [404]
            fake.rosters[TEAM] = [*bystanders(2), member_record(LENA)]
            add_lena(store)
            await bot.say(COORDINATOR, "invite lena@example.com as mentor")
            await bot.work()
            assert [p.status for p in fake.posts if p.path == "pagedmembers"] == [404, 200]
            assert any("Digital 2030" in card_text(c) for c in fake.cards(f"a:created-{LENA.account}"))
            assert not install_notes(bot, "Lena Fischer")
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")  # in no roster: held
            await bot.work()
            assert held_for(store, NEWCOMER) and len([p for p in fake.posts if p.path == "pagedmembers"]) == 2


async def test_a_roster_the_connector_refuses_leaves_the_message_held(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams(allow_create={NEWCOMER.account}) as fake:  # no roster: the connector answers 404
        async with TeamsBot(sqlite_store, fake) as bot:
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            assert (await bot.post(team_install(bot)))[0] == 200
            await settled(bot)
            await bot.work()
            [held] = held_for(sqlite_store, NEWCOMER)
            assert held.held_for_install and held.not_before > datetime.now(UTC) + timedelta(minutes=10)
            assert len(install_notes(bot, "Kavya Reddy")) == 1 and not fake.cards(f"a:created-{NEWCOMER.account}")


# -- installing the app through Microsoft Graph -----------------------------------------------------------------


def graph_settings(graph: FakeGraph) -> Settings:
    return Settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password="app-secret",
        microsoft_app_tenant_id=TENANT,
        microsoft_app_type="SingleTenant",
        teams_login_url=LOGIN_URL,
        teams_graph_url=graph.url,
        teams_catalog_app_id=graph.catalog_app_id,
    )


def use_graph(bot: TeamsBot, graph: FakeGraph) -> None:
    """The worker's deliverer as ``make_deliverer`` builds it with the Graph settings (MSAL reaching the fake)."""
    installer = graph_reach(graph_settings(graph), bot.store, http_client=graph.login_client())
    assert installer is not None
    bot.worker.deliverers = [
        TeamsDeliverer(
            bot.store, Connector(timeout=5.0), pacer=Pacer(1000.0), jitter=lambda low, high: 0.0, installer=installer
        )
    ]


def install_notes(bot: TeamsBot, name: str) -> list[dict[str, Any]]:
    return [c for c in bot.cards_for(COORDINATOR) if name in card_text(c) and "installed" in card_text(c)]


def denied_notes(bot: TeamsBot) -> list[dict[str, Any]]:
    return [c for c in bot.cards_for(COORDINATOR) if PERMISSION in card_text(c)]


async def test_graph_installs_the_app_for_someone_unreachable_and_the_invitation_reaches_them(
    store: SqlStore,
) -> None:
    seed(store)
    users = [GraphUser(NEWCOMER.aad, NEWCOMER.email)]
    with FakeTeams() as fake, FakeGraph(CATALOG_APP_ID, users) as graph:
        async with TeamsBot(store, fake) as bot:
            use_graph(bot, graph)
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            [install] = graph.installs()
            assert install.status == 201 and install.path == f"/v1.0/users/{NEWCOMER.aad}/teamwork/installedApps"
            assert install.body == {"teamsApp@odata.bind": f"{graph.url}/appCatalogs/teamsApps/{CATALOG_APP_ID}"}
            assert install.authorization == f"Bearer {graph.issued_token(TENANT)}"
            [(tenant, form)] = graph.token_requests
            assert tenant == TENANT and form["scope"].split() == [GRAPH_SCOPE] and form["client_id"] == APP_ID
            chat = graph.chat_id(NEWCOMER.aad)
            assert any("Digital 2030" in card_text(c) for c in fake.cards(chat))
            assert not install_notes(bot, "Kavya Reddy") and not held_for(store, NEWCOMER)
            stored = refs.personal_chat(store.engine, TENANT, [NEWCOMER.aad])
            assert stored is not None and stored.conversation_id == chat and stored.service_url == fake.service_url


async def test_an_app_installed_already_is_a_conflict_and_its_chat_is_used(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake, FakeGraph(CATALOG_APP_ID, [GraphUser(NEWCOMER.aad, NEWCOMER.email)]) as graph:
        graph.install_for(NEWCOMER.aad)  # she installed it, but the bot never heard of her chat
        async with TeamsBot(sqlite_store, fake) as bot:
            use_graph(bot, graph)
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            assert [c.status for c in graph.installs()] == [409]
            assert any("Digital 2030" in card_text(c) for c in fake.cards(graph.chat_id(NEWCOMER.aad)))


async def test_someone_known_by_email_only_is_installed_for_by_user_principal_name(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    add_lena(sqlite_store)
    with FakeTeams() as fake, FakeGraph(CATALOG_APP_ID, [GraphUser(LENA.aad, LENA.email)]) as graph:
        async with TeamsBot(sqlite_store, fake) as bot:
            use_graph(bot, graph)
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite lena@example.com as mentor")
            await bot.work()
            assert [c.path for c in graph.installs()] == [f"/v1.0/users/{LENA.email}/teamwork/installedApps"]
            assert any("Digital 2030" in card_text(c) for c in fake.cards(graph.chat_id(LENA.aad)))


async def test_graph_throttling_waits_for_retry_after_through_the_outbox(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeTeams() as fake, FakeGraph(CATALOG_APP_ID, [GraphUser(NEWCOMER.aad, NEWCOMER.email)]) as graph:
        async with TeamsBot(sqlite_store, fake) as bot:
            use_graph(bot, graph)
            await bot.install(COORDINATOR)
            graph.answer(429, retry_after=30)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            [waiting] = held_for(sqlite_store, NEWCOMER)
            assert waiting.not_before > datetime.now(UTC) + timedelta(seconds=25) and "429" in waiting.last_error
            assert not fake.cards(graph.chat_id(NEWCOMER.aad)) and not install_notes(bot, "Kavya Reddy")
            make_due(sqlite_store)
            await bot.work()
            assert [c.status for c in graph.installs()] == [429, 201]
            assert len(fake.cards(graph.chat_id(NEWCOMER.aad))) == 1


async def test_without_the_permission_messages_wait_and_coordinators_are_told_once(store: SqlStore) -> None:
    """Graph answers 403: the invitations are held as without Graph, the coordinator hears once that the
    permission is missing (and who must install the app), Graph is not asked again for a while, and each
    person gets what waited as soon as they install the app."""
    seed(store)
    users = [GraphUser(NEWCOMER.aad, NEWCOMER.email), GraphUser(MENTEE.aad, MENTEE.email)]
    with FakeTeams() as fake, FakeGraph(CATALOG_APP_ID, users, granted=False) as graph:
        async with TeamsBot(store, fake) as bot:
            use_graph(bot, graph)
            await bot.install(COORDINATOR)
            await bot.say(COORDINATOR, "invite kavya@example.com as mentor")
            await bot.work()
            await bot.say(COORDINATOR, "invite daniel@example.com as mentee")
            await bot.work()
            await bot.work()
            assert [c.status for c in graph.installs()] == [403]
            [denied] = denied_notes(bot)
            assert "Digital 2030" in card_text(denied) and "administrator" in card_text(denied)
            assert len(install_notes(bot, "Kavya Reddy")) == 1 and len(install_notes(bot, "Daniel Okonkwo")) == 1
            [held] = held_for(store, NEWCOMER)
            assert held.held_for_install
            make_due(store)
            await bot.work()
            assert len(denied_notes(bot)) == 1 and len(graph.installs()) == 1
            await bot.install(NEWCOMER)  # she installs the app herself: what waited is due at once
            await bot.work()
            assert any("Digital 2030" in card_text(c) for c in bot.cards_for(NEWCOMER))


# -- settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "named", "echoed"),
    [
        ({"teams_catalog_app_id": "mentoring-app"}, "TEAMS_CATALOG_APP_ID", "mentoring-app"),
        ({"teams_graph_url": "http://graph.example.com/v1.0"}, "TEAMS_GRAPH_URL", "http://graph.example.com/v1.0"),
        ({"teams_graph_url": "graph.microsoft.com"}, "TEAMS_GRAPH_URL", "graph.microsoft.com"),
        (
            {
                "teams_catalog_app_id": CATALOG_APP_ID,
                "microsoft_app_id": APP_ID,
                "microsoft_app_type": "UserAssignedMSI",
                "microsoft_app_password": "",
            },
            "MICROSOFT_APP_PASSWORD",
            "TEAMS_CATALOG_APP_ID",
        ),
    ],
)
def test_graph_settings_that_cannot_work_stop_start_up_with_one_line(
    values: dict[str, Any], named: str, echoed: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_settings(Settings(teams_enabled=True, **values))
    message = str(refused.value)
    assert named in message and echoed in message and "\n" not in message


def test_graph_is_used_only_when_the_operator_names_the_catalog_app() -> None:
    without = Settings(microsoft_app_id=APP_ID, microsoft_app_password="s", microsoft_app_tenant_id=TENANT)
    check_settings(without)
    assert graph_reach(without, None) is None  # type: ignore[arg-type]
    check_settings(Settings(**{**without.model_dump(), "teams_catalog_app_id": CATALOG_APP_ID}))

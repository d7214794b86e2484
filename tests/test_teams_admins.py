"""Teams: installing the app makes nobody a coordinator; the operator names the first ones in
RMBOT_ADMIN_EMAILS, and they are recognised the first time they write (their member record's email)."""

from __future__ import annotations

from typing import Any

from adapters.settings import load_settings
from adapters.wiring import open_store
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import TENANT, Member, TeamsBot, card_text

LEE = Member("c0ffee00-0000-4000-8000-000000000011", "29:lee", "Lee Park", "lee@contoso.com", 8)
KIM = Member("c0ffee00-0000-4000-8000-000000000012", "29:kim", "Kim Ito", "kim@contoso.com", 8)
NOOR = Member("c0ffee00-0000-4000-8000-000000000013", "29:noor", "Noor Haddad", "noor@contoso.com", 8)


def member_record(member: Member) -> dict[str, Any]:
    return {
        "id": member.account,
        "name": member.name,
        "aadObjectId": member.aad,
        "email": member.email,
        "userPrincipalName": member.email,
        "tenantId": TENANT,
    }


def is_coordinator(store: SqlStore, member: Member) -> bool:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("teams", TENANT)
        person = uow.people.by_identity(tenant.id, "teams", member.aad) if tenant else None
        return person is not None and uow.coordinators.is_tenant_coordinator(tenant.id, person.id)  # type: ignore[union-attr]


def opened(database_url: str, admins: str) -> SqlStore:
    """The store as ``rmbot serve`` opens it (the setting is applied there)."""
    return open_store(load_settings(database_url=database_url, rmbot_admin_emails=admins))


async def test_installing_makes_nobody_a_coordinator_and_admin_emails_are_recognised_on_first_contact(
    database_url: str,
) -> None:
    store = opened(database_url, f"{LEE.email}, {TENANT.upper()}:{KIM.email}")
    members = {m.account: member_record(m) for m in (LEE, KIM, NOOR)}
    try:
        with FakeTeams(members=members) as fake:
            async with TeamsBot(store, fake) as bot:
                await bot.install(NOOR)  # the first to install the app: no role for that
                await bot.work()
                assert not is_coordinator(store, NOOR)
                for member in (NOOR, LEE, KIM):
                    assert await bot.say(member, "help") == 200
                await bot.work()
                assert is_coordinator(store, LEE) and is_coordinator(store, KIM) and not is_coordinator(store, NOOR)
                assert "For coordinators" in card_text(bot.cards_for(LEE)[-1])
                assert "For coordinators" not in card_text(bot.cards_for(NOOR)[-1])
                assert await bot.say(LEE, "program new") == 200  # and she can start at once
                await bot.work()
                assert "is for programme coordinators" not in card_text(bot.cards_for(LEE)[-1])
    finally:
        store.close()


async def test_an_entry_for_another_tenant_is_not_used_here(database_url: str) -> None:
    store = opened(database_url, f"11111111-2222-4333-8444-555555555555:{LEE.email}")
    try:
        with FakeTeams(members={LEE.account: member_record(LEE)}) as fake:
            async with TeamsBot(store, fake) as bot:
                assert await bot.say(LEE, "help") == 200
                await bot.work()
                assert not is_coordinator(store, LEE)
    finally:
        store.close()

"""``rmbot tenant purge`` of a Teams tenant: all of it goes, nothing of the Teams tenant beside it changes.

Both tenants are filled through the real path, activities over HTTP against the fake connector: the people and
programme an HR import would give, the app installed in personal chats (conversation references and accounts),
a command typed in a team channel (the channel's reference), an invitation sent (outbox rows, the send journal)
and pressed (the pressed card's update and its journal row). A reference database holds only the tenant that
must survive. After the purge, the first holds exactly as many rows per table as the reference, every row left
was there, unchanged, before, and nothing names the purged tenant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.commands.programmes import new_programme
from bot.domain import NewPerson
from database_dump import dump
from fake_teams import FakeTeams
from storage.sql import table
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from storage.teams_references import TeamsAccountRow, TeamsConversationRow, TeamsSendRow
from test_teams_harness import COORDINATOR, MENTOR, PEOPLE, TENANT, TeamsBot, buttons
from test_tenant_purge import counts, open_store, purge, rows

OTHER = "5f1d0e7a-2b4c-4c8e-9a61-0d3f2e9b7c55"
"""The Teams tenant that stays."""


class TenantBot(TeamsBot):
    """The harness's bot, its activities coming from the Teams tenant ``tenant``."""

    def __init__(self, store: SqlStore, fake: FakeTeams, tenant: str) -> None:
        super().__init__(store, fake)
        self.tenant = tenant

    def personal(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        body = super().personal(*args, **kwargs)
        body["conversation"]["tenantId"] = self.tenant
        body["channelData"]["tenant"]["id"] = self.tenant
        return body


def seed_tenant(store: SqlStore, tenant_key: str) -> None:
    """A Teams tenant whose HR import linked everyone's AD object id, a coordinator and a programme."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("teams", tenant_key)
        ids = {}
        for member in PEOPLE:
            person = uow.people.add(
                NewPerson(tenant_id=tenant.id, name=member.name, email=member.email, seniority=member.seniority)
            )
            uow.people.link_identity(person, "teams", member.aad)
            ids[member] = person.id
        uow.coordinators.add_tenant_coordinator(tenant.id, ids[COORDINATOR])
        new_programme(uow, tenant.id, "Digital 2030", coordinator_id=ids[COORDINATOR])


async def teams_tenant(store: SqlStore, tenant: str) -> None:
    """A Teams tenant used for a while: installs, a channel command, an invitation sent and pressed."""
    seed_tenant(store, tenant)
    with FakeTeams() as fake:
        async with TenantBot(store, fake, tenant) as bot:
            await bot.install(COORDINATOR, MENTOR)
            channel = bot.channel(COORDINATOR, "program list")
            channel["conversation"]["tenantId"] = channel["channelData"]["tenant"]["id"] = tenant
            assert (await bot.post(channel))[0] == 200
            await bot.say(COORDINATOR, f"invite {MENTOR.email} as mentor")
            await bot.work()
            invitation = [p for p in fake.attempts() if p.conversation == MENTOR.chat][-1]
            accept = buttons(invitation.body["attachments"][0]["content"])["Yes, I'm in"]
            assert (await bot.post(bot.execute(MENTOR, accept, replyToId=invitation.activity_id)))[0] == 200
            await bot.work()
            assert fake.updates(invitation.activity_id)  # the pressed card was updated: a journal row of its own


def teams_rows(store: SqlStore) -> dict[str, list[str]]:
    """The tenant keys of the Teams records, and the keys of the send journal."""
    with store.engine.connect() as connection:
        return {
            "conversations": [str(v) for (v,) in connection.execute(select(table(TeamsConversationRow).c.tenant_key))],
            "accounts": [str(v) for (v,) in connection.execute(select(table(TeamsAccountRow).c.tenant_key))],
            "sends": [str(v) for (v,) in connection.execute(select(table(TeamsSendRow).c.key))],
        }


async def test_purging_a_teams_tenant_deletes_all_of_it_and_nothing_of_the_teams_tenant_beside_it(
    tmp_path: Path,
) -> None:
    store, url = open_store(tmp_path / "both.db")
    reference, _ = open_store(tmp_path / "other.db")
    await teams_tenant(store, TENANT)
    await teams_tenant(store, OTHER)
    await teams_tenant(reference, OTHER)
    found = teams_rows(store)
    assert found["conversations"].count(TENANT) >= 3 and found["accounts"].count(TENANT) >= 2  # chats, a channel
    assert any(key.startswith("pressed:") for key in found["sends"]) and len(found["sends"]) > 4
    before = rows(store.engine)

    code, out, err = purge(url, f"teams:{TENANT}", "--yes")

    assert code == 0, err
    assert f"Deleted teams:{TENANT}" in out
    for name in ("teams_conversation", "teams_account", "teams_send", "outbox_message", "person", "programme"):
        assert name in out
    assert rows(store.engine) <= before  # nothing of the other tenant changed
    assert counts(store.engine) == counts(reference.engine)  # and nothing of it went
    assert not [hit for hit in dump(store.engine) if TENANT in hit[2]]
    left = teams_rows(store)
    assert set(left["conversations"]) == set(left["accounts"]) == {OTHER}
    with store.engine.connect() as connection:  # no journal row outlived its message
        sent = {str(v) for (v,) in connection.execute(select(table(TeamsSendRow).c.outbox_id))}
        kept = {str(v) for (v,) in connection.execute(select(table(OutboxMessageRow).c.id))}
    assert sent and sent <= kept
    store.close()
    reference.close()

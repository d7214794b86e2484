"""Who a platform user is (``bot/identities.py``), and the directory rules the import service applies
(``bot/directory.py`` who left, ``bot/services/directory.py`` identity links): unit tests on the rules themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.directory import DirectoryRow, departures
from bot.domain import NewPerson, Person, Tenant
from bot.grants import grant
from bot.model import InboundEvent, Platform
from bot.ports import DirectoryEntry, IdentityLink
from bot.services.directory import DirectoryService, relink
from storage.store import SqlStore

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def entry(person_id: int, email: str, left: bool = False) -> DirectoryEntry:
    return DirectoryEntry(id=person_id, email=email, manager_id=None, left_at=NOW if left else None, fields={})


def event(platform: Platform, user: str, email: str = "", name: str = "") -> InboundEvent:
    return InboundEvent(
        platform=platform, tenant="T1", event_id="e1", user=user, user_email=email, user_name=name, occurred_at=NOW
    )


def tenant_with(store: SqlStore, platform: str, *people: tuple[str, str]) -> Tenant:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure(platform, "T1")
        for email, name in people:
            uow.people.add(NewPerson(tenant_id=tenant.id, email=email, name=name))
        return tenant


def identify(store: SqlStore, tenant: Tenant, inbound: InboundEvent) -> Person | None:
    with store.unit_of_work() as uow:
        return DirectoryService.of(uow).identify(tenant, inbound)


def is_tenant_coordinator(store: SqlStore, tenant: Tenant, person: Person) -> bool:
    with store.unit_of_work() as uow:
        return uow.coordinators.is_tenant_coordinator(tenant.id, person.id)


# --- who left ------------------------------------------------------------------------------------


def test_someone_the_directory_no_longer_lists_has_left_once() -> None:
    current = {"a@x.com": entry(1, "a@x.com"), "b@x.com": entry(2, "b@x.com"), "c@x.com": entry(3, "c@x.com", True)}
    found = departures(current, {"a@x.com"})
    assert found.left == [2]  # c left before and keeps that date
    assert found.back == []


def test_someone_listed_again_after_leaving_is_back() -> None:
    current = {"a@x.com": entry(1, "a@x.com", left=True), "b@x.com": entry(2, "b@x.com")}
    found = departures(current, {"a@x.com", "b@x.com", "new@x.com"})
    assert (found.left, found.back) == ([], [1])


# --- identity links from the file ------------------------------------------------------------------


def test_a_new_id_moves_to_its_row_and_a_blank_one_changes_nothing() -> None:
    links = [
        IdentityLink(10, 1, "slack", "U1"),
        IdentityLink(11, 1, "teams", "t-1"),
        IdentityLink(12, 2, "slack", "U2"),
    ]
    rows = [
        DirectoryRow(email="a@x.com", name="A", seniority=2, slack_user_id="U3"),  # A changes account
        DirectoryRow(email="b@x.com", name="B", seniority=2, slack_user_id="U2"),  # B unchanged
        DirectoryRow(email="c@x.com", name="C", seniority=2, teams_user_id="t-1"),  # C takes A's Teams account
    ]
    retired, added, changed = relink(links, rows, {"a@x.com": 1, "b@x.com": 2, "c@x.com": 3})
    assert retired == {10, 11}
    assert added == [(1, "slack", "U3"), (3, "teams", "t-1")]
    assert changed == {1, 3}


# --- who sent an event -----------------------------------------------------------------------------


def test_an_event_carrying_an_email_is_whoever_has_it_and_claims_their_grant(store: SqlStore) -> None:
    tenant = tenant_with(store, "console", ("ana@x.com", "Ana"))
    with store.unit_of_work() as uow:
        grant(uow, "ana@x.com", "console", "test")
    person = identify(store, tenant, event(Platform.CONSOLE, "ana@x.com", email="ana@x.com"))
    assert person is not None and person.name == "Ana"
    assert is_tenant_coordinator(store, tenant, person)
    with store.unit_of_work() as uow:
        assert uow.people.identities(person.id) == {}  # found by email, not linked


def test_an_email_nobody_has_makes_nobody(store: SqlStore) -> None:
    tenant = tenant_with(store, "console", ("ana@x.com", "Ana"))
    assert identify(store, tenant, event(Platform.CONSOLE, "zed@x.com", email="zed@x.com")) is None
    with store.unit_of_work() as uow:
        assert len(uow.people.in_tenant(tenant.id)) == 1


def test_an_unknown_platform_user_becomes_a_new_linked_person_once(store: SqlStore) -> None:
    tenant = tenant_with(store, "slack")
    first = identify(store, tenant, event(Platform.SLACK, "U9", name="Noor"))
    again = identify(store, tenant, event(Platform.SLACK, "U9", name="Noor"))
    assert first is not None and again is not None and first.id == again.id
    assert (first.name, first.email, first.time_zone) == ("Noor", None, "UTC")
    assert identify(store, tenant, event(Platform.SLACK, "")) is None


# --- a chat profile merged into the directory ------------------------------------------------------


def test_a_profile_with_a_known_email_links_the_account_and_fills_only_empty_fields(store: SqlStore) -> None:
    tenant = tenant_with(store, "slack", ("ana@x.com", "Ana HR"))
    with store.unit_of_work() as uow:
        grant(uow, "ana@x.com", "slack:T1", "test")
        service = DirectoryService.of(uow)
        assert service.needs_profile("slack", "T1", "U1")
        merged = service.merge_profile(
            "slack",
            "T1",
            "U1",
            {"name": "Ana Slack", "email": "ana@x.com", "title": "Designer", "time_zone": "Asia/Tokyo"},
        )
    assert (merged.name, merged.title, merged.time_zone) == ("Ana HR", "Designer", "Asia/Tokyo")
    assert is_tenant_coordinator(store, tenant, merged)
    with store.unit_of_work() as uow:
        assert uow.people.identities(merged.id) == {"slack": "U1"}
        assert not DirectoryService.of(uow).needs_profile("slack", "T1", "U1")


def test_an_email_already_linked_to_another_account_is_not_taken(store: SqlStore) -> None:
    tenant_with(store, "slack", ("ana@x.com", "Ana"))
    with store.unit_of_work() as uow:
        service = DirectoryService.of(uow)
        ana = service.merge_profile("slack", "T1", "U1", {"name": "Ana", "email": "ana@x.com"})
        other = service.merge_profile("slack", "T1", "U2", {"name": "Impostor", "email": "ana@x.com"})
    assert other.id != ana.id
    assert (other.name, other.email) == ("Impostor", None)

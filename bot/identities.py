"""Who a platform user is: the person behind a chat account, found or made, and what a chat profile adds.

An event names its person by the platform's user id: the person linked to that id is who acted, and when
nobody is, someone new, named as the platform names them, is made and linked. An event that carries an
email the platform vouches for (the console, which names people by email and links no account) is whoever
has that email (else whoever is linked to the id), and nobody when nobody has it: such an event never
makes a person, and does not link the account.

A chat profile (Slack ``users.info``, the Teams member record) fetched on first contact merges into the
directory: matched by email to someone the HR import already has, whose account on that platform is then
linked, with only their empty fields filled (what the HR import set wins); or it makes the person. Both
ways of meeting someone by email count as first contact: a coordinator grant waiting for the email is
claimed (``bot/grants.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot import grants
from bot.domain import NewPerson, Person, Tenant
from bot.ports import PeopleRepository, TenantRepository, UnitOfWork


class Claims(Protocol):
    """Coordinator grants waiting for an email (``bot/grants.py``), claimed when their person appears."""

    def claim(self, tenant: Tenant, person: Person) -> bool:
        """``person`` appeared in ``tenant`` with an email; True when a grant made them a coordinator now."""
        ...

    def claim_in_tenant(self, tenant: Tenant) -> int:
        """After a directory import: everyone in ``tenant`` a grant waits for; returns how many became one now."""
        ...


@dataclass(frozen=True)
class GrantClaims:
    """:class:`Claims` as ``bot/grants.py`` makes them, in one unit of work."""

    uow: UnitOfWork

    def claim(self, tenant: Tenant, person: Person) -> bool:
        """See :func:`bot.grants.claim`."""
        return grants.claim(self.uow, tenant, person)

    def claim_in_tenant(self, tenant: Tenant) -> int:
        """See :func:`bot.grants.claim_in_tenant`."""
        return grants.claim_in_tenant(self.uow, tenant)


def identify(
    people: PeopleRepository,
    claims: Claims,
    tenant: Tenant,
    platform: str,
    user: str,
    email: str = "",
    name: str = "",
) -> Person | None:
    """The person behind ``user`` of ``platform`` (see the module's rules); None for an event without a user, or
    one whose email belongs to nobody in the tenant."""
    if not user:
        return None
    if email:  # the platform names people by their email (the console), and links no account: found by it
        person = people.by_email(tenant.id, email)
        if person is not None:
            claims.claim(tenant, person)
            return person
        return people.by_identity(tenant.id, platform, user)
    person = people.by_identity(tenant.id, platform, user)
    if person is not None:
        return person
    person = people.add(NewPerson(tenant_id=tenant.id, name=name or user, time_zone="UTC"))
    people.link_identity(person, platform, user)
    return person


def fill_empty(person: Person, fields: dict[str, Any]) -> bool:
    """Copy ``fields`` into the person's empty fields only (UTC counts as unset); True when anything changed."""
    changed = False
    for name, value in fields.items():
        current = getattr(person, name)
        if current in (None, "") or (name == "time_zone" and current == "UTC" and value != "UTC"):
            setattr(person, name, value)
            changed = True
    return changed


def needs_profile(
    tenants: TenantRepository, people: PeopleRepository, platform: str, tenant_key: str, user: str
) -> bool:
    """True when the user has no person yet, or only a placeholder without an email."""
    tenant = tenants.find(platform, tenant_key)
    if tenant is None:
        return True
    person = people.by_identity(tenant.id, platform, user)
    return person is None or person.email is None


def merge_profile(
    tenants: TenantRepository,
    people: PeopleRepository,
    claims: Claims,
    platform: str,
    tenant_key: str,
    user: str,
    fields: dict[str, Any],
) -> Person:
    """Find the person behind a chat account (by identity, else by email) or make them, filling only what the
    directory left empty, and return them. An email already linked to another account of that platform is not
    taken (the profile then only fills the account's own person, without the email)."""
    tenant = tenants.ensure(platform, tenant_key)
    person = people.by_identity(tenant.id, platform, user)
    by_email = people.by_email(tenant.id, fields["email"]) if fields.get("email") else None
    if person is None and by_email is not None and platform not in people.identities(by_email.id):
        person = by_email
        people.link_identity(person, platform, user)
    elif by_email is not None and (person is None or by_email.id != person.id):
        fields = {k: v for k, v in fields.items() if k != "email"}  # the email belongs to someone else
    if person is None:
        person = people.add(
            NewPerson(
                tenant_id=tenant.id,
                name=fields.get("name") or user,
                email=fields.get("email"),
                title=fields.get("title", ""),
                time_zone=fields.get("time_zone") or "UTC",
            )
        )
        people.link_identity(person, platform, user)
    elif fill_empty(person, fields):
        person = people.save(person)
    claims.claim(tenant, person)
    return person

"""People from chat platforms' profiles, merged into the directory: what the HR import set always wins."""

from __future__ import annotations

from typing import Any

from bot.domain import NewPerson, Person
from bot.grants import claim
from bot.ports import UnitOfWork


def fill_empty(person: Person, fields: dict[str, Any]) -> bool:
    """Copy ``fields`` into the person's empty fields only (UTC counts as unset); True when anything changed."""
    changed = False
    for name, value in fields.items():
        current = getattr(person, name)
        if current in (None, "") or (name == "time_zone" and current == "UTC" and value != "UTC"):
            setattr(person, name, value)
            changed = True
    return changed


def needs_profile(uow: UnitOfWork, platform: str, tenant_key: str, user: str) -> bool:
    """True when the user has no person yet, or only a placeholder without an email."""
    tenant = uow.tenants.find(platform, tenant_key)
    if tenant is None:
        return True
    person = uow.people.by_identity(tenant.id, platform, user)
    return person is None or person.email is None


def merge_profile(uow: UnitOfWork, platform: str, tenant_key: str, user: str, fields: dict[str, Any]) -> None:
    """Find the person behind a chat account (by identity, else by email) or create them, filling only what
    the directory left empty. An email already linked to another account of that platform is not taken.
    A coordinator grant waiting for the person's email is claimed (``bot/grants.py``): this is their first
    contact with an email the platform vouches for."""
    tenant = uow.tenants.ensure(platform, tenant_key)
    person = uow.people.by_identity(tenant.id, platform, user)
    by_email = uow.people.by_email(tenant.id, fields["email"]) if fields.get("email") else None
    if person is None and by_email is not None and platform not in uow.people.identities(by_email.id):
        person = by_email
        uow.people.link_identity(person, platform, user)
    elif by_email is not None and (person is None or by_email.id != person.id):
        fields = {k: v for k, v in fields.items() if k != "email"}  # the email belongs to someone else
    if person is None:
        person = uow.people.add(
            NewPerson(
                tenant_id=tenant.id,
                name=fields.get("name") or user,
                email=fields.get("email"),
                title=fields.get("title", ""),
                time_zone=fields.get("time_zone") or "UTC",
            )
        )
        uow.people.link_identity(person, platform, user)
    elif fill_empty(person, fields):
        person = uow.people.save(person)
    claim(uow, tenant, person)

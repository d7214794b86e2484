"""Coordinators named before they appear, and the coordinator role offered to whoever installs the Slack app.

Being a *tenant coordinator* lets someone create programmes in that tenant (and coordinate the ones they
create, or are added to); it is the role ``rmbot coordinators add`` and RMBOT_ADMIN_EMAILS give. When the
person is already in the store they get it at once. Otherwise a :class:`~bot.domain.CoordinatorGrant` waits
for their email, and they become a coordinator the first time they appear in that tenant: a directory import
(:func:`claim_in_tenant`), or first contact, when a chat profile (Slack ``users.info``, the Teams member
record) or the console names their email (:func:`claim`).

A grant names one tenant (``slack:T…``, ``teams:<id>``, ``console``) and is removed once used; or it names
``*``, every tenant, and stays: the person is a coordinator wherever they appear. Grants from
RMBOT_ADMIN_EMAILS are kept in step with the setting (:func:`apply_standing`).

The Slack installer's offer is a grant for a known person, made when the install's ``coordinator_offer``
event is handled (:data:`OFFER_JOB`); the button in the DM (:data:`ACCEPT_OFFER`) turns it into the role,
and only for the person it was offered to. Teams has no such offer: installing gives no role there.

``my-data`` lists a person's grants in the tenant (:func:`visible`) and ``forget-me`` removes them
(:func:`forget`). A grant naming another tenant is that tenant's data and is neither shown nor removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain import CoordinatorGrant, NewPerson, Person, Tenant
from bot.errors import Outdated
from bot.handling import Handling, OnAction, OnDue
from bot.model import Action, Address, Choice
from bot.payloads import ActionPayload
from bot.tenancy import parse_tenant_key, tenant_key
from bot.wording import say

if TYPE_CHECKING:
    from bot.context import Turn
    from bot.ports import UnitOfWork

ANY_TENANT = "*"
"""The tenant key of a grant that holds in every tenant."""
OFFER_JOB = "coordinator_offer"
"""The event an adapter accepts when someone installs the app: payload ``{"user": platform user id}``."""
ACCEPT_OFFER = "coordinators.accept_offer"
SLACK_INSTALL = "slack_install"


def key_of(tenant: Tenant) -> str:
    """The tenant key grants use for ``tenant``."""
    return tenant_key(tenant.platform, tenant.external_id)


@dataclass
class GrantOutcome:
    """What a grant by email did: who became a coordinator now, who already was, and what waits."""

    added: list[tuple[str, Person]] = field(default_factory=list)
    already: list[tuple[str, Person]] = field(default_factory=list)
    pending: str = ""
    """``new`` (a grant now waits for the email), ``kept`` (one already did), or empty (nothing waits)."""


def _tenant_named(uow: UnitOfWork, key: str) -> Tenant | None:
    platform, external = parse_tenant_key(key)
    return uow.tenants.find(platform, external)


def grant(uow: UnitOfWork, email: str, key: str, source: str) -> GrantOutcome:
    """Make whoever has ``email`` a coordinator of the tenant ``key`` (``*``: every tenant): at once where they
    are known, and otherwise (and, for ``*``, in tenants to come) when they first appear. Idempotent."""
    email = email.strip().lower()
    if key == ANY_TENANT:
        people = uow.people.with_email_anywhere(email)
    else:
        tenant = _tenant_named(uow, key)
        person = uow.people.by_email(tenant.id, email) if tenant is not None else None
        people = [person] if person is not None else []
    outcome = GrantOutcome()
    for person in people:
        tenant = uow.tenants.get(person.tenant_id)
        if tenant is None:
            continue
        added = uow.coordinators.add_tenant_coordinator(tenant.id, person.id)
        (outcome.added if added else outcome.already).append((key_of(tenant), person))
    if key == ANY_TENANT or not people:
        outcome.pending = "new" if uow.grants.add(key, email, source) else "kept"
    return outcome


def _use(uow: UnitOfWork, tenant: Tenant, person: Person, grants: list[CoordinatorGrant]) -> bool:
    """Make ``person`` a coordinator of ``tenant`` for ``grants``; grants for this tenant alone are used up."""
    if not grants:
        return False
    added = uow.coordinators.add_tenant_coordinator(tenant.id, person.id)
    for found in grants:
        if found.tenant_key != ANY_TENANT:
            uow.grants.remove(found.id)
    return added


def claim(uow: UnitOfWork, tenant: Tenant, person: Person) -> bool:
    """``person`` appeared in ``tenant`` with an email: any grant waiting for it makes them a coordinator.
    Returns True when they became one now."""
    if not person.email:
        return False
    return _use(uow, tenant, person, uow.grants.for_email(person.email.lower(), [key_of(tenant), ANY_TENANT]))


def claim_in_tenant(uow: UnitOfWork, tenant: Tenant) -> int:
    """After a directory import: everyone in ``tenant`` a grant waits for becomes a coordinator. Returns how many
    became one now."""
    made = 0
    waiting: dict[str, list[CoordinatorGrant]] = {}
    for found in uow.grants.in_tenants([key_of(tenant), ANY_TENANT]):
        waiting.setdefault(found.email or "", []).append(found)
    for email, grants in waiting.items():
        person = uow.people.by_email(tenant.id, email) if email else None
        if person is not None and _use(uow, tenant, person, grants):
            made += 1
    return made


def apply_standing(uow: UnitOfWork, entries: list[tuple[str, str]], source: str = "settings") -> None:
    """Bring the grants from ``source`` in line with ``entries`` (tenant key, email): new ones granted, ones no
    longer listed no longer waiting (a role already given stays)."""
    wanted = {(key, email.lower()) for key, email in entries}
    for found in uow.grants.from_source(source):
        if (found.tenant_key, found.email) not in wanted:
            uow.grants.remove(found.id)
    for key, email in sorted(wanted):
        grant(uow, email, key, source)


def _mine(uow: UnitOfWork, tenant: Tenant, person: Person) -> list[CoordinatorGrant]:
    found = uow.grants.for_email(person.email.lower(), [key_of(tenant), ANY_TENANT]) if person.email else []
    offer = uow.grants.offer_for(key_of(tenant), person.id)
    return found + ([offer] if offer is not None else [])


def visible(uow: UnitOfWork, tenant: Tenant, person: Person) -> list[dict[str, Any]]:
    """The grants and offers for ``person`` in ``tenant``, as ``my-data`` shows them."""
    return [
        {
            "tenant": "any" if found.tenant_key == ANY_TENANT else found.tenant_key,
            "email": found.email,
            "kind": "offer" if found.person_id is not None else "by_email",
            "source": found.source,
            "since": found.created_at.isoformat() if found.created_at else None,
        }
        for found in _mine(uow, tenant, person)
    ]


def forget(uow: UnitOfWork, tenant: Tenant, person: Person) -> int:
    """Remove the grants and offers for ``person`` in ``tenant`` (``forget-me``); returns how many."""
    mine = _mine(uow, tenant, person)
    for found in mine:
        uow.grants.remove(found.id)
    return len(mine)


@dataclass(frozen=True)
class OfferValue(ActionPayload):
    """The installer's "make me a coordinator" button: the tenant key of the workspace it offers (empty on
    buttons sent before it was carried)."""

    tenant: str


def offer_role(turn: Turn, payload: dict[str, Any]) -> None:
    """Someone installed the app: offer them the coordinator role, unless they have it already."""
    user = str(payload.get("user") or "")
    if not user:
        return
    uow, platform = turn.uow, turn.event.platform.value
    person = uow.people.by_identity(turn.tenant.id, platform, user)
    if person is None:
        person = uow.people.add(NewPerson(tenant_id=turn.tenant.id, name=str(payload.get("name") or user)))
        uow.people.link_identity(person, platform, user)
    to = Address.person(person.id)
    if uow.coordinators.is_tenant_coordinator(turn.tenant.id, person.id):
        turn.message(to, say("coordinators.installer_already", workspace=turn.tenant.name))
        return
    uow.grants.offer(key_of(turn.tenant), person.id, SLACK_INSTALL)
    turn.message(
        to,
        say("coordinators.offer", workspace=turn.tenant.name),
        choices=[
            Choice(
                label=say("coordinators.offer_accept"),
                action=ACCEPT_OFFER,
                value=OfferValue(key_of(turn.tenant)).encode(),
                style="primary",
            )
        ],
    )


def accept_offer(turn: Turn, action: Action) -> None:
    """The offered person pressed the button: they become a coordinator of the tenant."""
    uow, me = turn.uow, turn.me
    pressed = OfferValue.decode(action.value)
    here = key_of(turn.tenant)
    offered = uow.grants.offer_for(here, me.id) if pressed.tenant in ("", here) else None
    if offered is None:
        already = uow.coordinators.is_tenant_coordinator(turn.tenant.id, me.id)
        raise Outdated(
            "coordinators.accepted_already" if already else "coordinators.no_offer", workspace=turn.tenant.name
        )
    uow.coordinators.add_tenant_coordinator(turn.tenant.id, me.id)
    uow.grants.remove(offered.id)
    turn.reply(say("coordinators.accepted", workspace=turn.tenant.name))


HANDLERS: tuple[Handling, ...] = (
    OnDue(OFFER_JOB, offer_role),
    OnAction(ACCEPT_OFFER, accept_offer),
)

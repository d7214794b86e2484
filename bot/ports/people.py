"""The ports of people: tenants, people and their chat accounts, an HR directory import, and where each
person is in a conversation with the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain import NewPerson, Person, Tenant
from bot.ports.match_facts import Reach


@dataclass
class ConversationState:
    """Where a person is in a conversation with the bot: an active flow and the programme in focus."""

    tenant_id: int
    person_id: int
    flow: str | None = None
    flow_version: int = 0
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    suspended: dict[str, Any] = field(default_factory=dict)
    """Flows stopped part-way with ``cancel``, by flow key: their answers are kept for when they are run again."""
    waiting: list[dict[str, Any]] = field(default_factory=list)
    """Questionnaires waiting their turn, in order: each opens by itself when the one before it ends."""
    current_programme_id: int | None = None


@dataclass(frozen=True)
class DirectoryEntry:
    """Someone with an email in a tenant's directory, as an HR import compares them with its file."""

    id: int
    email: str
    """Lower-cased."""
    manager_id: int | None
    left_at: datetime | None
    fields: Mapping[str, Any]
    """The person's values of the fields an import sets (``bot.directory.DIRECTORY_FIELDS``)."""


@dataclass(frozen=True)
class IdentityLink:
    """A person's account on a chat platform, as stored."""

    id: int
    person_id: int
    platform: str
    external_id: str


class TenantRepository(Protocol):
    def ensure(self, platform: str, external_id: str, name: str = "") -> Tenant: ...
    def get(self, tenant_id: int) -> Tenant | None: ...
    def find(self, platform: str, external_id: str) -> Tenant | None: ...
    def clock_offset(self, tenant_id: int) -> timedelta:
        """How far the tenant's clock was moved forward (the console's ``/advance``); zero elsewhere."""
        ...

    def save_clock_offset(self, tenant_id: int, offset: timedelta) -> None: ...


class PeopleRepository(Protocol):
    def get(self, person_id: int) -> Person | None: ...
    def by_email(self, tenant_id: int, email: str) -> Person | None: ...
    def by_identity(self, tenant_id: int, platform: str, external_id: str) -> Person | None: ...
    def add(self, person: NewPerson) -> Person: ...
    def save(self, person: Person) -> Person: ...
    def link_identity(self, person: Person, platform: str, external_id: str) -> None: ...
    def identities(self, person_id: int) -> dict[str, str]: ...
    def in_tenant(self, tenant_id: int) -> list[Person]: ...
    def many(self, person_ids: list[int]) -> dict[int, Person]: ...
    def reach(self, person_ids: Sequence[int], programme_id: int | None) -> dict[int, Reach]:
        """Whether each of these people (those who exist) may still get a message of the programme, in one read."""
        ...

    def forget(self, person: Person) -> None: ...
    def reports(self, person_id: int) -> list[Person]: ...
    def report_counts(self, person_ids: list[int]) -> dict[int, int]:
        """How many people report directly to each of these people (someone nobody reports to is left out)."""
        ...

    def stayed(self, tenant_id: int, programme_id: int, since: datetime, now: datetime) -> dict[bool, tuple[int, int]]:
        """Retention, counted by the database: of the tenant's people who were there at ``since`` (added by then,
        not gone before), how many are still there and how many were counted, for the programme's participants
        who did not decline (True) and for everyone else (False). People without a date of arrival count as
        arriving now."""
        ...

    def unlink_identities(self, person_id: int) -> None: ...
    def managers(self, tenant_id: int) -> dict[int, int | None]: ...
    def seniority_range(self, tenant_id: int) -> tuple[int | None, int | None]: ...
    def with_email_anywhere(self, email: str) -> list[Person]: ...


class DirectoryRepository(Protocol):
    """The bulk reads and writes of an HR directory import (``bot/services/directory.py`` decides what they are).

    Every method takes any number of items (the implementation splits them into statements of a safe size)."""

    def entries(self, tenant_id: int) -> list[DirectoryEntry]:
        """Everyone of the tenant who has an email (people who asked to be forgotten have none)."""
        ...

    def ids_by_email(self, tenant_id: int) -> dict[str, int]:
        """Lower-cased email -> person id, for everyone of the tenant who has an email."""
        ...

    def add_people(self, tenant_id: int, people: Sequence[Mapping[str, Any]], now: datetime) -> None:
        """Insert people with these values (``email`` and the directory fields), without a manager yet."""
        ...

    def update_people(self, changes: Sequence[Mapping[str, Any]]) -> None:
        """Set the values of each change on the person its ``id`` names (only the columns it lists)."""
        ...

    def mark_left(self, person_ids: Sequence[int], now: datetime) -> None:
        """Record that these people left at ``now`` (those already marked keep their date)."""
        ...

    def mark_back(self, person_ids: Sequence[int]) -> None:
        """These people are in the organisation again (no longer marked as left)."""
        ...

    def identity_links(self, tenant_id: int, platforms: Sequence[str]) -> list[IdentityLink]:
        """Every account on these platforms linked to someone of the tenant."""
        ...

    def remove_identity_links(self, link_ids: Sequence[int]) -> None: ...

    def add_identity_links(self, tenant_id: int, links: Sequence[tuple[int, str, str]]) -> None:
        """Link accounts, each given as (person id, platform, platform user id)."""
        ...


class ConversationRepository(Protocol):
    def load(self, tenant_id: int, person_id: int) -> ConversationState: ...
    def save(self, state: ConversationState) -> None: ...

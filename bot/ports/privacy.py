"""The ports of what people may ask about themselves: the audit log kept under a pseudonym, ``forget-me``
erasing their traces, and ``my-data`` gathering everything stored about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Traces:
    """What identifies someone being forgotten, or what they wrote, as the stored messages may hold it."""

    tenant_id: int
    person_id: int
    user_keys: frozenset[str]
    """Who acted, in their inbox events: their platform ids (in the console, their email)."""
    words: frozenset[str]
    """Their name, email and platform ids, and what they wrote: as typed, and as escaped in messages."""


class AuditRepository(Protocol):
    def add(self, tenant_id: int, programme_id: int | None, person_id: int | None, verb: str, detail: str) -> None: ...
    def of_programme(self, programme_id: int, limit: int = 50) -> list[dict[str, Any]]: ...
    def pseudonymise(self, tenant_id: int, person_id: int, words: frozenset[str], pseudonym: str) -> None:
        """Entries by the person, or naming them with any of ``words``, keep their facts under ``pseudonym``."""
        ...


class ErasureRepository(Protocol):
    """What ``forget-me`` erases beyond the domain records: the message logs and the platforms' records."""

    def erase_traces(self, traces: Traces, placeholder: str) -> None:
        """Inbox events the person sent, and stored messages to them, about them or holding any of the words:
        handled or delivered ones are redacted (ids, keys and status stay), ones still waiting for them or about
        them are not sent; other waiting messages, and other people's open questionnaires, keep going with the
        words replaced by ``placeholder``."""
        ...

    def forget_accounts(self, person_id: int) -> None:
        """Delete what the platform adapters keep of the person's chat accounts (before they are unlinked)."""
        ...


class PersonalDataRepository(Protocol):
    def gather(self, tenant_id: int, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything stored about the person, by source (a table, or a table read by another column), as
        JSON-ready rows: their own records, their pairs' shared ones, and what others' records say of them
        reduced to what they may see (``my-data``). Sources without rows are left out."""
        ...

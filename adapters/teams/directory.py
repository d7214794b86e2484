"""People from Teams: the first time someone writes, the connector's member record links them to the directory.

Before an event from a Teams user the store does not know is accepted, their member record is fetched
(``GET {serviceUrl}/v3/conversations/{id}/members/{user}``: name, email, user principal name, AD object
id) and the person found or created: matched by email to someone the HR import already has (their Teams
account is linked, and only their empty fields are filled: what the HR import set wins), or added with
name and email. Known users cost nothing (a set in memory remembers them). A slow or failing lookup
never holds the answer to Teams up for long: after a short timeout the engine creates the person from the
name alone, and the next event tries again (once per process).
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.model import InboundEvent, Platform
from bot.ports import Store
from bot.services.directory import DirectoryService

log = logging.getLogger(__name__)
PLATFORM = Platform.TEAMS.value
LOOKUP_TIMEOUT = 1.5


def member_fields(member: dict[str, Any]) -> dict[str, Any]:
    """Name and email from a connector member record (empty values left out)."""
    email = str(member.get("email") or member.get("userPrincipalName") or "").strip().lower()
    fields = {"name": str(member.get("name") or "").strip(), "email": email if "@" in email else None}
    return {k: v for k, v in fields.items() if v}


class TeamsDirectory:
    """Finds or creates the person behind a Teams user, once per user and process."""

    def __init__(self, store: Store, token: Callable[[], str | None]) -> None:
        self.store = store
        self.token = token
        self.known: set[tuple[str, str]] = set()
        self.tried: set[tuple[str, str]] = set()

    async def ensure(self, event: InboundEvent, service_url: str, account_id: str) -> None:
        """Make sure the person who sent ``event`` is in the directory, linked to their Teams account."""
        key = (event.tenant, event.user)
        if not event.user or not account_id or key in self.known or key in self.tried or not service_url:
            return
        if not await asyncio.to_thread(self._missing, event.tenant, event.user):
            self.known.add(key)
            return
        self.tried.add(key)
        member = await self._lookup(service_url, event.conversation, account_id)
        if member:
            await asyncio.to_thread(self._save, event.tenant, event.user, member_fields(member))
            self.known.add(key)

    async def _lookup(self, service_url: str, conversation: str, account_id: str) -> dict[str, Any] | None:
        url = (
            f"{service_url.rstrip('/')}/v3/conversations/{urllib.parse.quote(conversation, safe='')}"
            f"/members/{urllib.parse.quote(account_id, safe='')}"
        )
        try:
            token = await asyncio.wait_for(asyncio.to_thread(self.token), LOOKUP_TIMEOUT)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            timeout = aiohttp.ClientTimeout(total=LOOKUP_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(url, headers=headers) as response:
                    if response.status != 200:
                        log.info("Teams member lookup for %s: HTTP %s", account_id, response.status)
                        return None
                    found = await response.json(content_type=None)
        except Exception as exc:  # noqa: BLE001 - a directory lookup must never stop an event
            log.info("Teams member lookup for %s failed: %s", account_id, exc)
            return None
        return found if isinstance(found, dict) else None

    def _missing(self, tenant: str, user: str) -> bool:
        """True when the user has no person yet, or only a placeholder without an email."""
        with self.store.unit_of_work() as uow:
            return DirectoryService.of(uow).needs_profile(PLATFORM, tenant, user)

    def _save(self, tenant: str, user: str, fields: dict[str, Any]) -> None:
        try:
            with self.store.unit_of_work() as uow:
                DirectoryService.of(uow).merge_profile(PLATFORM, tenant, user, fields)
        except Exception:  # noqa: BLE001 - a concurrent first event for the same person won the race
            log.info("person for Teams user %s was created concurrently", user, exc_info=True)

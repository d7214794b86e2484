"""People from Slack's directory: the first time someone appears, ``users.info`` fills them in.

Before an event from a Slack user the store does not know is accepted, the profile is fetched and the
person found or created (people the event mentions only when it invites them: see :mod:`bot.mentions`): matched by email to someone the HR import already has (their
Slack account is linked, and only their empty fields are filled: what the HR import set wins), or added
with name, email, title and time zone. Known users cost nothing: a set in memory remembers them.
A slow or failing ``users.info`` never holds the acknowledgement up for long: after 1.5 s in all, the
engine creates the person from the name alone; a lookup that failed is not retried in this process, one
that was too slow is tried again with the person's next event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.web.async_client import AsyncWebClient

from bot.mentions import may_introduce
from bot.model import InboundEvent, Platform
from bot.ports import Store
from bot.services.directory import DirectoryService

log = logging.getLogger(__name__)
PLATFORM = Platform.SLACK.value
LOOKUP_TIMEOUT = 1.5
"""Seconds all the lookups of one event may take together (the ack must leave within Slack's 3 s)."""
MAX_LOOKUPS = 50
CONCURRENT_LOOKUPS = 10


def profile_fields(user: dict[str, Any]) -> dict[str, Any]:
    """Name, email, title and time zone from a ``users.info`` user object (empty values left out)."""
    profile = user.get("profile") or {}
    fields = {
        "name": profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name"),
        "email": (profile.get("email") or "").strip().lower() or None,
        "title": (profile.get("title") or "").strip(),
        "time_zone": user.get("tz") or "",
    }
    try:
        if fields["time_zone"]:
            ZoneInfo(fields["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        fields["time_zone"] = ""
    return {k: v for k, v in fields.items() if v}


class SlackDirectory:
    """Finds or creates the people behind Slack user ids, once per user and process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: set[tuple[str, str]] = set()
        self.tried: set[tuple[str, str]] = set()

    async def ensure_event(self, client: AsyncWebClient, event: InboundEvent) -> None:
        """The sender of ``event``; the people it mentions only when it invites them (a coordinator's
        ``invite`` or ``coordinators add``): a mention alone never makes the bot fetch or keep anyone."""
        started = time.monotonic()
        await self.ensure(client, event.tenant, [event.user])
        mentioned = list(event.mentions.values())
        introduces = bool(mentioned) and await asyncio.to_thread(self._introduces, event)
        if introduces:
            await self.ensure(client, event.tenant, mentioned, LOOKUP_TIMEOUT - (time.monotonic() - started))

    def _introduces(self, event: InboundEvent) -> bool:
        with self.store.unit_of_work() as uow:
            return may_introduce(uow, PLATFORM, event.tenant, event.user, event.text)

    async def ensure(
        self, client: AsyncWebClient, team: str, users: list[str], timeout: float = LOOKUP_TIMEOUT
    ) -> None:
        """Make sure every user in ``users`` is a person of ``team``'s tenant, with their Slack profile."""
        wanted = [u for u in dict.fromkeys(users) if u and (team, u) not in self.known][:MAX_LOOKUPS]
        if not wanted:
            return
        missing = await asyncio.to_thread(self._missing, team, wanted)
        for user in wanted:
            if user not in missing:
                self.known.add((team, user))
        lookups = [u for u in missing if (team, u) not in self.tried]
        if not lookups:
            return
        self.tried.update((team, u) for u in lookups)
        limit = asyncio.Semaphore(CONCURRENT_LOOKUPS)
        tasks = {asyncio.create_task(self._lookup(client, u, limit)): u for u in lookups}
        done, late = await asyncio.wait(tasks, timeout=max(timeout, 0.1))  # one deadline for them all
        for task in late:
            task.cancel()
            self.tried.discard((team, tasks[task]))
        found = {user: profile for user, profile in ((tasks[t], t.result()) for t in done) if profile is not None}
        if found:
            await asyncio.to_thread(self._save, team, found)
            self.known.update((team, u) for u in found)

    async def _lookup(self, client: AsyncWebClient, user: str, limit: asyncio.Semaphore) -> dict[str, Any] | None:
        try:
            async with limit:
                response = await client.users_info(user=user)
        except Exception as exc:  # noqa: BLE001 - a directory lookup must never stop an event
            log.info("users.info for %s failed: %s", user, exc)
            return None
        found = response.get("user") or {}
        if found.get("is_bot") or found.get("deleted") or user == "USLACKBOT":
            return None
        return profile_fields(found)

    def _missing(self, team: str, users: list[str]) -> set[str]:
        """Users with no person yet, or only a nameless placeholder (no email), in the team's tenant."""
        with self.store.unit_of_work() as uow:
            directory = DirectoryService.of(uow)
            return {user for user in users if directory.needs_profile(PLATFORM, team, user)}

    def _save(self, team: str, profiles: dict[str, dict[str, Any]]) -> None:
        for user, fields in profiles.items():
            try:
                with self.store.unit_of_work() as uow:
                    DirectoryService.of(uow).merge_profile(PLATFORM, team, user, fields)
            except Exception:  # noqa: BLE001 - a concurrent first event for the same person won the race
                log.info("person for Slack user %s was created concurrently", user, exc_info=True)

"""Team rosters: when the app is added to a team, the bot learns whom it can reach there.

A bot can open a personal chat (``POST /v3/conversations``) only with someone in a team or chat where its
app is installed, and only if it knows their Teams account id (``29:…``). So when the app is added to a
team (``conversationUpdate`` whose ``membersAdded`` holds the bot, or ``installationUpdate`` ``add``, in a
team), the team's members are read from the connector, page by page
(``GET {serviceUrl}/v3/conversations/{teamId}/pagedmembers?pageSize=500&continuationToken=…``), and:

* members the directory already knows (by their Azure AD object id, or by email for someone imported or
  invited by email who has no Teams account linked yet: that link is made) have their Teams account kept
  (``teams_account``: account id, AD object id, service URL), so a personal chat can be created for them;
* messages held for them because they had no chat with the bot (``held_for_install``) are due at once.

Nothing is kept about members the directory does not know: the roster is read, matched and let go.
Members added to a team later arrive in their own ``conversationUpdate`` and are matched the same way.
The work runs after Teams has had its answer, in a thread; 429 and 5xx answers are retried after
``Retry-After`` (or a short backoff), a few times, and a roster that cannot be read is logged and left. Before
the deliverer holds a message for someone it has no account for, it reads the rosters of the tenant's teams
again (each at most once an hour: :meth:`TeamRoster.refresh`), so a read lost with a restart, or someone
added to the directory after the install, is made up for; otherwise the message waits (docs/teams.md).
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.teams.connector import Connector
from adapters.teams.directory import member_fields
from adapters.teams.translate import bot_added, tenant_of
from bot.model import Platform
from bot.ports import Store

log = logging.getLogger(__name__)
PLATFORM = Platform.TEAMS.value
PAGE_SIZE = 500
"""Members per page (the connector's largest page)."""
MAX_PAGES = 400
"""A bound on one roster (200,000 members), so a connector that never stops paging cannot hold a thread."""
TRIES = 4
"""Attempts per page when the connector answers 429 or 5xx."""
MAX_WAIT = 30.0
REFRESH_AFTER = 600.0
"""Seconds during which a team whose roster was just read is not read again (one install sends two activities)."""
REREAD_AFTER = 3600.0
"""The same for the deliverer, which re-reads the rosters of a tenant's teams before holding someone."""


@dataclass(frozen=True)
class RosterResult:
    """What reading a roster did."""

    read: int = 0
    """Members in the roster."""
    kept: int = 0
    """Members the directory knows, whose Teams accounts were kept."""
    linked: int = 0
    """People matched by email whose Teams account was linked now."""
    woken: int = 0
    """Held messages made due."""


def team_added(activity: dict[str, Any]) -> str:
    """The team's id when this activity adds the bot to a team ("" otherwise)."""
    team = str((((activity.get("channelData") or {}).get("team")) or {}).get("id") or "")
    return team if team and bot_added(activity) and tenant_of(activity) else ""


def members_joined(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """People (not the bot) a ``conversationUpdate`` says joined a team."""
    if activity.get("type") != "conversationUpdate" or not ((activity.get("channelData") or {}).get("team")):
        return []
    bot = (activity.get("recipient") or {}).get("id")
    return [m for m in activity.get("membersAdded") or [] if isinstance(m, dict) and m.get("id") != bot]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TeamRoster:
    """Reads team rosters through the connector and keeps what the bot needs to reach the people in them."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
        wake: Callable[[], None] = lambda: None,
        every: float = REFRESH_AFTER,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.store = store
        self.connector = connector
        self.sleep = sleep
        self.now = now
        self.wake = wake
        self.every = every
        self.max_wait = max_wait
        self._recent: dict[tuple[str, str], float] = {}

    def sync(self, tenant_key: str, service_url: str, team_id: str) -> RosterResult:
        """Read the team's roster and keep whom the directory knows, unless it was read (or tried) in the last
        ``every`` seconds; never raises: failures are logged."""
        key = (tenant_key, team_id)
        if key in self._recent and time.monotonic() - self._recent[key] < self.every:
            return RosterResult()
        self._recent[key] = time.monotonic()
        try:
            members = self.fetch(service_url, team_id)
            return RosterResult() if members is None else self.keep(tenant_key, service_url, members)
        except Exception:  # noqa: BLE001 - a roster is a help, never a reason to fail
            log.exception("could not read the roster of Teams team %s", team_id)
            return RosterResult()

    def refresh(self, tenant_key: str) -> RosterResult:
        """Read again the rosters of the tenant's teams that have the app (each at most every ``every`` seconds):
        the deliverer's last look for someone before it holds their message (a roster read lost with a
        restart, or someone added to the directory since)."""
        read = kept = linked = woken = 0
        for team in self.store.teams.teams(tenant_key):
            done = self.sync(tenant_key, team.service_url, team.team_id)
            read, kept, linked, woken = read + done.read, kept + done.kept, linked + done.linked, woken + done.woken
        return RosterResult(read, kept, linked, woken)

    def fetch(self, service_url: str, team_id: str) -> list[dict[str, Any]] | None:
        """Every member of the team, page by page (None when the connector would not give them)."""
        members: list[dict[str, Any]] = []
        token = ""
        for _ in range(MAX_PAGES):
            page = self._page(service_url, team_id, token)
            if page is None:
                return None
            members += [m for m in page.get("members") or [] if isinstance(m, dict)]
            token = str(page.get("continuationToken") or "")
            if not token:
                return members
        log.warning("the roster of Teams team %s has more than %s pages; read the first ones", team_id, MAX_PAGES)
        return members

    def _page(self, service_url: str, team_id: str, token: str) -> dict[str, Any] | None:
        query = {"pageSize": str(PAGE_SIZE), **({"continuationToken": token} if token else {})}
        path = f"v3/conversations/{urllib.parse.quote(team_id, safe='')}/pagedmembers?{urllib.parse.urlencode(query)}"
        for attempt in range(TRIES):
            outcome = self.connector.request("GET", service_url, path)
            if outcome.kind == "sent":
                return outcome.body
            if outcome.kind not in ("retry", "ambiguous") or attempt == TRIES - 1:  # a GET may simply be asked again
                log.warning("could not read the roster of Teams team %s: %s", team_id, outcome.error)
                return None
            wait = outcome.retry_after if outcome.retry_after is not None else float(2**attempt)
            self.sleep(min(wait, self.max_wait))
        return None

    def keep(self, tenant_key: str, service_url: str, members: list[dict[str, Any]]) -> RosterResult:
        """Keep the Teams accounts of the members the directory knows, linking by email those who have no Teams
        account yet, and make what was held for them due (see the module docstring)."""
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.find(PLATFORM, tenant_key)
            if tenant is None:  # nobody of this tenant is in the directory yet
                return RosterResult(read=len(members))
            linked = {link.external_id: link.person_id for link in uow.directory.identity_links(tenant.id, [PLATFORM])}
            with_teams = set(linked.values())
            by_email = uow.directory.ids_by_email(tenant.id)
            new_links: list[tuple[int, str, str]] = []
            accounts: list[dict[str, Any]] = []
            people: set[int] = set()
            for member in members:
                account_id = str(member.get("id") or "")
                aad = str(member.get("aadObjectId") or "")
                if not account_id.startswith("29:"):
                    continue
                person = linked.get(aad) if aad else None
                person = person if person is not None else linked.get(account_id)
                if person is None and aad:
                    found = by_email.get(str(member_fields(member).get("email") or ""))
                    if found is not None and found not in with_teams:
                        new_links.append((found, PLATFORM, aad))
                        with_teams.add(found)
                        person = found
                if person is not None:
                    people.add(person)
                    accounts.append({"account_id": account_id, "user_id": aad, "name": "", "service_url": service_url})
            if new_links:
                uow.directory.add_identity_links(tenant.id, new_links)
            tenant_id = tenant.id
        self.store.teams.remember(tenant_key, None, accounts)
        woken = self.store.teams.wake_waiting(tenant_id, people, self.now()) if people else 0
        if woken:
            self.wake()
        log.info(
            "Teams roster: %s member(s) read, %s known to the directory (%s linked by email), %s held message(s) due",
            len(members),
            len(accounts),
            len(new_links),
            woken,
        )
        return RosterResult(read=len(members), kept=len(accounts), linked=len(new_links), woken=woken)

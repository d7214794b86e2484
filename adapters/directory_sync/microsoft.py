"""Microsoft Entra ID through Microsoft Graph: everyone with their manager, then only the changes (delta queries).

The first sync asks ``/users/delta?$deltatoken=latest`` for a delta link that starts now, then lists ``/users``
with ``$select`` and ``$expand=manager`` page by page (``@odata.nextLink``). Later syncs read that delta link:
changed users (only the properties that changed), ``manager@delta`` and ``@removed`` entries are applied to what
the last sync read, so the import still gets the whole organisation. A delta link Graph no longer honours (410
Gone) means a full listing again. Time zones and working hours come from each person's mailbox settings (through
``$batch``) where ``MailboxSettings.Read`` is granted; otherwise from the usage location when that country has a
single time zone. Disabled accounts and guests are not listed (so they count as leavers).
"""

from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import available_timezones

from tzlocal.windows_tz import win_tz

from adapters.directory_sync.graph import DeltaExpired, GraphSession
from adapters.directory_sync.seniority import load_seniority_map
from adapters.directory_sync.sources import SourceError, blank_row
from adapters.settings import Settings
from adapters.teams.tokens import ClientCredentials, TokenError
from bot.seniority import GRADE_KEY
from bot.wording import say, unescape

log = logging.getLogger(__name__)
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SELECT = (
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
    "officeLocation",
    "usageLocation",
    "accountEnabled",
    "userType",
    "employeeOrgData",
)
PAGE_SIZE = 999
_KEPT_FROM_GRAPH = {
    "displayName": "name",
    "mail": "mail",
    "userPrincipalName": "upn",
    "jobTitle": "title",
    "department": "department",
    "officeLocation": "location",
    "usageLocation": "usage",
    "userType": "type",
}


def _text(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sync.{key}", **values))


@cache
def _country_zones() -> dict[str, list[str]]:
    """ISO country code -> its IANA time zones (tzdata's zone.tab)."""
    table = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            zones.setdefault(fields[0].upper(), []).append(fields[2])
    return zones


def zone_of_country(code: str) -> str:
    """The time zone of a country with exactly one (``GB`` -> Europe/London), else ``""``."""
    zones = _country_zones().get(code.strip().upper(), [])
    return zones[0] if len(zones) == 1 else ""


def iana_zone(name: str) -> str:
    """An IANA zone from a mailbox's time zone, which Graph gives as a Windows name or an IANA one; else ``""``."""
    name = name.strip()
    if name in win_tz:
        return win_tz[name]
    return name if name in available_timezones() else ""


def _clock(value: Any) -> str:
    """``08:30:00.0000000`` -> ``08:30``."""
    text = str(value or "")
    return text[:5] if len(text) >= 5 and text[2] == ":" else ""


def _attribute(user: dict[str, Any], path: str) -> str:
    value: Any = user
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


class MicrosoftSource:
    """:class:`~adapters.directory_sync.sources.DirectorySource` (and ``IncrementalSource``) over Graph."""

    name = "microsoft"

    def __init__(self, graph: GraphSession, grade_attribute: str = "", read_mailboxes: bool = True) -> None:
        self.graph = graph
        self.grade_attribute = grade_attribute
        self.read_mailboxes = read_mailboxes
        self.kept: dict[str, dict[str, str]] = {}
        self.delta_link = ""
        self.notes: list[str] = []
        self.delta = False
        """Whether the last ``rows()`` read changes only."""
        self._mailboxes_refused = ""

    def resume(self, delta_link: str, kept: dict[str, dict[str, str]]) -> None:
        """Start from the last sync's delta link and what it read."""
        self.delta_link, self.kept = delta_link, {key: dict(value) for key, value in kept.items()}

    # -- reading ------------------------------------------------------------------------------------

    def _select(self) -> str:
        fields = list(SELECT)
        if self.grade_attribute and self.grade_attribute.split(".")[0] not in fields:
            fields.append(self.grade_attribute.split(".")[0])
        return ",".join(fields)

    def _query(self, **extra: str) -> str:
        return urlencode(
            {"$select": self._select(), "$expand": "manager($select=id,mail,userPrincipalName)", **extra},
            safe="$(),=",
        )

    def rows(self) -> Iterator[dict[str, str]]:
        """Everyone, as rows in the CSV import's columns (see the module docstring)."""
        self.notes, self._mailboxes_refused = [], ""
        changed: set[str] = set()
        if self.delta_link and self.kept:
            try:
                changed = self._read_delta()
                self.delta = True
            except DeltaExpired:
                self.notes.append(_text("delta_expired", source=self.name))
                changed = self._read_all()
        else:
            changed = self._read_all()
        if self.read_mailboxes and changed:
            self._read_mailboxes(sorted(changed))
        if self._mailboxes_refused:
            self.notes.append(_text("zone_fallback", source=self.name, reason=self._mailboxes_refused, default="UTC"))
        return iter(self._rows())

    def _read_all(self) -> set[str]:
        self.delta = False
        start = self.graph.get(f"users/delta?{self._query(**{'$deltatoken': 'latest'})}", "users/delta")
        link = start.get("@odata.deltaLink")
        read: dict[str, dict[str, str]] = {}
        for page in self.graph.pages(f"users?{self._query(**{'$top': str(PAGE_SIZE)})}", "users"):
            for user in page.get("value") or []:
                if isinstance(user, dict) and user.get("id"):
                    read[str(user["id"])] = self._merged({}, user)
        self.kept = read
        self.delta_link = str(link or "")
        return set(read)

    def _read_delta(self) -> set[str]:
        changed: set[str] = set()
        link = ""
        for page in self.graph.pages(self.delta_link, "users/delta"):
            for user in page.get("value") or []:
                if not isinstance(user, dict) or not user.get("id"):
                    continue
                key = str(user["id"])
                if "@removed" in user:
                    self.kept.pop(key, None)
                    changed.discard(key)
                    continue
                if key not in self.kept and not (user.get("mail") or user.get("userPrincipalName")):
                    log.warning("Graph delta changed user %s, never listed and without an email: skipped", key)
                    continue
                self.kept[key] = self._merged(self.kept.get(key, {}), user)
                changed.add(key)
            link = str(page.get("@odata.deltaLink") or link)
        self.delta_link = link or self.delta_link
        return changed

    def _merged(self, kept: dict[str, str], user: dict[str, Any]) -> dict[str, str]:
        """The kept values of a user with what Graph sent applied (a delta sends only what changed)."""
        row = dict(kept)
        for graph_name, name in _KEPT_FROM_GRAPH.items():
            if graph_name in user:
                row[name] = str(user[graph_name] or "")
        if "accountEnabled" in user:
            row["enabled"] = "false" if user["accountEnabled"] is False else "true"
        if "employeeOrgData" in user:
            row["division"] = _attribute(user, "employeeOrgData.division")
        if self.grade_attribute and self.grade_attribute.split(".")[0] in user:
            row[GRADE_KEY] = _attribute(user, self.grade_attribute)
        if "manager" in user:
            manager = user["manager"] if isinstance(user["manager"], dict) else {}
            row["manager_id"] = str(manager.get("id") or "")
            row["manager_email"] = str(manager.get("mail") or manager.get("userPrincipalName") or "")
        if "manager@delta" in user:
            links = [m for m in user["manager@delta"] or [] if isinstance(m, dict) and "@removed" not in m]
            row["manager_id"] = str(links[0].get("id") or "") if links else ""
            row["manager_email"] = ""
        row["email"] = (row.get("mail") or row.get("upn") or "").strip()
        return row

    def _read_mailboxes(self, keys: list[str]) -> None:
        paths = {key: f"/users/{quote(key, safe='')}/mailboxSettings" for key in keys}
        for key, (status, body) in self.graph.batch_get(paths, "mailboxSettings").items():
            row = self.kept.get(key)
            if row is None:
                continue
            if status == 200:
                row["zone"] = iana_zone(str(body.get("timeZone") or ""))
                found = body.get("workingHours")
                hours: dict[str, Any] = found if isinstance(found, dict) else {}
                start, end = _clock(hours.get("startTime")), _clock(hours.get("endTime"))
                row["hours"] = f"{start}-{end}" if start and end and start < end else ""
            else:
                row["zone"], row["hours"] = "", ""
                if status in (401, 403) and not self._mailboxes_refused:
                    code = str((body.get("error") or {}).get("code") or "")
                    self._mailboxes_refused = f"{status}{' ' + code if code else ''}"

    # -- rows ---------------------------------------------------------------------------------------

    @staticmethod
    def _listed(kept: dict[str, str]) -> bool:
        """Enabled members only: a disabled account or a guest is not in the organisation (so counts as gone)."""
        return kept.get("enabled") != "false" and kept.get("type", "").lower() != "guest"

    def _rows(self) -> list[dict[str, str]]:
        email_of = {key: (kept.get("mail") or kept.get("upn") or "").strip() for key, kept in self.kept.items()}
        listed = {email.lower() for key, email in email_of.items() if self._listed(self.kept[key])}
        rows, unmanaged = [], 0
        for key, kept in self.kept.items():
            if not self._listed(kept):
                continue
            manager = email_of.get(kept.get("manager_id", ""), "") or kept.get("manager_email", "")
            if manager and manager.lower() not in listed:  # their manager's account is disabled, a guest's, or gone
                manager, unmanaged = "", unmanaged + 1
            row = blank_row()
            row.update(
                email=email_of[key],
                name=kept.get("name", ""),
                title=kept.get("title", ""),
                department=kept.get("department", ""),
                division=kept.get("division", ""),
                location=kept.get("location", ""),
                time_zone=kept.get("zone") or zone_of_country(kept.get("usage", "")),
                working_hours=kept.get("hours", ""),
                manager_email=manager,
                teams_user_id=key,
            )
            if kept.get(GRADE_KEY):
                row[GRADE_KEY] = kept[GRADE_KEY]
            rows.append(row)
        if unmanaged:
            self.notes.append(_text("manager_not_listed", source=self.name, count=unmanaged))
        return rows


def graph_session(settings: Settings) -> GraphSession:
    """A Graph session with the app's client-credentials token (MSAL), or SourceError when not configured."""
    tenant = settings.rmbot_graph_tenant_id or settings.microsoft_app_tenant_id
    client_id = settings.rmbot_graph_client_id or settings.microsoft_app_id
    secret = settings.rmbot_graph_client_secret or settings.microsoft_app_password
    if not (tenant and client_id and secret):
        raise SourceError(_text("graph_not_configured"))
    credentials = ClientCredentials(settings.rmbot_graph_login_url, tenant, client_id, secret, scope=GRAPH_SCOPE)

    def token() -> str:
        try:
            return credentials()
        except TokenError as problem:
            raise SourceError(_text("graph_token", reason=str(problem))) from None

    return GraphSession(settings.rmbot_graph_url, token)


def microsoft_source(settings: Settings) -> MicrosoftSource:
    """The Entra ID source the settings describe (RMBOT_GRAPH_*; the grade attribute of RMBOT_SENIORITY_MAP)."""
    mapping = load_seniority_map(settings)
    return MicrosoftSource(
        graph_session(settings), grade_attribute=mapping.grade_attribute if mapping is not None else ""
    )

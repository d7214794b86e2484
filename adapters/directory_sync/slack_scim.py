"""Directory sync from Slack on Enterprise Grid: SCIM v2 ``GET /Users``, with managers from the enterprise extension.

Paged with ``startIndex`` and ``count``; slack_sdk's SCIM client sends the requests and honours
``Retry-After`` on 429. Every page is read before any row is given out, because a manager is named by
their Slack user id and resolved to an email only once everyone is known. Deactivated users
(``active: false``) are leavers: they are not listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.scim import SCIMClient

from adapters.directory_sync.managers_csv import read_managers
from adapters.directory_sync.shapes import attribute, obj, objs, primary, text
from adapters.directory_sync.sources import SourceError, blank_row
from bot.seniority import GRADE_KEY
from bot.wording import say, unescape

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PAGE_SIZE = 1000
"""Slack's largest SCIM page."""


def _plain(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sources.{key}", **values))


@dataclass
class SlackScimSource:
    """Everyone in a Slack Enterprise Grid org, read through SCIM v2 with an org admin's token."""

    client: SCIMClient
    managers_csv: str = ""
    """The operator's managers file: where it names a manager, it wins over SCIM's."""
    name: str = "slack"
    page_size: int = PAGE_SIZE
    retries: int = field(default=5)
    grade_attribute: str = ""
    """Where the operator's grade sits (RMBOT_SENIORITY_MAP): a user attribute, or one of the enterprise
    extension's (``employeeNumber``, ``costCenter``, ``organization``...)."""

    def rows(self) -> Iterator[dict[str, str]]:
        """Every active user as a row in the CSV import's columns; SourceError if the listing cannot be completed."""
        users = [user for user in self._list() if user.get("active", True) is not False]
        overrides = read_managers(self.managers_csv) if self.managers_csv else {}
        emails = {str(user.get("id")): _email(user) for user in users}
        rows = [scim_row(user) for user in users]
        for user, row in zip(users, rows, strict=True):
            if not row["email"]:
                raise SourceError(_plain("scim_no_email", user=row["slack_user_id"] or "?", name=row["name"] or "-"))
            manager = text(obj(obj(user.get(ENTERPRISE)).get("manager")).get("managerId"))
            row["manager_email"] = overrides.get(row["email"]) or emails.get(manager, "")
            if self.grade_attribute:
                path = self.grade_attribute
                row[GRADE_KEY] = attribute(user, path) or attribute(obj(user.get(ENTERPRISE)), path)
        yield from rows

    def _list(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        start = 1
        while True:
            try:
                answer = self.client.search_users(count=self.page_size, start_index=start)
            except OSError as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise SourceError(
                    _plain("unreachable", service="Slack's SCIM API", url=self.client.base_url, reason=reason)
                ) from None
            body = answer.body if isinstance(answer.body, dict) else None
            if answer.status_code != 200:
                raise SourceError(self._refusal(answer.status_code, body))
            if body is None or not isinstance(body.get("Resources", []), list):
                raise SourceError(_plain("not_a_listing", service="Slack's SCIM API"))
            page = objs(body.get("Resources"))
            users += page
            start += len(page)
            total = body.get("totalResults")
            if not page or not isinstance(total, int) or start > total:
                return users

    def _refusal(self, status: int, body: dict[str, Any] | None) -> str:
        detail = _detail(body)
        if status == 429:
            return _plain("scim_throttled", attempts=self.retries)
        if status in (401, 403):
            return _plain("scim_refused", status=status, detail=detail)
        return _plain("scim_failed", status=status, detail=detail)


def _detail(body: dict[str, Any] | None) -> str:
    """The reason in a SCIM error: v2's ``detail``, or v1's ``Errors.description``."""
    if not body:
        return ""
    errors = body.get("Errors")
    if isinstance(errors, dict):
        return str(errors.get("description") or "")
    return str(body.get("detail") or "")


def _email(user: dict[str, Any]) -> str:
    emails = [e for e in objs(user.get("emails")) if text(e.get("value"))]
    return text(primary(emails).get("value")).lower()


def scim_row(user: dict[str, Any]) -> dict[str, str]:
    """One SCIM v2 user resource as a row in the CSV import's columns (the manager is resolved by the caller)."""
    row = blank_row()
    row["email"] = _email(user)
    name = obj(user.get("name"))
    given = " ".join(text(name.get(part)) for part in ("givenName", "familyName")).strip()
    row["name"] = text(name.get("formatted")) or given or text(user.get("displayName"))
    row["title"] = text(user.get("title"))
    enterprise = obj(user.get(ENTERPRISE))
    row["department"] = text(enterprise.get("department"))
    row["division"] = text(enterprise.get("division"))
    row["location"] = text(primary(user.get("addresses")).get("locality"))
    row["time_zone"] = text(user.get("timezone"))
    row["slack_user_id"] = text(user.get("id"))
    return row

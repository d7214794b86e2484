"""Directory sync from Google Workspace: the Admin SDK Directory API's ``users.list``.

A service account with domain-wide delegation acts as an administrator (``RMBOT_GOOGLE_ADMIN_EMAIL``) with
the read-only scope ``admin.directory.user.readonly``; google-auth signs its token request. Every page is
read before any row is given out, so a listing that cannot be completed (refused, throttled for too long,
unreachable) raises :class:`SourceError` and nothing is applied. Suspended and archived users are leavers:
they are not listed. Time zones are not in the Directory API: rows leave them empty.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from adapters.directory_sync.seniority import load_seniority_map
from adapters.directory_sync.shapes import attribute, obj, objs, primary, text
from adapters.directory_sync.sources import DirectorySource, SourceError, blank_row
from adapters.settings import Settings
from bot.seniority import GRADE_KEY
from bot.values import is_email
from bot.wording import say, unescape

SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
"""The one scope the service account is delegated: read users, nothing else."""
USERS_PATH = "/admin/directory/v1/users"
USER_FIELDS = ("primaryEmail", "name", "suspended", "archived", "organizations", "relations", "locations")
"""Partial response: only what a row needs is sent (no phones, addresses, ids or keys)."""
RETRIED = {429, 500, 502, 503, 504}
QUOTA_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
"""403 reasons that mean "slow down" rather than "not allowed" (Google's documented usage-limit errors)."""
SERVICE = "Google Workspace"


def _plain(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sources.{key}", **values))


def _error(key: str, **values: Any) -> SourceError:
    return SourceError(_plain(key, **values))


@dataclass
class GoogleDirectorySource:
    """Everyone in a Google Workspace account, read with ``users.list`` (500 a page)."""

    credentials: service_account.Credentials
    admin_email: str
    client_id: str = ""
    api_url: str = "https://admin.googleapis.com"
    name: str = "google"
    page_size: int = 500
    attempts: int = 6
    """Tries per page when Google answers 429, 5xx or a quota 403, waiting longer each time."""
    backoff: float = 1.0
    """The first wait in seconds (doubled each retry, plus jitter) when Google gives no Retry-After."""
    timeout: float = 30.0
    grade_attribute: str = ""
    """Where in a user the operator's grade sits (RMBOT_SENIORITY_MAP), e.g. ``customSchemas.Employment.grade``."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def rows(self) -> Iterator[dict[str, str]]:
        """Everyone active, as rows in the CSV import's columns; SourceError if the listing cannot be completed."""
        users = self._list()
        for user in users:
            if user.get("suspended") or user.get("archived"):
                continue
            row = user_row(user)
            if self.grade_attribute:
                row[GRADE_KEY] = attribute(user, self.grade_attribute)
            yield row

    def _list(self) -> list[dict[str, Any]]:
        session = AuthorizedSession(self.credentials)
        users: list[dict[str, Any]] = []
        token = ""
        while True:
            params = {
                "customer": "my_customer",
                "maxResults": str(self.page_size),
                "projection": "full",
                "fields": self._fields(),
            }
            if token:
                params["pageToken"] = token
            page = self._page(session, params)
            found = page.get("users", [])
            if not isinstance(found, list):
                raise _error("not_a_listing", service=SERVICE)
            users += [user for user in found if isinstance(user, dict)]
            token = str(page.get("nextPageToken") or "")
            if not token:
                return users

    def _fields(self) -> str:
        """The partial-response fields: what a row needs, and the grade attribute's top-level field."""
        extra = self.grade_attribute.split(".")[0]
        names = USER_FIELDS if not extra or extra in USER_FIELDS else (*USER_FIELDS, extra)
        return f"nextPageToken,users({','.join(names)})"

    def _page(self, session: AuthorizedSession, params: dict[str, str]) -> dict[str, Any]:
        url = self.api_url.rstrip("/") + USERS_PATH
        for attempt in range(1, self.attempts + 1):
            try:
                answer = session.get(url, params=params, timeout=self.timeout)
            except RefreshError as exc:
                reason = str(exc.args[0]) if exc.args else type(exc).__name__
                raise _error(
                    "google_token_refused",
                    account=self.credentials.service_account_email,
                    admin=self.admin_email,
                    reason=reason,
                    scope=SCOPE,
                    client_id=self.client_id,
                ) from None
            except (requests.RequestException, TransportError) as exc:
                if attempt == self.attempts:
                    raise _error("unreachable", service=SERVICE, url=url, reason=type(exc).__name__) from None
                self.sleep(self._wait(attempt, None))
                continue
            if answer.status_code == 200:
                try:
                    body = answer.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise _error("not_a_listing", service=SERVICE)
                return body
            status, reason, message = _google_error(answer)
            if answer.status_code in RETRIED or (answer.status_code == 403 and reason in QUOTA_REASONS):
                if attempt == self.attempts:
                    raise _error("google_throttled", status=status, attempts=self.attempts)
                self.sleep(self._wait(attempt, answer.headers.get("Retry-After")))
                continue
            if answer.status_code in (401, 403):
                raise _error(
                    "google_refused",
                    status=status,
                    reason=reason or "forbidden",
                    message=message,
                    admin=self.admin_email,
                )
            raise _error("google_failed", status=status, message=message)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before the next try: Google's Retry-After when given, else exponential backoff with jitter."""
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        return float(self.backoff * 2 ** (attempt - 1) + random.uniform(0, self.backoff))


def _google_error(answer: requests.Response) -> tuple[int, str, str]:
    """(status, first error reason, message) of a Google API error answer (``{"error": {...}}``)."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    error = obj(obj(body).get("error"))
    first = (objs(error.get("errors")) or [{}])[0]
    return answer.status_code, text(first.get("reason") or error.get("status")), text(error.get("message"))


def user_row(user: dict[str, Any]) -> dict[str, str]:
    """One Directory API user resource as a row in the CSV import's columns."""
    row = blank_row()
    row["email"] = text(user.get("primaryEmail")).lower()
    name = obj(user.get("name"))
    given = " ".join(text(name.get(part)) for part in ("givenName", "familyName")).strip()
    row["name"] = text(name.get("fullName")) or given
    organization = primary(user.get("organizations"))
    row["title"] = text(organization.get("title"))
    row["department"] = text(organization.get("department"))
    desk = primary(user.get("locations"))
    row["location"] = text(organization.get("location") or desk.get("buildingId") or desk.get("area"))
    managers = [r for r in objs(user.get("relations")) if r.get("type") == "manager" and text(r.get("value"))]
    row["manager_email"] = text(managers[0]["value"]).lower() if managers else ""
    return row


def google_source(settings: Settings) -> DirectorySource:
    """The Google Workspace source from the settings; SourceError naming the setting that is missing or wrong."""
    key_file = settings.rmbot_google_service_account_file.strip()
    admin = settings.rmbot_google_admin_email.strip()
    if not key_file:
        raise _error("google_no_key_file")
    if not admin:
        raise _error("google_no_admin")
    if not is_email(admin):
        raise _error("google_admin_not_email", given=admin)
    try:
        info = json.loads(Path(key_file).read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
        credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE], subject=admin)
    except OSError as exc:
        raise _error("google_key_unusable", file=key_file, reason=exc.strerror or type(exc).__name__) from None
    except (ValueError, KeyError) as exc:
        raise _error("google_key_unusable", file=key_file, reason=str(exc) or type(exc).__name__) from None
    mapping = load_seniority_map(settings)
    if settings.rmbot_google_token_url:
        credentials = credentials.with_token_uri(settings.rmbot_google_token_url)
    return GoogleDirectorySource(
        credentials=credentials,
        admin_email=admin,
        client_id=str(info.get("client_id") or ""),
        api_url=settings.rmbot_google_api_url,
        grade_attribute=mapping.grade_attribute if mapping is not None else "",
    )

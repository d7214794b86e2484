"""Directory sync from Slack: SCIM on Enterprise Grid, otherwise ``users.list`` with managers from a CSV file.

``users.list`` (the bot token, scopes ``users:read`` and ``users:read.email``) is paged with
``response_metadata.next_cursor``, 200 a page; slack_sdk honours ``Retry-After`` on 429. It gives names,
titles, emails and time zones but no managers: those come from the operator's file
(``RMBOT_SLACK_MANAGERS_CSV``, see :mod:`adapters.directory_sync.managers_csv`). Deactivated users, bots,
apps, Slackbot and guests are not listed. Every page is read before any row is given out, so a listing
that cannot be completed raises :class:`SourceError` and nothing is applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.scim import SCIMClient

from adapters.directory_sync.managers_csv import read_managers
from adapters.directory_sync.seniority import load_seniority_map
from adapters.directory_sync.shapes import obj, objs, text
from adapters.directory_sync.slack_scim import SlackScimSource
from adapters.directory_sync.sources import DirectorySource, SourceError, blank_row
from adapters.settings import Settings
from bot.wording import say, unescape

PAGE_SIZE = 200
"""Slack's recommended ``users.list`` page."""
RETRIES = 5
"""Retries of one request answered 429 (after each ``Retry-After``), and of a 5xx or a dropped connection."""
SLACKBOT = "USLACKBOT"


def _plain(key: str, **values: Any) -> str:
    return unescape(say(f"directory_sources.{key}", **values))


def retry_handlers(retries: int = RETRIES) -> list[RetryHandler]:
    """slack_sdk's retry handlers for a listing: 429 after ``Retry-After``, server errors, dropped connections."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=retries),
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def is_listed(member: dict[str, Any]) -> bool:
    """Whether a ``users.list`` member is a person of the organisation (not deactivated, a bot, an app or a guest)."""
    if member.get("id") == SLACKBOT or member.get("deleted"):
        return False
    if member.get("is_bot") or member.get("is_app_user"):
        return False
    return not (member.get("is_restricted") or member.get("is_ultra_restricted"))


def member_row(member: dict[str, Any]) -> dict[str, str]:
    """One ``users.list`` member as a row in the CSV import's columns (without a manager)."""
    profile = obj(member.get("profile"))
    row = blank_row()
    row["email"] = text(profile.get("email")).lower()
    row["name"] = text(
        member.get("real_name") or profile.get("real_name") or profile.get("display_name") or member.get("name")
    )
    row["title"] = text(profile.get("title"))
    row["time_zone"] = text(member.get("tz"))
    row["slack_user_id"] = text(member.get("id"))
    return row


@dataclass
class SlackUsersSource:
    """Everyone in a Slack workspace, read with ``users.list``; managers from the operator's CSV file."""

    client: WebClient
    managers_csv: str = ""
    name: str = "slack"
    page_size: int = PAGE_SIZE
    retries: int = RETRIES
    """How many 429s slack_sdk waits out per request (the client's retry handlers; in the operator's message)."""

    def rows(self) -> Iterator[dict[str, str]]:
        """Every person as a row in the CSV import's columns; SourceError if the listing cannot be completed."""
        members = [member for member in self._list() if is_listed(member)]
        managers = read_managers(self.managers_csv) if self.managers_csv else {}
        rows = [member_row(member) for member in members]
        for row in rows:
            if not row["email"]:
                raise SourceError(_plain("slack_no_email", user=row["slack_user_id"], name=row["name"] or "-"))
            row["manager_email"] = managers.get(row["email"], "")
        yield from rows

    def _list(self) -> list[dict[str, Any]]:
        members: list[dict[str, Any]] = []
        cursor = ""
        while True:
            try:
                answer = self.client.users_list(limit=self.page_size, cursor=cursor or None)
            except SlackApiError as exc:
                raise SourceError(_refusal(exc, self.retries)) from None
            except (SlackRequestError, OSError) as exc:
                url = self.client.base_url
                raise SourceError(_plain("unreachable", service="Slack", url=url, reason=type(exc).__name__)) from None
            found = answer.get("members")
            if not isinstance(found, list):
                raise SourceError(_plain("not_a_listing", service="Slack"))
            members += objs(found)
            cursor = text(obj(answer.get("response_metadata")).get("next_cursor"))
            if not cursor:
                return members


def _refusal(exc: SlackApiError, retries: int) -> str:
    """The operator's line for a ``users.list`` that Slack refused (after slack_sdk's retries)."""
    response = exc.response
    if response.status_code == 429:
        return _plain("slack_throttled", method="users.list", attempts=retries)
    error = str(response.get("error") or f"HTTP {response.status_code}")
    needed = str(response.get("needed") or "") if error == "missing_scope" else ""
    return _plain("slack_refused", method="users.list", error=error, needed=needed)


def slack_source(settings: Settings) -> DirectorySource:
    """The Slack source from the settings: SCIM when SLACK_SCIM_TOKEN is set, else ``users.list`` with the bot token."""
    managers_csv = settings.rmbot_slack_managers_csv.strip()
    if settings.slack_scim_token:
        scim_url = settings.slack_scim_url.rstrip("/") + "/"
        client = SCIMClient(token=settings.slack_scim_token, base_url=scim_url, retry_handlers=retry_handlers())
        mapping = load_seniority_map(settings)
        grade = mapping.grade_attribute if mapping is not None else ""
        return SlackScimSource(client=client, managers_csv=managers_csv, retries=RETRIES, grade_attribute=grade)
    if not settings.slack_bot_token:
        raise SourceError(_plain("slack_no_token"))
    from adapters.slack.delivery import api_base

    web = WebClient(
        token=settings.slack_bot_token,
        base_url=api_base(settings.slack_api_url),
        timeout=30,
        retry_handlers=retry_handlers(),
    )
    return SlackUsersSource(client=web, managers_csv=managers_csv)

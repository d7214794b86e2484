"""Directory sources for Google Workspace and Slack, driven over HTTP against fakes with the real APIs' shapes.

Each source is built from settings as `rmbot directory sync google|slack` builds it, and reads every page
(paging as each API pages), honours throttling, leaves out leavers, bots and guests, resolves managers,
and raises SourceError, before giving out any row, when the listing cannot be completed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from adapters.directory_sync.google import SCOPE, GoogleDirectorySource, google_source
from adapters.directory_sync.slack import SlackUsersSource, retry_handlers, slack_source
from adapters.directory_sync.slack_scim import SlackScimSource
from adapters.directory_sync.sources import ROW_COLUMNS, SourceError
from adapters.settings import Settings
from fake_google_directory import (
    USERS_PATH,
    FakeGoogleDirectory,
    backend_error,
    google_user,
    quota_error,
)
from fake_scim import FakeScim, scim_error, scim_user
from fake_slack import FakeSlack, slack_user

ADMIN = "it-admin@example.com"
NO_SETTINGS: dict[str, Any] = {
    "slack_bot_token": "",
    "slack_scim_token": "",
    "slack_api_url": "",
    "rmbot_slack_managers_csv": "",
    "rmbot_google_service_account_file": "",
    "rmbot_google_admin_email": "",
    "rmbot_google_token_url": "",
    "rmbot_seniority_map": "",
}


def settings(**values: Any) -> Settings:
    """Settings with only the given directory values (nothing from the environment or a .env file)."""
    return Settings(_env_file=None, **{**NO_SETTINGS, **values})


def by_email(rows: Iterator[dict[str, str]]) -> dict[str, dict[str, str]]:
    found = list(rows)
    assert all(set(row) == set(ROW_COLUMNS) for row in found), "every row carries exactly the CSV columns"
    return {row["email"]: row for row in found}


# -- Google Workspace -------------------------------------------------------------------------------------


def google_people() -> list[dict[str, Any]]:
    return [
        google_user("ceo@example.com", "Grace Hopper", title="Chief Executive", department="Board", location="London"),
        google_user("cto@example.com", "Alan Turing", title="CTO", department="Engineering", manager="ceo@example.com"),
        google_user(
            "dev@example.com",
            "Ada Lovelace",
            title="Engineer",
            department="Engineering",
            manager="CTO@example.com",
            building="Leeds-1",
        ),
        google_user("gone@example.com", "Old Hand", title="Engineer", manager="cto@example.com", suspended=True),
        google_user("archived@example.com", "Long Gone", title="Analyst", archived=True),
        google_user("new@example.com", "Katherine Johnson", title="Analyst", manager="cto@example.com"),
    ]


@pytest.fixture
def google() -> Iterator[FakeGoogleDirectory]:
    with FakeGoogleDirectory(google_people(), admins={ADMIN}, page_size=2) as fake:
        yield fake


def google_settings(fake: FakeGoogleDirectory, tmp_path: Path, *, delegated: bool = True, **values: Any) -> Settings:
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(fake.service_account(delegated=delegated)), encoding="utf-8")
    return settings(
        rmbot_google_service_account_file=str(key),
        rmbot_google_admin_email=ADMIN,
        rmbot_google_api_url=fake.base,
        **values,
    )


def quick(source: Any) -> GoogleDirectorySource:
    """The source with test-sized backoff (Google's own waits start at a second)."""
    assert isinstance(source, GoogleDirectorySource)
    return dataclasses.replace(source, backoff=0.01)


def test_google_lists_everyone_active_across_pages_with_managers(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    rows = by_email(google_source(google_settings(google, tmp_path)).rows())

    assert sorted(rows) == ["ceo@example.com", "cto@example.com", "dev@example.com", "new@example.com"]
    assert rows["dev@example.com"] == {
        **dict.fromkeys(ROW_COLUMNS, ""),
        "email": "dev@example.com",
        "name": "Ada Lovelace",
        "title": "Engineer",
        "department": "Engineering",
        "location": "Leeds-1",
        "manager_email": "cto@example.com",
    }
    assert rows["ceo@example.com"]["location"] == "London" and rows["ceo@example.com"]["manager_email"] == ""
    assert rows["new@example.com"]["manager_email"] == "cto@example.com"
    assert all(row["time_zone"] == "" and row["seniority"] == "" for row in rows.values())

    listings = google.listed(USERS_PATH)
    assert len(listings) == 3, "six users, two a page"
    assert [r.query.get("pageToken", "") != "" for r in listings] == [False, True, True]
    first = listings[0].query
    assert (first["customer"], first["maxResults"], first["projection"]) == ("my_customer", "500", "full")
    assert "phones" not in first["fields"] and "relations" in first["fields"], "only what a row needs is read"
    (claims,) = google.assertions
    assert claims["sub"] == ADMIN and claims["scope"] == SCOPE, "the service account acts as the admin, read-only"


def test_google_throttling_is_retried(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    google.script(429, quota_error(), after=1, retry_after=0)
    google.script(503, backend_error(), after=1)
    google.script(403, {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}}, after=2)
    source = quick(google_source(google_settings(google, tmp_path)))

    assert len(by_email(source.rows())) == 4
    assert [r.status for r in google.listed(USERS_PATH)] == [200, 429, 503, 200, 403, 200]


def test_google_error_mid_listing_gives_out_nothing(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    source = quick(google_source(google_settings(google, tmp_path)))
    google.script(503, backend_error(), after=2, times=source.attempts)

    rows = source.rows()
    with pytest.raises(
        SourceError, match=r"still answering 503 .* after 6 attempts at the users listing; try again later\.$"
    ):
        next(rows)
    assert google.pages_served == 2


def test_google_refusals_say_what_to_fix(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    undelegated = google_source(google_settings(google, tmp_path, delegated=False))
    with pytest.raises(
        SourceError, match=r"unauthorized_client.*delegate the scope .*admin\.directory\.user\.readonly"
    ):
        list(undelegated.rows())

    google.admins.clear()
    with pytest.raises(SourceError, match=r"refused to list users \(403 forbidden.*it-admin@example\.com"):
        list(google_source(google_settings(google, tmp_path)).rows())


def test_google_settings_missing_or_wrong_are_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^RMBOT_GOOGLE_SERVICE_ACCOUNT_FILE is not set"):
        google_source(settings(rmbot_google_admin_email=ADMIN))
    key = tmp_path / "key.json"
    with pytest.raises(SourceError, match=r"^RMBOT_GOOGLE_ADMIN_EMAIL is not set"):
        google_source(settings(rmbot_google_service_account_file=str(key)))
    with pytest.raises(SourceError, match=r"RMBOT_GOOGLE_SERVICE_ACCOUNT_FILE: .*key\.json is not a usable"):
        google_source(settings(rmbot_google_service_account_file=str(key), rmbot_google_admin_email=ADMIN))
    key.write_text('{"type": "service_account"}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"key\.json is not a usable service account key"):
        google_source(settings(rmbot_google_service_account_file=str(key), rmbot_google_admin_email=ADMIN))


# -- Slack: users.list ------------------------------------------------------------------------------------


def slack_members() -> dict[str, dict[str, Any]]:
    guest = slack_user("U0GUEST", "Visiting Consultant", "consultant@partner.example")
    guest["is_restricted"] = True
    left = slack_user("U0LEFT", "Departed Person", "left@example.com")
    left["deleted"] = True
    members = {
        "USLACKBOT": {**slack_user("USLACKBOT", "Slackbot"), "is_bot": False},
        "U0CEO": slack_user("U0CEO", "Grace Hopper", "ceo@example.com", "Chief Executive", "Europe/London"),
        "U0BOT": slack_user("U0BOT", "Deploy Bot", is_bot=True),
        "U0CTO": slack_user("U0CTO", "Alan Turing", "CTO@Example.com", "CTO", "Europe/Paris"),
        "U0LEFT": left,
        "U0GUEST": guest,
        "U0DEV": slack_user("U0DEV", "Ada Lovelace", "dev@example.com", "Engineer", "America/New_York"),
    }
    return members


def managers_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "managers.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def users_source(fake: FakeSlack, **values: Any) -> SlackUsersSource:
    source = slack_source(settings(slack_bot_token="xoxb-test", slack_api_url=fake.api_url, **values))
    assert isinstance(source, SlackUsersSource)
    return dataclasses.replace(source, page_size=2)


def test_slack_users_list_pages_skip_bots_guests_and_leavers_and_take_managers_from_csv(tmp_path: Path) -> None:
    managers = managers_file(
        tmp_path, "\ufeffEmail , Manager_Email\ncto@example.com,ceo@example.com\n\nDEV@example.com,cto@example.com\n"
    )
    with FakeSlack(users=slack_members()) as fake:
        rows = by_email(users_source(fake, rmbot_slack_managers_csv=managers).rows())
        calls = fake.calls_to("users.list")

    assert sorted(rows) == ["ceo@example.com", "cto@example.com", "dev@example.com"]
    assert rows["dev@example.com"] == {
        **dict.fromkeys(ROW_COLUMNS, ""),
        "email": "dev@example.com",
        "name": "Ada Lovelace",
        "title": "Engineer",
        "time_zone": "America/New_York",
        "manager_email": "cto@example.com",
        "slack_user_id": "U0DEV",
    }
    assert rows["cto@example.com"]["manager_email"] == "ceo@example.com"
    assert rows["ceo@example.com"]["manager_email"] == ""
    assert len(calls) == 4, "seven members, two a page"
    assert [bool(c.args.get("cursor")) for c in calls] == [False, True, True, True]
    assert all(c.args.get("limit") == "2" for c in calls)


def test_slack_users_list_waits_out_rate_limits() -> None:
    with FakeSlack(users=slack_members()) as fake:
        fake.rate_limit("users.list", retry_after=1)
        rows = by_email(users_source(fake).rows())
        assert fake.rate_limited == 1 and fake.violations == 0, "the retry came after Retry-After"
    assert len(rows) == 3


def test_slack_users_list_failures_give_out_nothing() -> None:
    members = slack_members()
    members["U0DEV"]["profile"]["email"] = ""
    with FakeSlack(users=members) as fake:
        rows = users_source(fake).rows()
        with pytest.raises(SourceError, match=r"no email address for U0DEV \(Ada Lovelace\).*users:read\.email"):
            next(rows)
        assert len(fake.calls_to("users.list")) == 4, "the listing was complete before any row was given out"

        fake.fail("users.list", "invalid_auth")
        with pytest.raises(SourceError, match=r"^Slack refused users\.list: invalid_auth\.$"):
            list(users_source(fake).rows())

        fake.rate_limit("users.list", retry_after=0, times=2)
        client = WebClient("xoxb-test", base_url=fake.api_url, retry_handlers=retry_handlers(1))
        impatient = dataclasses.replace(users_source(fake), client=client, retries=1)
        with pytest.raises(SourceError, match=r"still rate-limiting users\.list after 1 retries"):
            list(impatient.rows())


def test_slack_needs_a_token() -> None:
    with pytest.raises(SourceError, match=r"SLACK_BOT_TOKEN .*users:read\.email.*SLACK_SCIM_TOKEN"):
        slack_source(settings())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "person,boss\na@example.com,b@example.com\n",
            r"needs the columns email and manager_email \(found: person, boss\)",
        ),
        ("email,manager_email\na@example.com,not-an-email\n", r"line 2: 'not-an-email' is not an email address"),
        (
            "email,manager_email\na@example.com,b@example.com\nA@example.com,c@example.com\n",
            r"line 3: A@example\.com already has a manager on line 2",
        ),
        ("email,manager_email\na@example.com,A@example.com\n", r"line 2: a@example\.com is given as their own manager"),
    ],
)
def test_slack_managers_csv_problems_are_named(tmp_path: Path, text: str, message: str) -> None:
    managers = managers_file(tmp_path, text)
    with (
        FakeSlack(users=slack_members()) as fake,
        pytest.raises(SourceError, match=r"RMBOT_SLACK_MANAGERS_CSV: .*" + message),
    ):
        list(users_source(fake, rmbot_slack_managers_csv=managers).rows())
    with FakeSlack(users=slack_members()) as fake, pytest.raises(SourceError, match=r"cannot read .*missing\.csv"):
        list(users_source(fake, rmbot_slack_managers_csv=str(tmp_path / "missing.csv")).rows())


# -- Slack: SCIM on Enterprise Grid -----------------------------------------------------------------------


def scim_people() -> list[dict[str, Any]]:
    return [
        scim_user("W0DEV", "dev@example.com", "Ada Lovelace", title="Engineer", department="Engineering",
                  division="Product", manager_id="W0CTO", timezone="Europe/London", locality="Leeds"),
        scim_user("W0CEO", "ceo@example.com", "Grace Hopper", title="Chief Executive", department="Board"),
        scim_user("W0GONE", "gone@example.com", "Old Hand", manager_id="W0CTO", active=False),
        scim_user("W0NEW", "new@example.com", "Katherine Johnson", title="Analyst", manager_id="W0GONE"),
        scim_user("W0CTO", "cto@example.com", "Alan Turing", title="CTO", manager_id="W0CEO"),
    ]  # fmt: skip


@pytest.fixture
def scim() -> Iterator[FakeScim]:
    with FakeScim(scim_people(), tokens={"xoxp-admin": True, "xoxp-member": False}, page_size=2) as fake:
        yield fake


def scim_source(fake: FakeScim, token: str = "xoxp-admin", **values: Any) -> SlackScimSource:
    source = slack_source(
        settings(slack_scim_token=token, slack_scim_url=fake.url, slack_bot_token="xoxb-also-set", **values)
    )
    assert isinstance(source, SlackScimSource), "with a SCIM token, SCIM is used"
    return source


def test_scim_lists_active_users_across_pages_with_managers_resolved(scim: FakeScim) -> None:
    rows = by_email(scim_source(scim).rows())

    assert sorted(rows) == ["ceo@example.com", "cto@example.com", "dev@example.com", "new@example.com"]
    assert rows["dev@example.com"] == {
        **dict.fromkeys(ROW_COLUMNS, ""),
        "email": "dev@example.com",
        "name": "Ada Lovelace",
        "title": "Engineer",
        "department": "Engineering",
        "division": "Product",
        "location": "Leeds",
        "time_zone": "Europe/London",
        "manager_email": "cto@example.com",
        "slack_user_id": "W0DEV",
    }, "the manager's id, listed on a later page, is resolved to their email"
    assert rows["cto@example.com"]["manager_email"] == "ceo@example.com"
    assert rows["new@example.com"]["manager_email"] == "", "a deactivated manager is nobody's manager"
    pages = scim.listed("/scim/v2/Users")
    assert [(r.query["startIndex"], r.query["count"]) for r in pages] == [("1", "1000"), ("3", "1000"), ("5", "1000")]


def test_scim_managers_csv_wins(scim: FakeScim, tmp_path: Path) -> None:
    managers = managers_file(tmp_path, "email,manager_email\nnew@example.com,ceo@example.com\n")
    rows = by_email(scim_source(scim, rmbot_slack_managers_csv=managers).rows())
    assert rows["new@example.com"]["manager_email"] == "ceo@example.com"
    assert rows["dev@example.com"]["manager_email"] == "cto@example.com"


def test_scim_rate_limit_is_waited_out(scim: FakeScim) -> None:
    scim.script(429, scim_error(429, "rate_limited"), after=1, retry_after=0)
    assert len(by_email(scim_source(scim).rows())) == 4
    assert [r.status for r in scim.listed("/scim/v2/Users")] == [200, 429, 200, 200]


def test_scim_failures_give_out_nothing(scim: FakeScim) -> None:
    scim.script(503, scim_error(503, "service_unavailable"), after=1, times=3)
    rows = scim_source(scim).rows()
    with pytest.raises(SourceError, match=r"^Slack's SCIM API answered 503 .*\(service_unavailable\)\.$"):
        next(rows)
    assert scim.pages_served == 1

    with pytest.raises(SourceError, match=r"refused to list users \(403: missing_scope: admin\).*admin scope"):
        list(scim_source(scim, token="xoxp-member").rows())
    with pytest.raises(SourceError, match=r"refused to list users \(401: invalid_authentication\)"):
        list(scim_source(scim, token="xoxp-unknown").rows())


def test_a_grade_attribute_from_the_seniority_mapping_is_read(google: FakeGoogleDirectory, tmp_path: Path) -> None:
    mapping = tmp_path / "seniority.yml"
    mapping.write_text("grade: {attribute: customSchemas.Employment.grade, levels: {G7: 6}}\n", encoding="utf-8")
    google.users[0]["customSchemas"] = {"Employment": {"grade": "G7"}}
    source = google_source(google_settings(google, tmp_path, rmbot_seniority_map=str(mapping)))
    rows = list(source.rows())
    assert [row.get("grade") for row in rows] == ["G7", "", "", ""]
    assert "customSchemas" in google.listed(USERS_PATH)[0].query["fields"]

    mapping.write_text("grade: {attribute: costCenter, levels: {CC1: 6}}\n", encoding="utf-8")
    people = scim_people()
    people[1]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["costCenter"] = "CC1"
    with FakeScim(people, tokens={"xoxp-admin": True}) as fake:
        by_grade = {r["email"]: r["grade"] for r in scim_source(fake, rmbot_seniority_map=str(mapping)).rows()}
    assert by_grade["ceo@example.com"] == "CC1" and by_grade["dev@example.com"] == ""

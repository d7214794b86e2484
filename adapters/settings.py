"""Configuration from environment variables and ``.env`` (pydantic-settings).

A wrong value stops start-up with one clear line: see :func:`load_settings`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.grants import ANY_TENANT
from bot.tenancy import CONSOLE_TENANT, TenantKeyError, normalise_tenant_key, tenant_key
from bot.values import is_email
from bot.wording import say, unescape

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DATABASE_URL = re.compile(r"^(?P<scheme>[\w+]+)://", re.ASCII)


class ConfigurationError(SystemExit):
    """Raised with a one-line reason when the configuration cannot be used."""


ROLES = ("all", "web", "worker")
"""What one ``rmbot serve`` process does: everything, only the HTTP side, or only the work behind it."""
WORKER_MODES = ("process", "thread")
"""Where ``rmbot serve`` (role ``all``) handles events: a supervised child process of its own, or a thread."""


class Settings(BaseSettings):
    """Every setting the service reads. Field names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///rmbot.db", description="SQLite file or PostgreSQL URL")
    rmbot_host: str = Field(default="127.0.0.1", description="address `rmbot serve` listens on")
    rmbot_port: int = Field(default=3000, ge=1, le=65535, description="port `rmbot serve` listens on")
    rmbot_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve /metrics on a listener of its own on this port, and not on RMBOT_PORT (default: on RMBOT_PORT)",
    )
    rmbot_metrics_host: str = Field(
        default="", description="address the metrics listener binds to (default: RMBOT_HOST)"
    )
    rmbot_time_zone: str = Field(default="UTC", description="time zone for people whose own is unknown")
    rmbot_log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    rmbot_log_format: str = Field(default="text", description="text, or json for one JSON object per line")
    rmbot_files_dir: str = Field(default="rmbot-files", description="where the console saves files the bot sends")
    rmbot_sample_data: bool = Field(default=True, description="load the sample organisation on first console run")
    rmbot_console_coordinator: str = Field(
        default="amara.okafor@example.com", description="whom `make run` opens the console as"
    )
    rmbot_scheduler_tick_seconds: float = Field(
        default=5.0,
        ge=1,
        le=30,
        description="how often every replica looks for due work and tries for scheduler leadership (bounds failover)",
    )
    rmbot_role: str = Field(
        default="all",
        description="all: the whole service in one process; web: only "
        "accept platform requests; worker: only handle, send "
        "and schedule",
    )
    rmbot_worker: str = Field(
        default="process",
        description="process: `rmbot serve` (role all) handles, sends and schedules in a child process it "
        "supervises and restarts; thread: in a thread of the web process",
    )
    rmbot_send_lease_seconds: float = Field(
        default=120.0,
        ge=10,
        le=3600,
        description="how long a replica holds an outbox message it is sending before another may take it over",
    )
    rmbot_payload_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="days a handled message's stored payload (what was typed, what was sent, files) is kept "
        "before it is redacted to the ids and keys that exactly-once delivery needs",
    )
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = ""
    slack_client_id: str = Field(default="", description="OAuth install to many workspaces: the app's client id")
    slack_client_secret: str = ""
    slack_state_secret: str = Field(default="", description="signs the OAuth state parameter")
    slack_workspace_budget: float = Field(
        default=10.0, gt=0, le=1000, description="Slack Web API requests per second per workspace (outbox)"
    )
    slack_tier_scale: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="multiplies Slack's per-method rate tiers (conversations.open: 50 calls a minute per "
        "workspace, views.open: 100...); raise it only when Slack allows your app more",
    )
    slack_scim_token: str = Field(
        default="",
        description="directory sync from Slack on Enterprise Grid: an org admin's user token (xoxp-) with the "
        "admin scope, read through SCIM (empty: users.list with SLACK_BOT_TOKEN)",
    )
    slack_scim_url: str = Field(
        default="https://api.slack.com/scim/v2/", description="Slack's SCIM API (a local fake in tests)"
    )
    rmbot_slack_managers_csv: str = Field(
        default="",
        description="directory sync from Slack: a CSV file (columns email, manager_email) of everyone's manager",
    )
    rmbot_google_service_account_file: str = Field(
        default="",
        description="Google Workspace: the service account's JSON key file (domain-wide delegation)",
    )
    rmbot_google_admin_email: str = Field(
        default="", description="Google Workspace: the administrator the service account acts as (directory sync)"
    )
    rmbot_google_api_url: str = Field(
        default="https://admin.googleapis.com", description="Google's Admin SDK (a local fake in tests)"
    )
    rmbot_google_token_url: str = Field(
        default="", description="Google's OAuth token endpoint (default: the key file's token_uri)"
    )
    rmbot_calendar_microsoft_tenant: str = Field(
        default="", description="calendars on Microsoft 365: the Directory (tenant) ID of the app registration"
    )
    rmbot_calendar_microsoft_client_id: str = Field(
        default="", description="calendars on Microsoft 365: the app registration's client id (Calendars.ReadWrite)"
    )
    rmbot_calendar_microsoft_client_secret: str = Field(
        default="", description="calendars on Microsoft 365: the app registration's client secret"
    )
    rmbot_calendar_microsoft_login_url: str = Field(
        default="https://login.microsoftonline.com", description="Microsoft Entra ID's sign-in host (calendars)"
    )
    rmbot_calendar_graph_url: str = Field(
        default="https://graph.microsoft.com/v1.0", description="Microsoft Graph (calendars; a local fake in tests)"
    )
    rmbot_calendar_google_service_account_file: str = Field(
        default="",
        description="calendars on Google Workspace: the service account's JSON key file (domain-wide delegation "
        "with the calendar.freebusy and calendar.events scopes)",
    )
    rmbot_calendar_google_api_url: str = Field(
        default="https://www.googleapis.com/calendar/v3", description="Google Calendar API (a local fake in tests)"
    )
    rmbot_calendar_google_token_url: str = Field(
        default="", description="Google's OAuth token endpoint for calendars (default: the key file's token_uri)"
    )
    rmbot_directory_sync: str = Field(
        default="",
        description="a scheduled directory sync, SOURCE@daily, @hourly or @weekly (sources: microsoft, google, "
        "slack), run by the scheduler leader (empty: none; `rmbot directory sync SOURCE` runs one by hand)",
    )
    rmbot_directory_sync_tenant: str = Field(
        default="",
        description="the tenant the scheduled directory sync fills: console, slack:TEAM_ID or teams:TENANT_ID "
        "(default: teams:RMBOT_GRAPH_TENANT_ID for microsoft, else console)",
    )
    rmbot_seniority_map: str = Field(
        default="",
        description="directory sync: a YAML file mapping job-title patterns (or a grade attribute) to seniority "
        "levels, for sources without seniority; a person's own seniority wins",
    )
    rmbot_graph_tenant_id: str = Field(
        default="", description="Microsoft Entra ID directory sync: the tenant (default: MICROSOFT_APP_TENANT_ID)"
    )
    rmbot_graph_client_id: str = Field(
        default="",
        description="Microsoft Entra ID directory sync: the app registration with User.Read.All "
        "(and optionally MailboxSettings.Read) application permissions (default: MICROSOFT_APP_ID)",
    )
    rmbot_graph_client_secret: str = Field(
        default="", description="Microsoft Entra ID directory sync: its client secret (default: MICROSOFT_APP_PASSWORD)"
    )
    rmbot_graph_url: str = Field(
        default="https://graph.microsoft.com/v1.0",
        description="Microsoft Graph for the directory sync (other clouds, a local fake in tests)",
    )
    rmbot_graph_login_url: str = Field(
        default="https://login.microsoftonline.com",
        description="Microsoft Entra ID, where the directory sync gets its Graph token (other clouds)",
    )
    microsoft_app_id: str = ""
    microsoft_app_password: str = ""
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = Field(
        default="SingleTenant",
        description="SingleTenant (the default: Azure creates no other kind of bot now), "
        "UserAssignedMSI, or MultiTenant for bots registered that way before",
    )
    teams_enabled: bool = Field(
        default=False, description="serve POST /api/messages without credentials (local testing only)"
    )
    teams_tenant_budget: float = Field(
        default=30.0, gt=0, le=1000, description="Teams connector requests per second per tenant (outbox)"
    )
    teams_openid_metadata_url: str = Field(
        default="", description="where Bot Framework signing keys are published (default: Microsoft's public cloud)"
    )
    rmbot_public_url: str = Field(
        default="",
        description="https:// address the platforms reach `rmbot serve` at "
        "(signed download links, the Teams app package)",
    )
    rmbot_link_secret: str = Field(
        default="", description="signs download links (default: derived from the app password)"
    )
    teams_login_url: str = Field(
        default="https://login.microsoftonline.com",
        description="Microsoft Entra ID, where the bot gets its token for the Bot Framework "
        "connector (other clouds, tests)",
    )
    teams_catalog_app_id: str = Field(
        default="",
        description="the app's id in the tenant's Teams app catalog: with the Graph permission "
        "TeamsAppInstallation.ReadWriteForUser.All granted, the bot installs its app for people who "
        "have not, to reach them (empty: it waits for them to install it)",
    )
    teams_graph_url: str = Field(
        default="https://graph.microsoft.com/v1.0",
        description="Microsoft Graph, for installing the app for people (other clouds, tests)",
    )
    rmbot_admin_emails: str = Field(
        default="",
        description="the first coordinators, by email, comma-separated: "
        "EMAIL (every tenant) or TENANT:EMAIL (a Teams tenant id, "
        "or teams:ID, slack:TEAM, console)",
    )
    rmbot_pages_dir: str = Field(
        default="",
        description="a folder of the operator's own page templates "
        "(index.html.j2, privacy.html.j2, terms.html.j2), used "
        "instead of those in prompts/pages",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        check_database_url(value)
        return value

    @field_validator("rmbot_metrics_port", mode="before")
    @classmethod
    def _blank_metrics_port(cls, value: object) -> object:
        """``RMBOT_METRICS_PORT=`` (set but empty, as templates and compose files leave it) means unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rmbot_admin_emails")
    @classmethod
    def _check_admin_emails(cls, value: str) -> str:
        parse_admin_emails(value)
        return value

    @field_validator("rmbot_time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone (try Europe/London or UTC)") from exc
        return value

    @field_validator("rmbot_log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"{value!r} is not a log level (DEBUG, INFO, WARNING or ERROR)")
        return value.upper()

    @field_validator("rmbot_log_format")
    @classmethod
    def _check_log_format(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise ValueError(f"{value!r} is not a log format (text or json)")
        return value.lower()

    @field_validator("rmbot_role")
    @classmethod
    def _check_role(cls, value: str) -> str:
        if value.lower() not in ROLES:
            raise ValueError(f"{value!r} is not a role (all, web or worker)")
        return value.lower()

    @field_validator("rmbot_worker")
    @classmethod
    def _check_worker(cls, value: str) -> str:
        if value.lower() not in WORKER_MODES:
            raise ValueError(f"{value!r} is not a worker mode (process or thread)")
        return value.lower()

    @property
    def admin_grants(self) -> list[tuple[str, str]]:
        """RMBOT_ADMIN_EMAILS as (tenant key, email) pairs, tenant key ``*`` for every tenant."""
        return parse_admin_emails(self.rmbot_admin_emails)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token or self.slack_app_token or self.slack_client_id)

    @property
    def teams_configured(self) -> bool:
        return bool(self.microsoft_app_id or self.teams_enabled)

    @property
    def calendar_providers(self) -> frozenset[str]:
        """The calendar providers whose credentials are set: programmes may use only these (issue #21)."""
        found = set()
        microsoft = (
            self.rmbot_calendar_microsoft_tenant,
            self.rmbot_calendar_microsoft_client_id,
            self.rmbot_calendar_microsoft_client_secret,
        )
        if all(microsoft):
            found.add("microsoft")
        if self.rmbot_calendar_google_service_account_file:
            found.add("google")
        return frozenset(found)


def parse_admin_emails(value: str) -> list[tuple[str, str]]:
    """RMBOT_ADMIN_EMAILS as (tenant key, email) pairs. Entries are separated by commas (or semicolons, or
    spaces): ``EMAIL`` holds in every workspace and tenant (key ``*``), ``TENANT:EMAIL`` in one, where
    TENANT is a Teams tenant id (a GUID) or a tenant key as the command line takes it (``teams:ID``,
    ``slack:TEAM_ID``, ``console``). Raises ValueError, in one line, for an entry that is neither."""
    entries: list[tuple[str, str]] = []
    for entry in re.split(r"[,;\s]+", value.strip()):
        if not entry:
            continue
        where, _, email = entry.rpartition(":")
        if not is_email(email):
            raise ValueError(unescape(say("cli.admin_email_not_email", given=email or entry)))
        if not where:
            key = ANY_TENANT
        elif _GUID.match(where):
            key = tenant_key("teams", where)
        else:
            try:
                key = normalise_tenant_key(where) if ":" in where or where == CONSOLE_TENANT else ""
            except TenantKeyError:
                key = ""
            if not key:
                raise ValueError(unescape(say("cli.admin_email_tenant", given=where)))
        entries.append((key, email.lower()))
    return entries


def check_database_url(url: str) -> None:
    """Refuse, in one line (ValueError), a DATABASE_URL no store can open: not a URL, a database other than
    SQLite or PostgreSQL, or PostgreSQL without a database name. The store reads it in full when it opens."""
    found = _DATABASE_URL.match(url)
    if found is None:
        raise ValueError(unescape(say("cli.database_url_invalid", given=url)))
    backend = found["scheme"].split("+")[0]
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(unescape(say("cli.database_url_backend", given=url, backend=backend)))
    if backend == "postgresql" and not urlsplit(url).path.strip("/"):
        raise ValueError(unescape(say("cli.database_url_no_database", given=url)))


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning any invalid value into a one-line :class:`ConfigurationError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(p) for p in error["loc"]).upper() or "settings"
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        prefix = "" if message.startswith(name) else f"{name}: "
        raise ConfigurationError(f"Configuration error: {prefix}{message}") from None

"""``rmbot``: the operator's command line (the composition root: settings, store, engine, adapters).

``rmbot --help`` imports only Typer, Rich and what the commands' signatures name: each command imports the
settings, the store and the bot where it runs (tests/test_start_up.py keeps it so)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from adapters.cli.coordinators import app as coordinators_app
from adapters.cli.directory_sync import directory_commands
from adapters.cli.matching import match as match_command
from adapters.cli.matching import participants_app
from adapters.cli.options import CONSOLE_TENANT
from adapters.cli.tenants import app as tenant_app
from bot.wording import say, unescape

if TYPE_CHECKING:
    from adapters.settings import Settings
    from bot.domain import Programme, Tenant
    from bot.ports import UnitOfWork
    from storage.store import SqlStore

app = typer.Typer(
    help="rmbot: a reverse-mentoring companion for Slack, Microsoft Teams and the local console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
program_app = typer.Typer(help="Programmes, for automation without the chat.", no_args_is_help=True)
scheduler_app = typer.Typer(help="Scheduled work (reminders, agendas, nudges).", no_args_is_help=True)
slack_app = typer.Typer(help="The Slack app (its manifest).", no_args_is_help=True)
teams_app = typer.Typer(help="The Microsoft Teams app (its package, unconfirmed sends).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(coordinators_app, name="coordinators")
app.add_typer(program_app, name="program")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(slack_app, name="slack")
app.add_typer(teams_app, name="teams")
app.add_typer(directory_commands(), name="directory")  # import (a CSV file) and sync (a directory)
app.add_typer(participants_app, name="participants")
app.add_typer(tenant_app, name="tenant")
app.command("match")(match_command)

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line and stop."""
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    """The settings, or one clear line and exit 2; logging configured from them."""
    from adapters.observability import configure_logging
    from adapters.settings import ConfigurationError, load_settings

    try:
        loaded = load_settings()
    except ConfigurationError as exc:
        fail(str(exc), 2)
    configure_logging(loaded.rmbot_log_level, loaded.rmbot_log_format)
    return loaded


def open_store(config: Settings) -> SqlStore:
    """The configured store, migrated (see :func:`adapters.wiring.open_store`)."""
    from adapters.wiring import open_store as open_configured

    return open_configured(config)


def tenant_or_fail(store: SqlStore, key: str) -> Tenant:
    """The tenant an operator-typed key names (created if new), or one clear line and exit 2."""
    from adapters.wiring import ensure_tenant
    from bot.tenancy import TenantKeyError

    try:
        return ensure_tenant(store, key)
    except TenantKeyError as exc:
        fail(str(exc), 2)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default RMBOT_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default RMBOT_PORT)."),
    role: str | None = typer.Option(
        None, help="all, web (accept requests only) or worker (handle, send and schedule only); default RMBOT_ROLE."
    ),
) -> None:
    """Run the bot: the HTTP server and, without Slack or Teams credentials, the local console."""
    from adapters.server import serve as run_server
    from adapters.settings import ROLES

    if role is not None and role.lower() not in ROLES:
        fail(say("cli.bad_role", given=role), 2)
    run_server(settings(), host=host, port=port, role=role.lower() if role else None)


@app.command()
def chat(
    as_: str = typer.Option(None, "--as", help="Email of the person to chat as."),
    sample: bool = typer.Option(True, help="Load the sample organisation when the directory is empty."),
) -> None:
    """Chat with the bot in this terminal, on the same engine as Slack and Teams."""
    from adapters.console.app import run_console

    config = settings()
    run_console(config, as_email=as_ or config.rmbot_console_coordinator, load_sample=sample)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration."""
    from storage.db import current_revision

    store = open_store(settings())
    out.print(say("cli.db_upgraded", revision=current_revision(store.engine)), markup=False)


@program_app.command("new")
def program_new(
    name: str,
    focus: str = typer.Option("digital", help="digital, social_media, inclusion, leadership or custom"),
    coordinator: str | None = typer.Option(None, help="Email of the programme's coordinator."),
    starts: str | None = typer.Option(None, help="Start of the term (YYYY-MM-DD)."),
    ends: str | None = typer.Option(None, help="End of the term (YYYY-MM-DD)."),
    cadence: str = typer.Option("2w", help="How often pairs meet: weekly, 2w, monthly..."),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Create a programme without the chat (for automation)."""
    from bot.commands.programmes import new_programme
    from bot.domain import Focus
    from bot.values import ValueProblem, parse_cadence, parse_date

    try:
        fields = {
            "focus": Focus(focus),
            "cadence_days": parse_cadence(cadence),
            "starts_on": parse_date(starts) if starts else None,
            "ends_on": parse_date(ends) if ends else None,
        }
    except ValueProblem as problem:
        fail(say(problem.key, **problem.values), 2)
    except ValueError:
        fail(say("cli.bad_focus", given=focus), 2)
    store = open_store(settings())
    found = tenant_or_fail(store, tenant)
    with store.unit_of_work() as uow:
        coordinator_id = None
        if coordinator:
            person = uow.people.by_email(found.id, coordinator)
            if person is None:
                fail(say("cli.unknown_email", email=coordinator, tenant=tenant))
            coordinator_id = person.id
        detail = unescape(say("cli.audit_program_new", name=name))
        try:
            programme = new_programme(uow, found.id, name, coordinator_id=coordinator_id, audit_as=detail, **fields)
        except ValueProblem as problem:
            fail(say(problem.key, **problem.values))
    out.print(say("cli.programme_created", name=programme.name, slug=programme.slug), markup=False)


@program_app.command("list")
def program_list(tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT")) -> None:
    """List the programmes of a tenant."""
    store = open_store(settings())
    found = tenant_or_fail(store, tenant)
    with store.unit_of_work() as uow:
        for programme in uow.programmes.in_tenant(found.id):
            out.print(f"{programme.slug}\t{programme.status.value}\t{programme.name}", markup=False, highlight=False)


def _programme_or_fail(uow: UnitOfWork, tenant_id: int, given: str, tenant: str) -> Programme:
    """The programme ``given`` names (slug or name) in the tenant, or one clear line and exit 1."""
    from bot.commands.registry import find_programme

    chosen = find_programme(uow.programmes.in_tenant(tenant_id), given)
    if chosen is None:
        fail(say("cli.unknown_programme", given=given, tenant=tenant))
    return chosen


@program_app.command("questions")
def program_questions(
    programme: str = typer.Argument(..., help="Programme slug or name."),
    file: str = typer.Argument(..., help="YAML list of questions (prompt, kind, choices, role, required)."),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Replace the questions a programme adds to its intake with those in a YAML file (all or nothing)."""
    import yaml

    from bot.errors import CommandError
    from bot.services.programmes import ProgrammeService, QuestionsRefused

    try:
        specs = yaml.safe_load(open(file, encoding="utf-8").read())
    except OSError as exc:
        fail(say("cli.unreadable_file", file=file, reason=exc.strerror or str(exc)), 2)
    except yaml.YAMLError as exc:
        fail(say("cli.bad_yaml", file=file, reason=str(exc).splitlines()[0]), 2)
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        fail(say("cli.questions_not_a_list", file=file), 2)
    store = open_store(settings())
    found = tenant_or_fail(store, tenant)
    with store.unit_of_work() as uow:
        chosen = _programme_or_fail(uow, found.id, programme, tenant)
        detail = unescape(say("cli.audit_questions", file=Path(file).name, count=len(specs)))
        try:
            steps = ProgrammeService.of(uow).set_questions(chosen, specs, audit_as=detail)
        except QuestionsRefused as refused:
            for number, problem in refused.problems:
                reason = say(problem.key, **problem.values)
                err.print(say("cli.question_problem", number=number, reason=reason), markup=False, highlight=False)
            raise typer.Exit(1) from None
        except CommandError as problem:
            fail(say(problem.key, **problem.values), 1)
    out.print(say("cli.questions_set", count=len(steps), name=chosen.name), markup=False)


@program_app.command("library")
def program_library(
    programme: str = typer.Argument(..., help="Programme slug or name."),
    file: str = typer.Argument(
        ..., help="YAML with `topics:` and `frameworks:` (see docs/examples/library_extra.yml)."
    ),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Give a programme its own session topics and frameworks, added to the shipped library (all or nothing)."""
    from bot.library import LibraryError, read_extra
    from bot.services.programmes import ProgrammeService

    try:
        extra = read_extra(Path(file))
    except OSError as exc:
        fail(say("cli.unreadable_file", file=file, reason=exc.strerror or str(exc)), 2)
    except LibraryError as exc:
        fail(str(exc), 1)
    store = open_store(settings())
    found = tenant_or_fail(store, tenant)
    with store.unit_of_work() as uow:
        chosen = _programme_or_fail(uow, found.id, programme, tenant)
        detail = unescape(say("cli.audit_library", file=Path(file).name))
        try:
            merged = ProgrammeService.of(uow).set_library(chosen, extra, source=file, audit_as=detail)
        except LibraryError as exc:
            fail(str(exc), 1)
    out.print(
        say("cli.library_set", name=chosen.name, topics=len(merged.topics), frameworks=len(merged.frameworks)),
        markup=False,
    )


@app.command("report")
def report(
    programme: str = typer.Argument(..., help="Programme slug or name."),
    out_dir: str = typer.Option(..., "--out", help="Directory to write report.md, the charts and pairs.csv into."),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Write a programme's report as Markdown, PNG charts and a CSV of pairs (aggregates only)."""
    from bot.commands.reports import summary_text
    from bot.services.reports import ReportService

    store = open_store(settings())
    found = tenant_or_fail(store, tenant)
    target = Path(out_dir)
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        chosen = _programme_or_fail(uow, found.id, programme, tenant)
        service = ReportService.of(uow)
        written = service.report(chosen, now)
        csv_text = service.pairs_csv(chosen, now)
    target.mkdir(parents=True, exist_ok=True)
    charts = written.charts
    for name, png in charts.items():
        (target / name).write_bytes(png)
    (target / "pairs.csv").write_text(csv_text, encoding="utf-8")
    markdown = summary_text(written.health, now) + "\n\n" + "\n".join(f"![{name}]({name})" for name in charts)
    (target / "report.md").write_text(unescape(markdown) + "\n", encoding="utf-8")
    out.print(say("cli.report_written", directory=str(target), files=len(charts) + 2), markup=False)


@scheduler_app.command("run-due")
def run_due(
    at: str | None = typer.Option(None, help="ISO time to run up to (default: now), e.g. 2027-01-05T09:00Z"),
) -> None:
    """Run every scheduled item due up to a time, once (for cron-style deployments and tests)."""
    from adapters.calendars.worker import CalendarWorker, providers_for
    from adapters.delivery import deliverers_for
    from bot.engine import Engine
    from bot.runtime import Runtime

    when = datetime.now(UTC)
    if at:
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            fail(say("cli.bad_time", given=at), 2)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    config = settings()
    runtime = Runtime(open_store(config), Engine(calendars=config.calendar_providers))
    from adapters.directory_sync.schedule import scheduled_sync

    planned = scheduled_sync(config, runtime.store)  # RMBOT_DIRECTORY_SYNC when due (logged); leavers run below
    if planned is not None:
        planned.run_if_due(when, wait=True)
    ran = runtime.run_due(when)
    if providers := providers_for(config):  # calendar requests (free/busy, events), then what came back
        CalendarWorker(runtime, providers).run_once()
        runtime.process_pending()
    sent = sum(runtime.send_pending(d) for d in deliverers_for(config, runtime.store))
    out.print(say("cli.ran_due", ran=ran, at=when.isoformat(), sent=sent), markup=False)


@slack_app.command("manifest")
def slack_manifest(
    url: str | None = typer.Option(None, help="Public base URL of `rmbot serve`, e.g. https://mentoring.example.com"),
    socket_mode: bool = typer.Option(False, "--socket-mode", help="For Socket Mode: no request URLs."),
) -> None:
    """Print manifest.yml with the request URLs filled in, to create the Slack app from."""
    from adapters.slack.manifest import render

    if not socket_mode and not (url or "").startswith("https://"):  # Slack refuses request URLs without TLS
        fail(unescape(say("slack.manifest_url", given=url or "")), 2)
    out.print(render(url or "", socket_mode=socket_mode), markup=False, highlight=False, end="")


@teams_app.command("package")
def teams_package(
    out_file: str = typer.Option(..., "--out", help="Where to write the app package, e.g. rmbot-teams.zip"),
    version: str = typer.Option("1.0.0", help="The app's version (raise it for every upload)."),
    website_url: str | None = typer.Option(
        None, help="https:// address for the developer website (default: RMBOT_PUBLIC_URL)."
    ),
    privacy_url: str | None = typer.Option(None, help="Privacy statement (default: WEBSITE/privacy)."),
    terms_url: str | None = typer.Option(None, help="Terms of use (default: WEBSITE/terms)."),
    app_id: str | None = typer.Option(None, help="The Teams app id, a GUID (default: the bot's id)."),
    accent_color: str | None = typer.Option(None, help="Icon background colour, e.g. #2F7D6D."),
) -> None:
    """Build the Teams app package (manifest.json, color.png, outline.png) to upload to Teams."""
    from adapters.teams.package import build_for_cli

    config = settings()
    ok, message = build_for_cli(
        config,
        out_file,
        version=version,
        website_url=website_url or "",
        privacy_url=privacy_url or "",
        terms_url=terms_url or "",
        app_id=app_id or "",
        accent=accent_color or "",
    )
    if not ok:
        fail(message, 2)
    out.print(message, markup=False, highlight=False)


@teams_app.command("unconfirmed")
def teams_unconfirmed(limit: int = typer.Option(100, help="Show at most this many, newest first.")) -> None:
    """Teams messages whose delivery is unknown (sent, no answer): check with the person, resend by hand."""
    from adapters.teams.package import unconfirmed_report

    out.print(unconfirmed_report(open_store(settings()), limit), markup=False, highlight=False)


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``rmbot`` console script (``args`` defaults to the command line)."""
    try:
        app(args=args)
    except SystemExit as exc:
        if "adapters.settings" not in sys.modules:  # the settings were never read: no configuration error
            raise
        from adapters.settings import ConfigurationError

        if not isinstance(exc, ConfigurationError):
            raise
        err.print(str(exc), markup=False)
        sys.exit(2)

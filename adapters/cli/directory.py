"""`rmbot directory ...`: import the HR directory from a CSV file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from adapters.cli.options import CONSOLE_TENANT
from bot.wording import say, unescape

app = typer.Typer(help="Directory imports from HR CSV files.")


def _text(key: str, **values: object) -> str:
    """A message as plain terminal text."""
    return unescape(say(f"directory.{key}", **values))


def _print(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)


@app.command("import")
def import_csv(
    file: Path = typer.Argument(
        ...,
        help="CSV file with a header line: email, name, seniority, and optionally "
        "title, department, division, location, time_zone, working_hours, "
        "manager_email, gender, slack_user_id, teams_user_id.",
    ),
    tenant: str = typer.Option(CONSOLE_TENANT, "--tenant", help="console, slack:TEAM_ID or teams:TENANT_ID"),
) -> None:
    """Import or update people from an HR directory CSV; nothing is written if any row is wrong."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adapters.settings import load_settings
    from adapters.wiring import ensure_tenant, open_store
    from bot.directory import parse_directory
    from bot.services.directory import DirectoryService
    from bot.tenancy import TenantKeyError

    out, err = Console(), Console(stderr=True)
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        _print(err, _text("file_not_utf8", path=str(file)))
        raise typer.Exit(2) from None
    except OSError as exc:
        _print(err, _text("file_unreadable", path=str(file), reason=exc.strerror or exc))
        raise typer.Exit(2) from None

    settings = load_settings()
    store = open_store(settings)
    try:
        try:
            tenant_record = ensure_tenant(store, tenant)
        except TenantKeyError as exc:
            _print(err, _text("bad_tenant", reason=str(exc)))
            raise typer.Exit(2) from None
        with store.unit_of_work() as uow:
            existing = DirectoryService.of(uow).existing_managers(tenant_record.id)
        parsed = parse_directory(text, existing)
        if parsed.errors:
            for error in parsed.errors:
                _print(err, _text("error_line", line=error.line, email=error.email, reason=error.reason))
            _print(err, _text("errors_found", count=len(parsed.errors), path=str(file)))
            raise typer.Exit(1)

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(_text("progress", count=len(parsed.rows)), total=len(parsed.rows))
            with store.unit_of_work() as uow:  # one transaction: the whole file, or nothing
                summary = DirectoryService.of(uow).import_directory(
                    tenant_record, parsed.rows, store.now(), progress=lambda done: bar.update(task, completed=done)
                )
        _print(
            out,
            _text(
                "summary",
                total=summary.total,
                tenant=tenant,
                created=summary.created,
                updated=summary.updated,
                unchanged=summary.unchanged,
            ),
        )
    finally:
        store.close()

"""`rmbot directory sync SOURCE`: read the organisation from Microsoft Entra ID (or Google Workspace, or Slack) and
import it as `rmbot directory import` imports a CSV file: all or nothing, with the same leaver handling."""

from __future__ import annotations

import typer
from rich.console import Console

from adapters.directory_sync.sources import SOURCE_NAMES


def _print(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)


def sync(
    source: str = typer.Argument(..., help=f"Where to read the directory from: {', '.join(SOURCE_NAMES)}."),
    tenant: str | None = typer.Option(
        None,
        "--tenant",
        help="console, slack:TEAM_ID or teams:TENANT_ID (default: RMBOT_DIRECTORY_SYNC_TENANT, or the Entra "
        "tenant as a Teams tenant for microsoft, else console)",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change, and change nothing."),
) -> None:
    """Sync people, managers and leavers from a directory source; nothing is written if anyone is wrong."""
    from adapters.directory_sync.run import report_lines, sync_directory
    from adapters.directory_sync.schedule import default_tenant_key
    from adapters.directory_sync.seniority import load_seniority_map
    from adapters.directory_sync.sources import SourceError, make_source
    from adapters.settings import load_settings
    from adapters.wiring import ensure_tenant, open_store
    from bot.tenancy import TenantKeyError
    from bot.wording import say, unescape

    out, err = Console(), Console(stderr=True)
    name = source.strip().lower()
    if name not in SOURCE_NAMES:
        _print(err, unescape(say("directory_sync.unknown_source", given=source, names=", ".join(SOURCE_NAMES))))
        raise typer.Exit(2)
    settings = load_settings()
    try:
        mapping = load_seniority_map(settings)
        made = make_source(name, settings)
    except SourceError as problem:
        _print(err, unescape(say("directory_sync.source_failed", source=name, reason=str(problem))))
        raise typer.Exit(1) from None
    store = open_store(settings)
    try:
        try:
            key = tenant or default_tenant_key(settings, name)
            tenant_record = ensure_tenant(store, key)
        except TenantKeyError as problem:
            _print(err, unescape(say("directory.bad_tenant", reason=str(problem))))
            raise typer.Exit(2) from None
        outcome = sync_directory(store, tenant_record, made, store.now(), mapping=mapping, dry_run=dry_run)
        lines, problems = report_lines(outcome, key)
        for line in problems:
            _print(err, line)
        for line in lines:
            _print(out, line)
        if not outcome.ok:
            raise typer.Exit(1)
    finally:
        store.close()


def directory_commands() -> typer.Typer:
    """`rmbot directory`: `import FILE.csv` (``adapters/cli/directory.py``) and `sync SOURCE` (here)."""
    from adapters.cli.directory import import_csv

    group = typer.Typer(
        help="The HR directory: import a CSV file, or sync from Microsoft Entra ID, Google Workspace or Slack.",
        no_args_is_help=True,
    )
    group.command("import")(import_csv)
    group.command("sync")(sync)
    return group

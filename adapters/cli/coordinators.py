"""``rmbot coordinators add EMAIL [--tenant T]``: who may create and run programmes, named before they appear."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.wording import say, unescape

app = typer.Typer(help="Tenant coordinators (who may create programmes).", no_args_is_help=True)


def _print(console: Console, key: str, **values: object) -> None:
    console.print(unescape(say(f"cli.{key}", **values)), markup=False, highlight=False, emoji=False, soft_wrap=True)


@app.command("add")
def add(
    email: str = typer.Argument(..., help="Their email address, as the directory or their chat profile has it."),
    tenant: str | None = typer.Option(
        None,
        "--tenant",
        help="console, slack:TEAM_ID or teams:TENANT_ID (default: every workspace or tenant where they appear)",
    ),
) -> None:
    """Let someone create and run programmes: at once if they are known, else as soon as they first appear
    (a directory import, their first message to the bot, or installing the Slack app)."""
    from adapters.observability import configure_logging
    from adapters.settings import load_settings
    from adapters.wiring import open_store
    from bot.grants import ANY_TENANT, grant
    from bot.tenancy import TenantKeyError, normalise_tenant_key
    from bot.values import is_email

    err = Console(stderr=True)
    if not is_email(email.strip()):
        _print(err, "bad_email", given=email)
        raise typer.Exit(2)
    try:
        key = ANY_TENANT if tenant is None else normalise_tenant_key(tenant)
    except TenantKeyError as problem:
        err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    settings = load_settings()
    configure_logging(settings.rmbot_log_level, settings.rmbot_log_format)
    store = open_store(settings)
    try:
        with store.unit_of_work() as uow:
            outcome = grant(uow, email, key, source="cli")
    finally:
        store.close()
    out = Console()
    for where, person in outcome.added:
        _print(out, "coordinator_added", name=person.name, tenant=where)
    for where, person in outcome.already:
        _print(out, "coordinator_already", name=person.name, tenant=where)
    if outcome.pending:
        _print(
            out,
            "coordinator_pending",
            email=email.strip().lower(),
            tenant=key,
            kept=outcome.pending == "kept",
            known=bool(outcome.added or outcome.already),
        )

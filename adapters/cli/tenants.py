"""``rmbot tenant purge TENANT [--yes]``: delete everything a workspace or tenant has, and nothing of any other.

For a Slack workspace that uninstalled the app (or any tenant the organisation leaves): its people,
programmes, participants, pairs, sessions, feedback, released figures, conversation states, every stored
message to or from it (inbox and outbox), scheduled work, audit log and the platform's own records (Slack
installs and tokens, Teams conversations). One transaction (``Store.purge_tenant``, ``storage/purge.py``).
An unknown tenant is refused and nothing is created; the operator confirms unless ``--yes``.
"""

from __future__ import annotations

import typer
from rich.console import Console

from bot.wording import say, unescape

app = typer.Typer(help="Tenants: a Slack workspace or organisation, a Teams tenant, the console.", no_args_is_help=True)


def _line(message: str, **values: object) -> str:
    return unescape(say(f"cli.{message}", **values))


@app.command("purge")
def purge(
    tenant: str = typer.Argument(
        ..., help="slack:TEAM_ID, slack:ENTERPRISE_ID (an org-wide install), teams:TENANT_ID or console"
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete everything of one tenant (people, programmes, pairs, messages, installs); other tenants are untouched."""
    from adapters.observability import configure_logging
    from adapters.settings import load_settings
    from adapters.wiring import open_store
    from bot.model import Platform
    from bot.tenancy import TenantKeyError, normalise_tenant_key, parse_tenant_key

    err = Console(stderr=True, soft_wrap=True)
    out = Console(soft_wrap=True)
    try:
        key = normalise_tenant_key(tenant)
        platform, external_id = parse_tenant_key(key)
    except TenantKeyError as problem:
        err.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(2) from None
    settings = load_settings()
    configure_logging(settings.rmbot_log_level, settings.rmbot_log_format)
    store = open_store(settings)
    try:
        with store.unit_of_work() as uow:
            found = uow.tenants.find(platform, external_id)
            people = len(uow.people.in_tenant(found.id)) if found else 0
            programmes = len(uow.programmes.in_tenant(found.id)) if found else 0
        if found is None:
            err.print(_line("purge_unknown", tenant=key), markup=False, highlight=False)
            raise typer.Exit(1)
        installed = platform == Platform.SLACK.value and external_id not in store.slack.uninstalled(external_id)
        question = _line(
            "purge_confirm",
            tenant=key,
            external_id=external_id,
            name=found.name,
            people=people,
            programmes=programmes,
            platform=platform,
            installed=installed,
        )
        if not yes and not typer.confirm(question, default=False):
            out.print(_line("purge_declined"), markup=False, highlight=False)
            raise typer.Exit(1)
        deleted = store.purge_tenant(found.id)
    finally:
        store.close()
    tables = ", ".join(f"{name} {count}" for name, count in deleted.items())
    out.print(
        _line("purge_done", tenant=key, total=sum(deleted.values()), tables=tables), markup=False, highlight=False
    )

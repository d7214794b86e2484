"""Starting the console: open the store, load the sample organisation on first run, chat."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from adapters.console.session import ConsoleSession
from adapters.settings import Settings
from adapters.wiring import open_store
from bot.clock import OffsetClock
from bot.engine import Engine
from bot.runtime import Runtime
from bot.wording import PROMPTS, say
from storage.store import SqlStore

SAMPLE_ORGANISATION = PROMPTS / "sample" / "organisation.csv"


def load_sample_if_empty(store: SqlStore, coordinator_email: str, console: Console) -> bool:
    """Import the sample organisation into the console tenant when it has nobody yet."""
    from bot.directory import parse_directory
    from bot.services.directory import DirectoryService

    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        if uow.people.in_tenant(tenant.id):
            return False
    parsed = parse_directory(SAMPLE_ORGANISATION.read_text(encoding="utf-8"), {})
    if parsed.errors:
        raise RuntimeError(f"the sample organisation has errors: {parsed.errors[:3]}")
    with store.unit_of_work() as uow:
        DirectoryService.of(uow).import_directory(tenant, parsed.rows, store.now())
    with store.unit_of_work() as uow:
        person = uow.people.by_email(tenant.id, coordinator_email)
        if person is not None:
            uow.coordinators.add_tenant_coordinator(tenant.id, person.id)
    console.print(f"[dim]{say('console.sample_loaded', count=len(parsed.rows), email=coordinator_email)}[/dim]")
    return True


def run_console(settings: Settings, as_email: str, load_sample: bool = True, store: SqlStore | None = None) -> None:
    """Chat in this terminal; reads a script when stdin is not a terminal."""
    console = Console(highlight=False, soft_wrap=True)
    store = store or open_store(settings)
    if load_sample and settings.rmbot_sample_data:
        load_sample_if_empty(store, settings.rmbot_console_coordinator, console)
    clock = OffsetClock()
    session = ConsoleSession(
        runtime=Runtime(store, Engine(calendars=settings.calendar_providers), clock),
        clock=clock,
        console=console,
        files_dir=Path(settings.rmbot_files_dir),
    )
    interactive = sys.stdin.isatty()
    if not session.switch(as_email) and not interactive:
        raise SystemExit(1)
    if interactive:
        console.print(f"[dim]{say('console.switch_hint')}[/dim]")
    session.run(sys.stdin, interactive=interactive)

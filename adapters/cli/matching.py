"""``rmbot participants import`` and ``rmbot match``: programmes run from a spreadsheet, matched offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from adapters.cli.options import CONSOLE_TENANT
from bot.wording import say, unescape

if TYPE_CHECKING:
    from bot.domain import Programme, Tenant
    from bot.ports import Store

participants_app = typer.Typer(help="Programme participants from a spreadsheet or form export.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _plain(key: str, **values: object) -> str:
    return unescape(say(key, **values))


def _programme(store: Store, tenant_key: str, wanted: str) -> tuple[Tenant, Programme]:
    """The tenant and the programme an operator named, or one clear line and exit 2."""
    from adapters.wiring import ensure_tenant
    from bot.commands.registry import find_programme

    tenant = ensure_tenant(store, tenant_key)
    with store.unit_of_work() as uow:
        programme = find_programme(uow.programmes.in_tenant(tenant.id), wanted)
    if programme is None:
        err.print(_plain("cli.unknown_programme", given=wanted, tenant=tenant_key), markup=False)
        raise typer.Exit(2)
    return tenant, programme


@participants_app.command("import")
def import_participants_csv(
    programme: str = typer.Argument(..., help="Programme slug or name."),
    file: Path = typer.Argument(
        ...,
        help="CSV: email, role, capacity, can_teach, want_to_learn[, cadence, working_hours, rankings, "
        "consented_at, onboarded_at].",
    ),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Add or update a programme's participants; any bad row: nothing imported, every bad row named."""
    from adapters.settings import load_settings
    from adapters.wiring import open_store
    from bot.participants_import import parse_participants
    from bot.services.directory import DirectoryService

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(
            _plain("cli.unreadable_file", file=str(file), reason=getattr(exc, "strerror", None) or str(exc)),
            markup=False,
        )
        raise typer.Exit(2) from None
    store = open_store(load_settings())
    found_tenant, chosen = _programme(store, tenant, programme)
    with store.unit_of_work() as uow:
        directory = DirectoryService.of(uow).emails(found_tenant.id)
    parsed = parse_participants(text, directory)
    if parsed.errors:
        for error in parsed.errors:
            err.print(f"line {error.line}: {error.email or '-'}: {error.reason}", markup=False, highlight=False)
        err.print(_plain("participants.errors", count=len({e.line for e in parsed.errors})), markup=False)
        raise typer.Exit(1)
    with store.unit_of_work() as uow:  # one transaction: the whole file, or nothing
        detail = _plain("cli.audit_participants", file=file.name, rows=len(parsed.rows))
        done = DirectoryService.of(uow).import_participants(chosen, parsed.rows, datetime.now(UTC), audit_as=detail)
    out.print(_plain("participants.summary", programme=chosen.name, **vars(done)), markup=False)


def match(
    programme: str = typer.Argument(..., help="Programme slug or name."),
    mode: str = typer.Option("", help="optimal, stable or random (default: the programme's setting)."),
    seed: int | None = typer.Option(None, help="Seed for the random mode."),
    json_file: Path | None = typer.Option(None, "--json", help="Write pairs, scores and reasons here."),
    publish: bool = typer.Option(False, help="Store the pairs and introduce them (like `match publish`)."),
    tenant: str = typer.Option(CONSOLE_TENANT, help="console, slack:TEAM or teams:TENANT"),
) -> None:
    """Match a programme offline: print the summary, optionally write JSON and publish."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from adapters.settings import load_settings
    from adapters.wiring import open_store
    from bot.matching.load import reason_text
    from bot.matching.model import Mode
    from bot.runtime import Runtime
    from bot.services.matching import MatchingService

    modes: dict[str, Mode] = {"optimal": "optimal", "stable": "stable", "random": "random"}
    if mode and mode not in modes:
        err.print(_plain("cli.bad_mode", given=mode), markup=False)
        raise typer.Exit(2)
    store = open_store(load_settings())
    found_tenant, chosen = _programme(store, tenant, programme)
    now = datetime.now(UTC)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("load", total=None)
        with store.unit_of_work() as uow:
            outcome = MatchingService.of(uow).run(
                chosen,
                now.date(),
                mode=modes[mode] if mode else None,
                seed=seed,
                progress=lambda stage: progress.update(task, description=stage),
                audit_as=_plain(
                    "cli.audit_match",
                    mode=modes[mode] if mode else chosen.settings.match_mode,
                    seed=chosen.settings.match_seed if seed is None else seed,
                ),
            )
    result, run, people = outcome.result, outcome.run, outcome.people
    pairs = [
        {
            "mentee": people[p.mentee].email,
            "mentor": people[p.mentor].email,
            "mentee_name": people[p.mentee].name,
            "mentor_name": people[p.mentor].name,
            "score": p.score,
            "pinned": p.pinned,
            "reason": unescape(reason_text(p.reasons)),
        }
        for p in result.pairs
    ]
    unmatched = [
        {
            "email": people[u.participant_id].email,
            "name": people[u.participant_id].name,
            "role": u.role,
            "reason": _plain(u.reason.key, **u.reason.values),
        }
        for u in result.unmatched
    ]
    out.print(
        _plain(
            "cli.match_summary",
            programme=chosen.name,
            mode=result.mode,
            pairs=len(pairs),
            average=result.average_score,
            unmatched=len(unmatched),
            seconds=result.timings["total"],
        ),
        markup=False,
    )
    for pair in pairs[:50]:
        out.print(
            f"  {pair['mentee_name']} <- {pair['mentor_name']} ({pair['score']:.0f}): {pair['reason']}",
            markup=False,
            highlight=False,
        )
    for person in unmatched[:50]:
        out.print(f"  unmatched {person['role']} {person['name']}: {person['reason']}", markup=False, highlight=False)
    if json_file is not None:
        json_file.write_text(
            json.dumps(
                {
                    "programme": chosen.slug,
                    "mode": result.mode,
                    "seed": result.seed,
                    "average_score": round(result.average_score, 2),
                    "pairs": pairs,
                    "unmatched": unmatched,
                    "timings": run.result["timings"],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    if publish:
        from bot.commands.matching import PUBLISH_JOB
        from bot.model import InboundEvent, Platform

        runtime = Runtime(store)
        runtime.accept(
            InboundEvent(
                platform=Platform(found_tenant.platform),
                tenant=found_tenant.external_id,
                event_id=f"operator:match-publish:{run.id}",
                kind="due",
                occurred_at=now,
                due={
                    "kind": PUBLISH_JOB,
                    "payload": {
                        "programme_id": chosen.id,
                        "run_id": run.id,
                        "audit": _plain("cli.audit_publish", run=run.id),
                    },
                },
            )
        )
        runtime.process_pending()
        out.print(_plain("cli.match_published", pairs=len(pairs)), markup=False)

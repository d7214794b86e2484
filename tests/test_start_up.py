"""Start-up stays quick: ``rmbot --help`` imports only what it prints, the engine starts without Matplotlib,
and the YAML of ``prompts/`` is read once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.commands.registry import Registry

ROOT = Path(__file__).resolve().parent.parent


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code`` (which may exit)."""
    script = f"import json, sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def families(modules: set[str], *names: str) -> set[str]:
    return {name for name in names if any(m == name or m.startswith(f"{name}.") for m in modules)}


def test_help_imports_no_settings_store_bot_model_or_heavy_library() -> None:
    loaded = modules_after("from adapters.cli import main; main(['--help'])")
    assert "typer" in loaded  # the help was printed by Typer, as it ships
    heavy = ("storage", "sqlalchemy", "sqlmodel", "alembic", "pydantic_settings", "matplotlib", "numpy", "scipy")
    heavy += (
        "jinja2",
        "yaml",
        "prometheus_client",
        "slack_bolt",
        "slack_sdk",
        "aiohttp",
        "microsoft_agents",
        "icalendar",
    )
    assert families(loaded, *heavy) == set()
    assert families(loaded, "bot.model", "bot.domain", "bot.engine", "adapters.settings", "adapters.wiring") == set()


def test_the_engine_starts_without_matplotlib_and_the_settings_without_storage() -> None:
    loaded = modules_after("import adapters.settings; from bot.engine import Engine; Engine()")
    assert "bot.reports.charts" in loaded  # the engine can draw charts...
    assert families(loaded, "matplotlib", "storage", "sqlalchemy", "sqlmodel") == set()  # ...and has not needed to


def test_the_command_lines_console_tenant_is_the_bots() -> None:
    from adapters.cli.options import CONSOLE_TENANT
    from bot.tenancy import CONSOLE_TENANT as bots

    assert CONSOLE_TENANT == bots


def test_the_vocabulary_is_parsed_once_and_again_when_its_file_changes(tmp_path: Path) -> None:
    source = tmp_path / "commands.yml"
    source.write_text("help:\n  who: anyone\n  usage: help\n  summary: Help.\n", encoding="utf-8")
    first, second = Registry(source), Registry(source)
    assert set(first.verbs) == set(second.verbs) == {("help",)}
    assert first.verbs[("help",)] is not second.verbs[("help",)]  # each engine sets its own handlers
    source.write_text(source.read_text(encoding="utf-8") + "todo:\n  who: anyone\n  usage: todo\n  summary: T.\n")
    stamp = source.stat().st_mtime_ns + 1_000_000_000
    os.utime(source, ns=(stamp, stamp))
    assert set(Registry(source).verbs) == {("help",), ("todo",)}

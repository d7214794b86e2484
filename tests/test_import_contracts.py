"""The dependency rule of docs/architecture.md, checked on the imports themselves (imports under TYPE_CHECKING too).

* The import-linter contracts of pyproject.toml (what ``make lint`` runs as ``lint-imports``): ``bot/`` imports no
  adapter, no storage and no platform SDK; ``storage/`` imports no adapter; ``adapters/`` reach the store only
  through the ports of ``bot.ports``, and only the composition roots open it.
* ``bot/`` has no import cycles: every module of it can be understood (and imported) before the ones that use it.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = [c["id"] for c in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]]


def lint(contract: str) -> bool:
    """Run one contract in this process. import-linter configures logging with ``dictConfig``, which disables
    every logger that already exists; they are enabled again afterwards, so later tests in this worker (which
    check what the Slack and Teams SDKs log) still see those loggers' records."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    disabled = {logger.name: logger.disabled for logger in loggers}
    try:
        return lint_imports(str(PYPROJECT), limit_to_contracts=(contract,), no_cache=True, no_logo=True) == 0
    finally:
        for logger in loggers:
            logger.disabled = disabled[logger.name]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_import_contract_is_kept(contract: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(contract), capsys.readouterr().out


def test_checking_the_contracts_leaves_every_logger_enabled() -> None:
    sdk = logging.getLogger("slack_sdk.web.base_client")
    assert not sdk.disabled
    lint(CONTRACTS[0])
    assert not sdk.disabled


def cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The groups of ``modules`` that import each other, directly or not (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & modules)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, imported = work[-1]
            step = next(imported, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step) & modules))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def chain(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One cycle through ``group``, as ``a -> b -> a``, for the failure message."""
    first, members = group[0], set(group)
    following = sorted(graph.find_modules_directly_imported_by(first) & members)
    back = graph.find_shortest_chain(importer=following[0], imported=first) if following else None
    return " -> ".join([first, *(back or ())])


def test_bot_has_no_import_cycles() -> None:
    graph = grimp.build_graph("bot", cache_dir=None)
    found = cycles(graph, set(graph.modules))
    assert found == [], "import cycles in bot/:\n" + "\n".join(
        f"{chain(graph, group)} (of {len(group)} modules: {', '.join(group)})" for group in found
    )


def test_the_cycle_finder_finds_a_cycle_and_nothing_else() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c", "p.d"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p.d", imported="p.a")
    found = cycles(graph, set(graph.modules))
    assert found == [["p.a", "p.b", "p.c"]]
    assert chain(graph, found[0]) == "p.a -> p.b -> p.c -> p.a"

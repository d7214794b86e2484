"""The suite needs nothing outside the repository: someone who clones it has no sibling ``shared/`` folder."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT, SPECS

OUTSIDE = re.compile(r"\.\./shared|[\"']shared[\"']\s*/|parent\.parent\.parent|/work/")


def test_no_test_or_benchmark_reads_outside_the_repository() -> None:
    offenders = []
    for folder in ("tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line) and path.name != Path(__file__).name:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_vendored_specification_has_its_licence_and_is_described() -> None:
    readme = (SPECS / "README.md").read_text(encoding="utf-8")
    for path in sorted(SPECS.rglob("*")):
        if path.is_dir() or path.name.startswith("LICENSE") or path.name == "README.md":
            continue
        licences = [
            p
            for folder in (path.parent, *path.parent.parents)
            if SPECS in (folder, *folder.parents)
            for p in folder.glob("LICENSE*")
        ]
        assert licences, f"{path.relative_to(ROOT)} has no licence beside it"
        assert path.name in readme or f"{path.parent.name}/" in readme, f"{path.name} is not described in the README"

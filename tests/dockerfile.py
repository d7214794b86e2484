"""Read the project's Dockerfile: its instructions, stage by stage, and their exec-form arguments.

Used by ``tests/test_container.py`` and by ``.ci/container-check``, which runs the runtime stage's
``HEALTHCHECK`` and ``ENTRYPOINT`` + ``CMD`` exactly as written::

    python tests/dockerfile.py sources # what the first stage COPYs from the build context, one per line
    python tests/dockerfile.py env     # the last stage's ENV, one KEY=VALUE per line (unexpanded)
    python tests/dockerfile.py run     # ENTRYPOINT + CMD of the last stage, one argument per line
    python tests/dockerfile.py health  # the HEALTHCHECK command of the last stage, one argument per line
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    """Upper case: ``FROM``, ``RUN``, ``ENV``…"""
    arguments: str
    """The rest of the instruction, continuation lines joined with a space."""
    line: int
    """Where it starts in the file (1-based)."""


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """Every instruction, comments and blank lines left out, ``\\`` continuations joined."""
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1].strip() if continued else stripped)
        if not continued:
            text = " ".join(pending)
            keyword, _, rest = text.partition(" ")
            found.append(Instruction(keyword.upper(), rest.strip(), start))
            pending = []
    if pending:
        raise ValueError(f"{path}: the instruction at line {start} ends with a continuation")
    return found


def stages(path: Path = DOCKERFILE) -> dict[str, list[Instruction]]:
    """The instructions of each stage, by the stage's name (``AS NAME``) or its index; ``FROM`` first."""
    found: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(found))
            current = found[name] = []
        if current is not None:
            current.append(instruction)
    return found


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form ``CMD``, ``ENTRYPOINT`` or ``HEALTHCHECK … CMD``."""
    value = json.loads(arguments)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"not an exec-form command: {arguments}")
    return value


def last(stage: list[Instruction], keyword: str) -> Instruction:
    """The instruction that takes effect: the last one with ``keyword``."""
    matching = [instruction for instruction in stage if instruction.keyword == keyword]
    if not matching:
        raise LookupError(f"the stage has no {keyword}")
    return matching[-1]


def context_sources(path: Path = DOCKERFILE) -> list[str]:
    """What the first stage copies from the build context (``COPY`` without ``--from``), in order."""
    found: list[str] = []
    for instruction in list(stages(path).values())[0]:
        if instruction.keyword == "COPY":
            words = instruction.arguments.split()
            if any(word.startswith("--") for word in words):
                raise ValueError(f"line {instruction.line}: the build stage copies only from the context, plainly")
            found.extend(words[:-1])
    return found


def environment(stage: list[Instruction]) -> dict[str, str]:
    """The variables a stage's ``ENV`` instructions set (``KEY=VALUE`` form, unquoted values), unexpanded."""
    found: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword != "ENV":
            continue
        for pair in instruction.arguments.split():
            key, equals, value = pair.partition("=")
            if not equals or not key or any(quote in value for quote in "\"'"):
                raise ValueError(f"line {instruction.line}: use ENV KEY=VALUE with unquoted values, not {pair!r}")
            found[key] = value
    return found


def runtime_environment(path: Path = DOCKERFILE) -> list[str]:
    """The last stage's ``ENV``, as ``KEY=VALUE`` strings."""
    return [f"{key}={value}" for key, value in environment(list(stages(path).values())[-1]).items()]


def run_command(path: Path = DOCKERFILE) -> list[str]:
    """What the image runs: the last stage's ``ENTRYPOINT`` followed by its ``CMD``."""
    runtime = list(stages(path).values())[-1]
    return exec_form(last(runtime, "ENTRYPOINT").arguments) + exec_form(last(runtime, "CMD").arguments)


def health_command(path: Path = DOCKERFILE) -> list[str]:
    """The last stage's ``HEALTHCHECK`` command (options such as ``--interval`` left out)."""
    arguments = last(list(stages(path).values())[-1], "HEALTHCHECK").arguments
    _, separator, command = arguments.partition(" CMD ")
    if not separator:
        raise ValueError(f"HEALTHCHECK without an exec-form CMD: {arguments}")
    return exec_form(command.strip())


def main(argv: list[str]) -> int:
    commands = {"sources": context_sources, "env": runtime_environment, "run": run_command, "health": health_command}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python tests/dockerfile.py {'|'.join(commands)}", file=sys.stderr)
        return 2
    for argument in commands[argv[0]]():
        if "\n" in argument:
            raise ValueError("an argument spans lines; cannot print it one per line")
        print(argument)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

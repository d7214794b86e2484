"""The command vocabulary: declared in ``prompts/commands.yml``, handled by functions registered here.

Every verb PRODUCT.md names is declared with who may use it, its usage line and its help text. A verb
whose handler is not part of this version answers plainly that it is not available yet.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.errors import CommandError
from bot.wording import PROMPTS, read_yaml

if TYPE_CHECKING:
    from bot.context import Turn
    from bot.domain import Programme

COMMANDS_FILE = PROMPTS / "commands.yml"
RUN_COMMAND_ACTION = "command"
"""The action of a button that runs the command in its value, as if the person had typed it."""
ADDRESS_WORD = "mentoring"
"""The word people may type before a command to address the bot (``mentoring help``), on every platform."""


@dataclass
class Args:
    """A command's words after the verb: positional words and ``--option value`` pairs."""

    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    raw: str = ""


Handler = Callable[["Turn", Args, "Programme | None"], None]


@dataclass
class Verb:
    words: tuple[str, ...]
    who: Literal["anyone", "coordinator"]
    usage: str
    summary: str
    details: str
    scope: Literal["programme", "tenant", "none"] = "none"
    """For coordinator verbs: ``programme`` needs a programme the person coordinates; ``tenant`` needs
    them to coordinate something in the tenant (``program new``, ``program list``)."""
    programme_from_words: bool = False
    """The words after the verb name the programme (``program show Digital 2027``)."""
    options: tuple[str, ...] = ()
    """The ``--options`` it takes; a programme-scope verb also takes ``--program``."""
    shared: bool = False
    """Its answer is the pair's own (their next session, agenda, goals): typed in the pair's group chat, it is
    answered there, to the pair (:mod:`bot.group_chats`)."""
    handler: Handler | None = None

    def takes(self) -> tuple[str, ...]:
        """Every option the verb accepts."""
        return (
            (*self.options, "program") if self.scope == "programme" and "program" not in self.options else self.options
        )

    def unknown_options(self, args: Args) -> None:
        """Refuse an option the verb does not take, with the ones it does and the closest one."""
        for given in args.options:
            if given not in self.takes():
                close = difflib.get_close_matches(given, self.takes(), n=1, cutoff=0.6)
                raise CommandError(
                    "commands.unknown_option",
                    verb=self.name,
                    given=given,
                    known=list(self.takes()),
                    suggestion=close[0] if close else "",
                )

    @property
    def name(self) -> str:
        return " ".join(self.words)


class CommandSyntaxError(ValueError):
    """Text that cannot be split into words (an unclosed quote)."""


def split_words(text: str) -> list[str]:
    """Split command text like a shell, keeping apostrophes inside words ("don't") intact."""
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.quotes = '"'
        lexer.commenters = ""  # '#general' is a channel, not a comment
        return list(lexer)
    except ValueError as exc:
        raise CommandSyntaxError(str(exc)) from exc


def address(text: str, leading: Sequence[str] = (ADDRESS_WORD,)) -> tuple[str, bool]:
    """``text`` without a leading word of ``leading`` (any case), and whether it had one.

    Adapters call this in their translate step with the words their platform accepts (``mentoring``, and
    the slash command where there is one), and set :attr:`bot.model.InboundEvent.addressed`."""
    stripped = text.strip()
    for word in leading:
        if stripped.lower() == word.lower():
            return "", True
        if stripped.lower().startswith(word.lower() + " "):
            return stripped[len(word) :].strip(), True
    return stripped, False


def parse_args(words: list[str], raw: str) -> Args:
    args = Args(raw=raw)
    iterator = iter(range(len(words)))
    skip = -1
    for index in iterator:
        if index == skip:
            continue
        word = words[index]
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word[2:].partition("=")
            if not eq and index + 1 < len(words) and not words[index + 1].startswith("--"):
                value, skip = words[index + 1], index + 1
            args.options[name.lower()] = value
        else:
            args.words.append(word)
    return args


class Registry:
    """Declared verbs, looked up by their words."""

    def __init__(self, source: Path = COMMANDS_FILE) -> None:
        data = _declared(source, source.stat().st_mtime_ns)
        self.verbs: dict[tuple[str, ...], Verb] = {}
        for name, spec in data.items():
            words = tuple(name.split())
            self.verbs[words] = Verb(
                words=words,
                who=spec["who"],
                usage=spec["usage"],
                summary=spec["summary"],
                details=spec.get("details", ""),
                scope=spec.get("scope", "none"),
                programme_from_words=bool(spec.get("programme_from_words", False)),
                options=tuple(spec.get("options", ())),
                shared=bool(spec.get("shared", False)),
            )
            named = set(re.findall(r"--([a-z][a-z-]*)", f"{spec['usage']} {spec.get('details', '')}"))
            undeclared = named - set(self.verbs[words].takes())
            if undeclared:
                raise ValueError(
                    f"{source.name}: {name!r} names --{', --'.join(sorted(undeclared))} but does not list it in options"
                )

    def handles(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator: register the handler of a declared verb."""
        words = tuple(name.split())
        if words not in self.verbs:
            raise KeyError(f"verb {name!r} is not declared in {COMMANDS_FILE.name}")

        def register(function: Handler) -> Handler:
            self.verbs[words].handler = function
            return function

        return register

    def groups(self) -> set[str]:
        return {words[0] for words in self.verbs if len(words) > 1}

    def sub_verbs(self, group: str) -> list[Verb]:
        return [verb for words, verb in self.verbs.items() if len(words) > 1 and words[0] == group]

    def match(self, words: list[str]) -> tuple[Verb, list[str]] | None:
        """The longest declared verb at the start of ``words``, and the words after it."""
        lowered = [w.lower() for w in words]
        for length in (2, 1):
            key = tuple(lowered[:length])
            if len(key) == length and key in self.verbs:
                return self.verbs[key], words[length:]
        return None

    def suggest(self, word: str) -> str | None:
        names = sorted({words[0] for words in self.verbs})
        close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
        return close[0] if close else None

    def lookup(self, name: str) -> Verb | None:
        return self.verbs.get(tuple(name.lower().split()))


@cache
def _declared(source: Path, modified: int) -> dict[str, Any]:
    """The parsed vocabulary file, read once per version of it (every :class:`Registry` builds its own verbs
    from it, as each engine sets their handlers); ``modified`` is part of the key so an edited file is read."""
    data: dict[str, Any] = read_yaml(source)
    return data


def find_programme(programmes: list[Programme], wanted: str) -> Programme | None:
    """A programme by slug or by name, ignoring case."""
    key = wanted.strip().lower()
    for programme in programmes:
        if key in (programme.slug.lower(), programme.name.lower()):
            return programme
    return None


@lru_cache(maxsize=1)
def vocabulary() -> Registry:
    """The declared vocabulary (what ``help`` and the dashboard list); every verb in it has a handler, as the
    engine checks when it is built."""
    return Registry()

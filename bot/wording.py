"""Every user-facing sentence comes from ``prompts/``: this module loads and renders it.

Messages live in ``prompts/messages/*.yml`` as Jinja2 templates under dotted keys: the file
``programme.yml`` with a key ``created`` is ``programme.created``. Values placed into a template are
escaped for neutral markdown unless wrapped in :class:`Trusted`, so what people type is shown as typed
and never becomes markup on any platform.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
EXCERPT = 80
"""The most characters of what someone typed that a message shows back to them (the ``excerpt`` filter)."""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#>~|])")
MOMENT = re.compile(r"\[(?P<fallback>(?:\\.|[^\[\]\\])+?)\]\(moment:(?P<at>-?\d{1,12})\)")
"""A moment in time in neutral markdown, ``[fallback](moment:UNIX)`` (see :func:`moment`)."""
_UNESCAPE = re.compile(r"\\([\\`*_\[\]()#>~|])|" + MOMENT.pattern)


class Trusted(str):
    """Text produced by the product itself (already neutral markdown): placed without escaping."""


def escape(value: Any) -> str:
    """Escape neutral-markdown characters in a user-supplied value."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def unescape(text: str) -> str:
    """Turn escaped neutral markdown back into the characters people typed; a moment reads as its fallback."""

    def plain(match: re.Match[str]) -> str:
        return match.group(1) if match.group(1) is not None else unescape(match.group("fallback"))

    return _UNESCAPE.sub(plain, text)


def moment(at: datetime, fallback: str) -> Trusted:
    """A moment in time that each platform shows its own way: ``[fallback](moment:UNIX)`` in neutral markdown.

    Slack shows it as a date token in each reader's own zone and format; elsewhere (and wherever a platform
    cannot format dates) it reads as ``fallback``, the text in the recipient's zone. What people type can
    never make one: its brackets arrive escaped."""
    return Trusted(f"[{escape(fallback)}](moment:{int(at.timestamp())})")


def excerpt(value: Any, length: int = EXCERPT) -> Any:
    """At most ``length`` characters of a typed value, with "…" when it was longer (the ``excerpt`` filter):
    a message never shows back more than a short excerpt of what someone typed. Other values pass unchanged."""
    if not isinstance(value, str) or len(value) <= length:
        return value
    if isinstance(value, Trusted):  # already escaped: never end on the backslash of an escape
        return Trusted(value[:length].rstrip().rstrip("\\") + "…")
    return value[:length].rstrip() + "…"


def thousands(value: Any) -> Any:
    """A whole number with thousands separators (``912,345``; the ``thousands`` filter); anything else as is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Trusted):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return escape(value)


def read_yaml(path: Path) -> Any:
    """The data in a YAML file of ``prompts/`` (libyaml's fast safe loader when installed: start-up reads
    every file there). PyYAML is imported here, on first use, so that importing this module stays cheap."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


class MissingWording(KeyError):
    """A message key that no file in ``prompts/messages`` defines."""


class Wording:
    """The catalogue of message templates."""

    def __init__(self, root: Path = PROMPTS / "messages") -> None:
        from jinja2 import Environment, StrictUndefined  # on first use: `rmbot --help` renders no template

        self._env: Environment = Environment(
            undefined=StrictUndefined,
            finalize=_finalize,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["trusted"] = Trusted
        self._env.filters["excerpt"] = excerpt
        self._env.filters["thousands"] = thousands
        self._sources: dict[str, str] = {}
        for path in sorted(root.glob("*.yml")):
            data = read_yaml(path) or {}
            self._flatten(path.stem, data)
        self._compiled: dict[str, Any] = {}
        self._from_source: dict[str, Any] = {}

    def _flatten(self, prefix: str, data: Any) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                self._flatten(f"{prefix}.{key}", value)
        else:
            self._sources[prefix] = str(data)

    def has(self, key: str) -> bool:
        return key in self._sources

    def keys(self) -> list[str]:
        return sorted(self._sources)

    def __call__(self, key: str, **values: Any) -> str:
        """Render message ``key`` with ``values``; the result is neutral markdown."""
        if key not in self._sources:
            raise MissingWording(key)
        template = self._compiled.get(key)
        if template is None:  # compiled on first use, then kept
            from jinja2 import TemplateError

            try:
                template = self._env.from_string(self._sources[key])
            except TemplateError as exc:  # a broken template is a bug in prompts/, say where
                raise ValueError(f"template {key}: {exc}") from exc
            self._compiled[key] = template
        return Trusted(template.render(**values).strip())

    def render_source(self, source: str, **values: Any) -> str:
        """Render a template given as text (a flow step's prompt, say), with the same escaping rules."""
        template = self._from_source.get(source)
        if template is None:
            template = self._from_source[source] = self._env.from_string(source)
        return Trusted(template.render(**values).strip())


@lru_cache(maxsize=1)
def wording() -> Wording:
    """The shared catalogue, loaded once."""
    return Wording()


def say(key: str, **values: Any) -> str:
    """Render a message from the shared catalogue."""
    return wording()(key, **values)

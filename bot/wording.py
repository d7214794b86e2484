"""Every user-facing sentence comes from ``prompts/``: this module loads and renders it.

Messages live in ``prompts/messages/*.yml`` as Jinja2 templates under dotted keys: the file
``programme.yml`` with a key ``created`` is ``programme.created``. Values placed into a template are
escaped for neutral markdown unless wrapped in :class:`Trusted`, so what people type is shown as typed
and never becomes markup on any platform.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, TemplateError

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#>~|])")


class Trusted(str):
    """Text produced by the product itself (already neutral markdown): placed without escaping."""


def escape(value: Any) -> str:
    """Escape neutral-markdown characters in a user-supplied value."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def unescape(text: str) -> str:
    """Turn escaped neutral markdown back into the characters people typed."""
    return re.sub(r"\\([\\`*_\[\]()#>~|])", r"\1", text)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Trusted):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return escape(value)


class MissingWording(KeyError):
    """A message key that no file in ``prompts/messages`` defines."""


class Wording:
    """The catalogue of message templates."""

    def __init__(self, root: Path = PROMPTS / "messages") -> None:
        self._env = Environment(
            undefined=StrictUndefined,
            finalize=_finalize,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["trusted"] = Trusted
        self._sources: dict[str, str] = {}
        for path in sorted(root.glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
        if template is None:
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

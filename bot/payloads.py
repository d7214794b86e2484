"""Button values, typed: one encoder and decoder for every action's payload, with a version.

A button carries a short string (Slack allows 2,000 characters, Teams a little more). Each action declares
its payload as a frozen dataclass of ``int`` and ``str`` fields deriving from :class:`ActionPayload`;
``Payload(...).encode()`` writes ``v1:<field>:<field>...`` and ``Payload.decode(value)`` reads it back,
typed. The last ``str`` field takes the rest of the value, so it may itself contain ``:``. A value without
the version prefix is read as version 1 (buttons in messages sent before versions existed). A value that
does not fit raises :class:`MalformedAction`, which the engine answers with one clear sentence instead of
retrying an event that can never succeed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self, get_type_hints

from bot.errors import CommandError

VERSION = 1
_PREFIX = f"v{VERSION}:"


class MalformedAction(CommandError):
    """A button value that does not decode into its action's payload."""

    def __init__(self) -> None:
        super().__init__("commands.malformed_action")


@dataclasses.dataclass(frozen=True)
class ActionPayload:
    """Base of every action payload: fields of type ``int`` or ``str``, encoded in declaration order."""

    _types: ClassVar[dict[type, dict[str, type]]] = {}

    @classmethod
    def _fields(cls) -> list[tuple[str, type]]:
        types = ActionPayload._types.get(cls)
        if types is None:
            hints = get_type_hints(cls)
            types = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
            for name, kind in types.items():
                if kind not in (int, str):
                    raise TypeError(f"{cls.__name__}.{name}: an action payload field is an int or a str")
            ActionPayload._types[cls] = types
        return list(types.items())

    def encode(self) -> str:
        """The button value: ``v1:`` and the fields joined by ``:``."""
        parts = []
        fields = self._fields()
        for index, (name, _kind) in enumerate(fields):
            text = str(getattr(self, name))
            if ":" in text and index < len(fields) - 1:
                raise ValueError(f"{type(self).__name__}.{name} may not contain ':' ({text!r})")
            parts.append(text)
        return _PREFIX + ":".join(parts)

    @classmethod
    def decode(cls, value: str) -> Self:
        """The payload in ``value``; :class:`MalformedAction` when it does not fit."""
        body = value[len(_PREFIX) :] if value.startswith(_PREFIX) else value
        fields = cls._fields()
        pieces = body.split(":", len(fields) - 1)
        if len(pieces) != len(fields):
            raise MalformedAction()
        values: dict[str, Any] = {}
        for (name, kind), piece in zip(fields, pieces, strict=True):
            if kind is int:
                if not (piece.isascii() and piece.isdigit()) or len(piece) > 18:
                    raise MalformedAction()
                values[name] = int(piece)
            else:
                values[name] = piece
        return cls(**values)

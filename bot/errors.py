"""Errors the engine turns into a clear message to the person, undoing what the command changed, and the
one it does not: a record missing that another one refers to."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class CommandError(Exception):
    """A refusal or a bad argument: ``key`` names the message in ``prompts/messages``."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class Outdated(CommandError):
    """A press of a button whose action no longer applies (the invitation was answered, the question moved on,
    the session was confirmed or called off, the pairing ended): nothing changes, the person is told in one
    sentence (``key``), and the message pressed is shown without its buttons where the platform can."""


class MissingRecord(LookupError):
    """A record that another record points to is not in the store: a broken invariant, not a refusal."""


def required(record: T | None, what: str, key: object) -> T:
    """``record``, which must exist because something refers to it; raises :class:`MissingRecord` if not."""
    if record is None:
        raise MissingRecord(f"{what} {key} does not exist")
    return record

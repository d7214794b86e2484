"""Errors the engine turns into a clear message to the person, undoing what the command changed."""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """A refusal or a bad argument: ``key`` names the message in ``prompts/messages``."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

"""What the fake Teams connector records (each request the bot made to it), and the Teams conformance kit
(``tests/specs/teams``) it and the tests read activities from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "specs" / "teams"


def activity_file(name: str) -> dict[str, Any]:
    """An activity from the conformance kit (``tests/specs/teams/activities``)."""
    return json.loads((SPECS / "activities" / name).read_text(encoding="utf-8"))


@dataclass
class Post:
    """One request the bot made to the connector."""

    method: str
    path: str
    conversation: str
    body: dict[str, Any]
    authorization: str
    at: float
    status: int
    activity_id: str = ""
    """The id Teams gave the activity posted (or the one a ``PUT`` replaced)."""

    @property
    def reply_to(self) -> str:
        """The message whose thread a channel post answers (``;messageid=`` in the conversation id, which
        Teams shows as a reply in that thread), "" for a new post."""
        return self.conversation.partition(";messageid=")[2]

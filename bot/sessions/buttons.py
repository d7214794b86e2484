"""The buttons of sessions: their action ids and their typed values (see :mod:`bot.payloads`).

Each value keeps the field order of the value it replaces, so buttons in messages sent before values had
versions still decode. The chat handlers that read them are in :mod:`bot.commands.sessions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from bot.payloads import VERSION, ActionPayload, MalformedAction
from bot.sessions.circles import Circle

PICK_ACTION = "slot.pick"
OTHER_ACTION = "slot.other"
SWAP_ACTION = "agenda.swap"
TOPIC_ACTION = "agenda.topic"
OUTCOME_ACTION = "session.outcome"
NEXT_ACTION = "session.next"


def _mentees_part(circle: Circle) -> str:
    """The mentees' part of the circle's key (participant ids, sorted, joined by ``-``)."""
    return "-".join(str(m) for m in sorted(m.id for m in circle.mentees))


def _check_mentees(mentees: str) -> None:
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in mentees.split("-")):
        raise MalformedAction()


def _aware(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedAction() from None
    if moment.tzinfo is None:
        raise MalformedAction()
    return moment


@dataclass(frozen=True)
class SlotOtherValue(ActionPayload):
    """``OTHER_ACTION`` ("propose another time"): the circle, as the two parts of its key."""

    mentor: int
    mentees: str
    """The mentees' participant ids joined by ``-``."""

    def __post_init__(self) -> None:
        _check_mentees(self.mentees)

    @classmethod
    def of(cls, circle: Circle) -> Self:
        """The value for ``circle``."""
        return cls(circle.mentor.id, _mentees_part(circle))

    @property
    def circle(self) -> str:
        """The circle's key."""
        return f"{self.mentor}:{self.mentees}"


@dataclass(frozen=True)
class SlotPickValue(ActionPayload):
    """``PICK_ACTION``: the circle (the two parts of its key) and the time offered, in ISO form with its zone.

    Buttons sent before values had versions read ``<circle key>|<time>``; they still decode."""

    mentor: int
    mentees: str
    when: str

    def __post_init__(self) -> None:
        _check_mentees(self.mentees)
        _aware(self.when)

    @classmethod
    def of(cls, circle: Circle, when: datetime) -> Self:
        """The value for ``circle`` and the time ``when``."""
        return cls(circle.mentor.id, _mentees_part(circle), when.isoformat())

    @classmethod
    def decode(cls, value: str) -> Self:
        """The payload in ``value`` (also in the form used before versions); ``MalformedAction`` otherwise."""
        if not value.startswith(f"v{VERSION}:"):
            value = value.replace("|", ":", 1)
        return super().decode(value)

    @property
    def circle(self) -> str:
        """The circle's key."""
        return f"{self.mentor}:{self.mentees}"

    @property
    def at(self) -> datetime:
        """The time offered."""
        return _aware(self.when)


@dataclass(frozen=True)
class AgendaSwapValue(ActionPayload):
    """``SWAP_ACTION`` ("suggest another topic"): the session."""

    session: int


@dataclass(frozen=True)
class AgendaTopicValue(ActionPayload):
    """``TOPIC_ACTION``: the session and the topic chosen for it."""

    session: int
    topic: str


@dataclass(frozen=True)
class OutcomeValue(ActionPayload):
    """``OUTCOME_ACTION``: the session and what the person says happened (one of ``OUTCOMES``)."""

    session: int
    answer: str


@dataclass(frozen=True)
class NextSessionValue(ActionPayload):
    """``NEXT_ACTION``: the next session and whether to keep it (``keep``) or move it (``move``)."""

    session: int
    answer: str

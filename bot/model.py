"""The neutral model: what adapters hand to the engine and what the engine hands back.

Nothing here knows about Slack, Teams or the terminal. An adapter turns a platform payload into an
:class:`InboundEvent`; the engine answers with :class:`OutgoingMessage` objects that each adapter renders
in its own way (Block Kit, an Adaptive Card, terminal text).

Text fields hold *neutral markdown*: ``**bold**``, ``_italic_``, `` `code` `` and ``[label](url)``.
Values that came from users are escaped with a backslash before they are placed in a template
(see :mod:`bot.wording`), so renderers can tell the product's markup from what people typed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.files import safe_file_name


class Platform(StrEnum):
    """The chat platforms the engine can be reached through."""

    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ID_LIMITS = {"tenant": 128, "user": 128, "event_id": 200}
"""The longest platform ids the store keeps (a tenant's and a person's external id, an inbox event id)."""
NAME_LENGTH = 200


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it (PostgreSQL text cannot hold them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


class Action(_Model):
    """A button press, a menu choice or a submitted form, as the engine sees it.

    ``id`` is the stable action id that the engine put on the choice (for example ``consent.accept``);
    ``value`` is the choice's value; ``values`` carries the fields of a submitted form.
    """

    id: str
    value: str = ""
    values: dict[str, Any] = Field(default_factory=dict)

    _storable = field_validator("value", "values")(_without_nul)


class InboundEvent(_Model):
    """Something a person did, or a scheduled moment that came due, in neutral form."""

    platform: Platform
    tenant: str
    """The platform's id of the workspace or tenant (``console`` for the local console)."""
    event_id: str
    """The platform's id of this delivery: retries and re-sends carry the same id."""
    user: str = ""
    """The platform's id of the person who acted (an email address in the console)."""
    user_name: str = ""
    user_email: str = ""
    """The person's email when the platform names people by it (the console): whoever has it (bot/identities.py)."""
    conversation: str = ""
    text: str = ""
    action: Action | None = None
    mentions: dict[str, str] = Field(default_factory=dict)
    """The people mentioned in ``text``, resolved by the adapter: each mention stands in ``text`` as one
    neutral word, ``@`` and the display name (``@Amara.Okafor``; ``@Amara.Okafor.2`` for a second
    Amara), mapped here to that person's platform user id. No platform syntax ever reaches the engine."""
    channels: dict[str, str] = Field(default_factory=dict)
    """The channels mentioned in ``text``, resolved by the adapter the same way: ``#`` and the channel's name
    (``#general``) mapped to the platform's id of that channel. A ``#name`` typed without a link (the
    console) is not listed: it names the channel itself."""
    addressed: bool = False
    """The text began with a word addressing the bot (``mentoring``, or Slack's slash command), which the
    adapter stripped from ``text``: inside a questionnaire such text is a command, never an answer."""
    occurred_at: datetime
    kind: Literal["message", "command", "action", "due"] = "message"
    trigger_id: str = ""
    """A short-lived handle some platforms give for opening a dialog in answer (Slack's ``trigger_id``)."""
    due: dict[str, Any] = Field(default_factory=dict)
    """For ``kind == "due"``: the scheduled job that came due (its kind and payload)."""

    _storable = field_validator("text", "user_name", "conversation", "mentions", "channels", "trigger_id")(_without_nul)

    @field_validator("user_name")
    @classmethod
    def _name_that_fits(cls, value: str) -> str:
        """Cut to the length of a person's name (Teams display names may be longer)."""
        return value[:NAME_LENGTH]

    def unfit(self) -> str:
        """Why the store cannot keep this event ("" when it can): an id too long or holding a NUL character.

        Adapters acknowledge such an event and drop it: no platform sends ids like these."""
        for name, limit in ID_LIMITS.items():
            value = getattr(self, name)
            if len(value) > limit or "\x00" in value:
                return f"{name} {value[:40]!r}{'...' if len(value) > 40 else ''} is not an id the store can keep"
        return ""


class Choice(_Model):
    """A button or an option in a list. ``action`` and ``value`` come back in :class:`Action`."""

    label: str
    action: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"
    description: str = ""


FieldKind = Literal[
    "text",
    "long_text",
    "integer",
    "number",
    "date",
    "choice",
    "multi_choice",
    "yes_no",
    "time_zone",
    "working_hours",
    "rank",
]
"""The inputs a form field can be."""


class FormField(_Model):
    """One input of a form or of a single question."""

    id: str
    label: str
    kind: FieldKind = "text"
    required: bool = True
    hint: str = ""
    choices: list[Choice] = Field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    max_selected: int | None = None
    current: Any = None


class Form(_Model):
    """Several fields to be answered together; submitted as one :class:`Action` with ``values``."""

    action: str
    title: str
    fields: list[FormField]
    submit_label: str = "Submit"


class Section(_Model):
    """A block of text with optional label/value facts under it."""

    text: str = ""
    fields: list[tuple[str, str]] = Field(default_factory=list)


class Attachment(_Model):
    """A file that travels with a message: a chart, a CSV export, a calendar invite, a data export."""

    filename: str
    """Always one plain name (made safe by :func:`bot.files.safe_file_name`), never a path."""
    media_type: str
    content_b64: str
    title: str = ""

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return safe_file_name(value, "file")


class Address(_Model):
    """Who a message is for: one person, a pair (a group conversation), or a known conversation."""

    kind: Literal["person", "pair", "conversation"]
    people: tuple[int, ...] = ()
    conversation: str = ""
    label: str = ""
    """How people know the conversation (``#general``) when ``conversation`` is the platform's id for it:
    a message about the conversation (it could not be reached) names it so."""

    @classmethod
    def person(cls, person_id: int) -> Address:
        return cls(kind="person", people=(person_id,))

    @classmethod
    def pair(cls, *people: int) -> Address:
        return cls(kind="pair", people=tuple(people))


MessageKind = Literal["reply", "nudge", "farewell"]
"""Why a message is sent: a reply, a nudge (counted against the daily cap), or a farewell."""


class OutgoingMessage(_Model):
    """A message the engine wants delivered. Written to the outbox, rendered by an adapter."""

    tenant_id: int
    to: Address
    idempotency_key: str
    text: str
    sections: list[Section] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    question: FormField | None = None
    form: Form | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    programme_id: int | None = None
    """The programme this message belongs to; lets delivery stop for people who declined it."""
    kind: MessageKind = "reply"
    """Nudges (reminders, check-ins, surveys) wait for the recipient's working hours and count towards
    their daily cap; replies to what someone just did go at once; a farewell still reaches someone who
    just asked to be forgotten."""
    reply_in: str = ""
    """Conversation id to answer in, when the message answers an event in a known conversation."""
    trigger_id: str = ""
    """Copied from the event this message answers: lets a platform open a form as a dialog (Slack modal)."""
    about: list[int] = Field(default_factory=list)
    """The people a message to someone else is about (an alert to a coordinator): ``my-data`` shows it to them."""
    requested_by: int | None = None
    """For a post in a conversation: the person who asked for it, told when it cannot be made."""

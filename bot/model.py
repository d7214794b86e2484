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
TEXT_LIMIT = 4_000
"""The most characters of typed text (a command or an answer) the engine takes: adapters keep only this much
of anything longer and mark the event (``text_length``); the engine refuses it in one sentence."""
READ_LIMIT = 2 * TEXT_LIMIT
"""The most characters of a platform's raw text an adapter reads (its mention markup and escapes take room):
text longer than this is marked too long, with the raw length, without being read."""
MESSAGE_TEXT_LIMIT = 50_000
"""The most characters of text (its text, sections and small print) one outgoing message is rendered with."""


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


PRESSED_LABEL = 200
"""The most characters of a pressed button's label an event carries (platforms show far fewer)."""


class Pressed(_Model):
    """The message a button was pressed in, when the platform can show the press in it (a Slack DM, a
    Teams personal chat).

    ``ref`` is the platform's own reference to that message, opaque to the engine; ``label`` is what the person
    chose, as the button or option showed it. The engine answers with a message that ``replaces`` it."""

    ref: str
    label: str = ""
    question: str = ""
    """For a choice that answers a question (and reaches the engine as the answer typed): the question's id, so
    that an answer to a question that has moved on is refused rather than taken for the question asked now."""

    _storable = field_validator("ref", "label", "question")(_without_nul)

    @field_validator("label")
    @classmethod
    def _short(cls, value: str) -> str:
        return value[:PRESSED_LABEL]


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
    time_zone: str = ""
    """The person's time zone as the platform reports it (Teams: their device's), an IANA name such as
    ``Europe/London`` checked by the adapter (:func:`bot.zones.iana_zone`), or "". Stored only for a person
    whose record has no zone (:func:`bot.zones.adopt_zone`)."""
    conversation: str = ""
    members: tuple[str, ...] = ()
    """For text typed in a group chat of a few people (a Slack group DM): the platform ids of the people in it,
    the one who typed included, resolved by the adapter; empty elsewhere. A command whose answer is the pair's
    own (``shared`` in ``commands.yml``) is answered there only when they are exactly the people of one of the
    typist's pairs (:mod:`bot.group_chats`); anything else is answered privately."""
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
    text_length: int = 0
    """How long the typed text was, when it was longer than :data:`TEXT_LIMIT`: ``text`` then holds only its
    beginning and the engine does nothing with it but say so. 0 for text within the limit."""
    occurred_at: datetime
    kind: Literal["message", "command", "action", "due"] = "message"
    trigger_id: str = ""
    """A short-lived handle some platforms give for opening a dialog in answer (Slack's ``trigger_id``)."""
    due: dict[str, Any] = Field(default_factory=dict)
    """For ``kind == "due"``: the scheduled job that came due (its kind and payload)."""
    pressed: Pressed | None = None
    """For a press (a button, or a choice that answers a question): the message it was made in, when the
    platform can change that message; the engine then shows the outcome there (``bot/pressed.py``)."""

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


def capped(text: str, length: int = 0) -> tuple[str, int]:
    """Typed ``text`` cut to :data:`TEXT_LIMIT` characters, and the ``text_length`` to mark the event with:
    the longest of ``length`` (what the platform sent, when the adapter cut it before reading it) and the
    text's own length, or 0 when both are within the limit."""
    longest = max(length, len(text))
    return text[:TEXT_LIMIT], longest if longest > TEXT_LIMIT else 0


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
    max_length: int | None = None
    """For a text question: the most characters its answer may have (the step's ``max_length``), so that a
    platform's input stops where the engine would refuse."""
    current: Any = None


class Form(_Model):
    """Several fields to be answered together; submitted as one :class:`Action` with ``values``."""

    action: str
    title: str
    fields: list[FormField]
    submit_label: str = "Submit"
    value: str = ""
    """Sent back with the submission as the action's value (the questionnaire instance, ``flow@instance``)."""
    rules: list[dict[str, Any]] = Field(default_factory=list)
    """The fields' declarative validators (:mod:`bot.flows.form_rules`): an adapter checks a submission with them
    before accepting it, so mistakes are shown next to their fields and nothing is stored."""


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
    circle: str = ""
    """The pairing (circle key) an offer of times is for: dropped at delivery once that pairing no longer exists
    as named (it ended, or its group changed), however long the message was held for working hours."""
    replaces: str = ""
    """A platform's reference to a message a button was pressed in (:attr:`Pressed.ref`): this message is not
    posted but shown in that one, in place of its buttons; ``text`` is the note of what became of the press."""
    outdated: bool = False
    """With ``replaces``: the press no longer applied, so a message already showing the choice made in it keeps
    that; only one still showing its buttons gets ``text`` (it no longer applies) in their place."""

    def text_size(self) -> int:
        """Characters of text in the message: its text, its sections' text and facts, its small print."""
        facts = sum(len(s.text) + sum(len(name) + len(value) for name, value in s.fields) for s in self.sections)
        return len(self.text) + facts + sum(map(len, self.context))

    def shortened(self, note: str, limit: int = MESSAGE_TEXT_LIMIT) -> OutgoingMessage:
        """This message with at most ``limit`` characters of text (its text, then its sections, then its small
        print, cut where the room runs out) and ``note`` added to its small print; itself when it fits."""
        if self.text_size() <= limit:
            return self
        room = limit
        text = _cut(self.text, room)
        room -= len(text)
        sections: list[Section] = []
        for section in self.sections:
            if room <= 0:
                break
            part = _cut(section.text, room)
            room -= len(part)
            facts: list[tuple[str, str]] = []
            for name, value in section.fields:
                if len(name) + len(value) > room:
                    room = 0
                    break
                facts.append((name, value))
                room -= len(name) + len(value)
            sections.append(Section(text=part, fields=facts))
        context: list[str] = []
        for small in self.context:
            if room <= 0:
                break
            context.append(_cut(small, room))
            room -= len(context[-1])
        return self.model_copy(update={"text": text, "sections": sections, "context": [*context, note]})


def _cut(text: str, room: int) -> str:
    """``text`` within ``room`` characters: cut at a line break in the last half when there is one, and never
    after a lone escaping backslash."""
    if len(text) <= room:
        return text
    cut = text[: max(room, 0)]
    line = cut.rfind("\n")
    if line > room // 2:
        cut = cut[:line]
    if cut.endswith("\\") and (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]
    return cut.rstrip()

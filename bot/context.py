"""A turn: everything the engine knows while it handles one inbound event, inside one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain import Person, Tenant
from bot.model import (
    Address,
    Attachment,
    Choice,
    Form,
    FormField,
    InboundEvent,
    MessageKind,
    OutgoingMessage,
    Section,
)
from bot.ports import ConversationState, UnitOfWork
from bot.refusals import Refusals

if TYPE_CHECKING:
    from bot.flows.runner import FlowRunner


@dataclass
class Turn:
    """One event being handled. Messages written here commit together with the domain changes."""

    event: InboundEvent
    uow: UnitOfWork
    tenant: Tenant
    now: datetime
    flows: FlowRunner
    """The questionnaires: open, ask, queue and complete them."""
    person: Person | None = None
    state: ConversationState | None = None
    sent: list[OutgoingMessage] = field(default_factory=list)
    actor: Person | None = None
    """Who acted, when this turn acts for someone else (:meth:`as_person`); else the person."""
    answer_to: Address | None = None
    """Where :meth:`reply` answers when not privately: the pair, for a pair's own command typed in their group
    chat (:mod:`bot.group_chats`)."""
    refusals: Refusals = field(default_factory=Refusals)
    """The refusals this turn gives from an earlier pass over the same event (:mod:`bot.refusals`)."""
    outdated: bool = False
    """The button pressed no longer applied (:class:`~bot.errors.Outdated`, or a question that moved on)."""
    calendars: frozenset[str] = frozenset()
    """The calendar providers this deployment has credentials for (``microsoft``, ``google``): see
    :mod:`bot.sessions.calendar_sync`."""

    @property
    def me(self) -> Person:
        if self.person is None:
            raise RuntimeError("this turn has no person")
        return self.person

    def as_person(self, person: Person) -> Turn:
        """The same turn acting for ``person`` (their conversation state): what a scheduled job does for
        someone. Messages still collect in this turn's ``sent``, and commit with it."""
        return Turn(
            event=self.event,
            uow=self.uow,
            tenant=self.tenant,
            now=self.now,
            flows=self.flows,
            person=person,
            state=self.uow.conversations.load(self.tenant.id, person.id),
            sent=self.sent,
            actor=self.actor or self.person,
            calendars=self.calendars,
        )

    def message(
        self,
        to: Address,
        text: str,
        *,
        choices: Sequence[Choice] = (),
        sections: Sequence[Section] = (),
        context: Sequence[str] = (),
        question: FormField | None = None,
        form: Form | None = None,
        attachments: Sequence[Attachment] = (),
        programme_id: int | None = None,
        kind: MessageKind = "reply",
        about: Sequence[int] = (),
        circle: str = "",
        replaces: str = "",
        outdated: bool = False,
    ) -> OutgoingMessage:
        """Queue a message. Its idempotency key derives from the event, so a re-handled event adds nothing."""
        key = f"{self.event.platform.value}:{self.event.tenant}:{self.event.event_id}:{len(self.sent) + 1}"
        if to.kind == "conversation" and not to.label:  # named as the person named it (``#general``)
            named = [name for name, channel in self.event.channels.items() if channel == to.conversation]
            to = to.model_copy(update={"label": named[0] if named else ""})
        message = OutgoingMessage(
            tenant_id=self.tenant.id,
            to=to,
            idempotency_key=key,
            text=text,
            choices=list(choices),
            sections=list(sections),
            context=list(context),
            question=question,
            form=form,
            attachments=list(attachments),
            programme_id=programme_id,
            kind=kind,
            reply_in=self.event.conversation if self.person is not None and to.people == (self.person.id,) else "",
            trigger_id=self.event.trigger_id if form is not None else "",
            about=list(about),
            circle=circle,
            replaces=replaces,
            outdated=outdated,
            requested_by=self.person.id if self.person is not None and to.kind == "conversation" else None,
        )
        self.uow.outbox.add(message, platform=self.tenant.platform, lane="reply" if self._answers(to) else "bulk")
        self.sent.append(message)
        return message

    def _answers(self, to: Address) -> bool:
        """Whether a message to ``to`` answers what someone just did (their own event, to them or a chat they are
        in): it goes in the outbox's reply lane, ahead of broadcasts, nudges and scheduled messages."""
        actor = self.actor or self.person
        return self.event.kind != "due" and actor is not None and to.kind != "conversation" and actor.id in to.people

    def reply(self, text: str, **kwargs: Any) -> OutgoingMessage:
        """Answer the person who acted: privately, or in the pair's group chat they typed in (``answer_to``)."""
        return self.message(self.answer_to or Address.person(self.me.id), text, **kwargs)

    def save_state(self) -> None:
        if self.state is not None:
            self.uow.conversations.save(self.state)

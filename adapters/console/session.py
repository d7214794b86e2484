"""The local console chat: type as any person of the directory, on the same engine as Slack and Teams.

Lines are messages to the bot; a number picks a button of the last message; ``/as EMAIL`` switches
person (showing what the bot sent them meanwhile; each person's last buttons stay usable),
``/advance 3d`` moves the clock forward, keeps the offset in the database for the next start, and runs
what fell due. When stdin is not a terminal, lines are read as a script and a transcript is printed.
"""

from __future__ import annotations

import base64
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from adapters.console.render import render
from bot.clock import OffsetClock
from bot.commands.registry import ADDRESS_WORD, address
from bot.domain import Person, Tenant
from bot.files import safe_file_name
from bot.model import TEXT_LIMIT, Action, Form, InboundEvent, OutgoingMessage, Platform, capped
from bot.ports import DeliveryResult, OutboxItem
from bot.runtime import Runtime
from bot.tenancy import CONSOLE_TENANT
from bot.wording import say

_DURATION = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '3d', '1w' as a timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


LEADING = ("/mentoring", ADDRESS_WORD)
"""The words that may come before a command typed at the console, as in Teams."""


def console_event(
    email: str, text: str, action: Action | None, at: datetime, event_id: str, user_name: str = ""
) -> InboundEvent:
    """A line typed (or a button pressed) at the console by the person with ``email``, as a neutral event.

    A leading ``mentoring`` or ``/mentoring`` is stripped and the event marked ``addressed``. The console
    has no mention syntax: people are named by email (``@amara@example.com``, ``amara@example.com``, or
    ``@amara`` for the part before the @) and channels by ``#name``, words the engine reads as they are.
    A line longer than ``TEXT_LIMIT`` is kept only that long and marked (``text_length``) for the engine to
    refuse."""
    typed, addressed = address(text, LEADING) if action is None else (text, False)
    typed, text_length = capped(typed)
    return InboundEvent(
        platform=Platform.CONSOLE,
        tenant=CONSOLE_TENANT,
        event_id=event_id,
        user=email,
        user_email=email,
        user_name=user_name,
        text=typed,
        text_length=text_length,
        addressed=addressed,
        action=action,
        occurred_at=at,
        kind="action" if action else "message",
    )


@dataclass
class ConsoleDeliverer:
    """Shows messages to the person at the console; messages for others wait in the outbox."""

    session: ConsoleSession
    platform: str = Platform.CONSOLE.value

    def deliver(self, item: OutboxItem) -> DeliveryResult:
        current = self.session.person
        if item.message.to.kind == "conversation":
            self.session.console.print(
                f"[bold yellow]{escape(say('console.in_channel', channel=item.message.to.conversation))}[/bold yellow]"
            )
            self.session.show(item.message)
            return DeliveryResult()
        if current is None or current.id not in item.pending:
            return DeliveryResult()
        self.session.show(item.message)
        return DeliveryResult(delivered=[current.id])


@dataclass
class ConsoleSession:
    runtime: Runtime
    clock: OffsetClock
    console: Console
    files_dir: Path
    tenant: Tenant = field(init=False)
    person: Person | None = None
    choices: list[Any] = field(default_factory=list)
    earlier: list[Any] = field(default_factory=list)
    """Buttons of an earlier message that a newer question covers: pressed with ``/N``."""
    form: Form | None = None
    form_values: dict[str, str] = field(default_factory=dict)
    choices_of: dict[int, list[Any]] = field(default_factory=dict)
    """Each person's buttons of their last message with buttons, kept while someone else is at the console."""

    def __post_init__(self) -> None:
        self.deliverer = ConsoleDeliverer(self)
        with self.runtime.store.unit_of_work() as uow:
            self.tenant = uow.tenants.ensure(Platform.CONSOLE.value, CONSOLE_TENANT)
            stored = uow.tenants.clock_offset(self.tenant.id)
        if stored > self.clock.offset:  # a restarted console carries on at the time it had reached
            self.clock.offset = stored

    # -- people -------------------------------------------------------------------------------------

    def switch(self, email: str) -> bool:
        """Become ``email``; shows what the bot sent them while someone else was at the console."""
        with self.runtime.store.unit_of_work() as uow:
            person = uow.people.by_email(self.tenant.id, email.strip())
        if person is None:
            self.console.print(say("console.unknown_person", email=email), markup=False)
            return False
        if self.person is not None:
            self.choices_of[self.person.id] = self.choices
        self.person, self.choices = person, self.choices_of.get(person.id, [])
        self.console.print(f"[bold green]{say('console.now_as', name=person.name, email=person.email)}[/bold green]")
        self.flush()
        return True

    def flush(self) -> None:
        """Handle whatever is pending, then show the current person their messages."""
        self.runtime.process_pending()
        if self.person is not None:
            self.runtime.send_pending(self.deliverer, people={self.person.id})

    def show(self, message: OutgoingMessage) -> None:
        self.console.print("[bold blue]bot[/bold blue] ▸ " + "\n".join(render(message)))
        if message.choices:
            if self.choices and message.question is not None:
                self._keep_earlier(self.choices)
            self.choices = list(message.choices)
        elif message.question is None or message.question.kind not in ("choice", "yes_no"):
            if self.choices and message.question is not None:
                self._keep_earlier(self.choices)
            self.choices = []
        for attachment in message.attachments:
            if self.person is None:
                raise RuntimeError("a file was sent while nobody is at the console")
            folder = self._folder(self.person)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / safe_file_name(attachment.filename, "file")
            path.write_bytes(base64.b64decode(attachment.content_b64))
            self.console.print(
                f"  [dim]{say('console.file_saved', title=attachment.title or attachment.filename, path=str(path))}[/dim]"
            )
        if message.form is not None:
            self.form, self.form_values = message.form, {}
            self._ask_form_field()
        if message.kind == "farewell" and self.person is not None:  # forget-me: their files go, and so do they
            shutil.rmtree(self._folder(self.person), ignore_errors=True)
            self.person, self.choices = None, []

    def _folder(self, person: Person) -> Path:
        """Where the files sent to ``person`` are saved."""
        # Both names come from user data (a directory's email, a file's name): each is made one plain name.
        return self.files_dir / safe_file_name(person.email or "", str(person.id))

    def _drop_files_of_the_forgotten(self) -> None:
        """Files saved for someone the directory no longer knows by that email (forgotten when their programme's
        retention period ended) are deleted."""
        if not self.files_dir.is_dir():
            return
        with self.runtime.store.unit_of_work() as uow:
            known = {self._folder(p).name for p in uow.people.in_tenant(self.tenant.id) if p.email}
        for folder in self.files_dir.iterdir():
            if folder.is_dir() and "@" in folder.name and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    def _keep_earlier(self, choices: list[Any]) -> None:
        """A question covers the buttons above it: they stay reachable as ``/1``, ``/2``..."""
        self.earlier = list(choices)
        self.console.print(f"  [dim]{escape(say('console.earlier_buttons', count=len(choices)))}[/dim]")

    def _ask_form_field(self) -> None:
        assert self.form is not None
        current = self.form.fields[len(self.form_values)]
        hint = f" ({current.hint})" if current.hint else ""
        options = ", ".join(f"{n}) {c.label}" for n, c in enumerate(current.choices, start=1))
        self.console.print(f"  [bold]{escape(current.label)}[/bold]{escape(hint)} {escape(options)}")

    def _answer_form_field(self, text: str) -> Action | None:
        """Collect one field of an open form; returns the submit action once every field is answered."""
        assert self.form is not None
        current = self.form.fields[len(self.form_values)]
        if text.isdecimal() and current.choices and 1 <= int(text) <= len(current.choices):
            text = current.choices[int(text) - 1].value
        self.form_values[current.id] = text
        if len(self.form_values) < len(self.form.fields):
            self._ask_form_field()
            return None
        action = Action(id=self.form.action, values=dict(self.form_values))
        self.form, self.form_values = None, {}
        return action

    # -- input --------------------------------------------------------------------------------------

    def handle_line(self, line: str) -> bool:
        """Act on one typed line. Returns False when the session should end."""
        text = line.strip()
        if not text:
            return True
        if text[1:].isdecimal() and text.startswith("/") and self.earlier and self.person is not None:
            return self._press_earlier(int(text[1:]))
        if text.startswith("/") and not text.lower().startswith("/mentoring"):
            return self._console_command(text)
        if self.person is None:
            self.console.print(say("console.nobody"), markup=False)
            return True
        action = None
        if self.form is not None:
            action = self._answer_form_field(text)
            if action is None:
                return True
            text = ""
        elif text.isdecimal() and self.choices and 1 <= int(text) <= len(self.choices):
            choice = self.choices[int(text) - 1]
            action, text = Action(id=choice.action, value=choice.value), ""
        self._send(text, action)
        return True

    def _send(self, text: str, action: Action | None) -> None:
        assert self.person is not None
        event = console_event(
            self.person.email or "", text, action, self.clock.now(), f"console:{uuid.uuid4()}", self.person.name
        )
        self.runtime.accept(event)
        self.flush()

    def _press_earlier(self, number: int) -> bool:
        if not 1 <= number <= len(self.earlier):
            self.console.print(say("console.no_such_button", number=number, count=len(self.earlier)), markup=False)
            return True
        choice = self.earlier[number - 1]
        self._send("", Action(id=choice.action, value=choice.value))
        return True

    def _console_command(self, text: str) -> bool:
        word, _, rest = text.partition(" ")
        word = word.lower()
        if word in ("/quit", "/exit"):
            return False
        if word == "/as":
            if not rest.strip():
                self.console.print(say("console.as_usage"), markup=False)
            else:
                self.switch(rest.strip())
        elif word == "/advance":
            try:
                delta = parse_duration(rest)
            except ValueError:
                self.console.print(say("console.advance_usage", given=rest.strip()), markup=False)
                return True
            now = self.clock.advance(delta)
            with self.runtime.store.unit_of_work() as uow:
                uow.tenants.save_clock_offset(self.tenant.id, self.clock.offset)
            ran = self.runtime.run_due(now)
            self._drop_files_of_the_forgotten()
            self.console.print(f"[dim]{say('console.advanced', now=now.strftime('%Y-%m-%d %H:%M UTC'), ran=ran)}[/dim]")
            self.flush()
        elif word == "/who":
            self.console.print(
                say(
                    "console.who",
                    name=self.person.name if self.person else "nobody",
                    email=self.person.email if self.person else "",
                ),
                markup=False,
            )
        elif word == "/help":
            self.console.print(say("console.help"), markup=False)
        else:
            self.console.print(say("console.unknown_command", given=word), markup=False)
        return True

    def run(self, stream: IO[str], interactive: bool) -> None:
        """Read lines until the end of the stream (or ``/quit``)."""
        if interactive:
            self.console.print(f"[dim]{say('console.welcome')}[/dim]")
        while True:
            if interactive:
                name = self.person.name if self.person else "?"
                try:
                    line = self.console.input(f"[bold]{name}[/bold] ▸ ")
                except (EOFError, KeyboardInterrupt):
                    break
            else:
                line = stream.readline()
                if not line:
                    break
                line = line.rstrip("\n")
                if line.strip().startswith("#"):
                    continue
                who = self.person.name if self.person else "?"
                shown = line if len(line) <= TEXT_LIMIT else line[:TEXT_LIMIT] + "…"  # bounded, like what is read
                self.console.print(f"[bold]{escape(who)}[/bold] ▸ {escape(shown)}", highlight=False)
            if not self.handle_line(line):
                break

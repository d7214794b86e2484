"""An in-process chat harness: the real engine, runtime and store, with a recording deliverer.

Like errbot's testbot: tests type as a person and read what the bot sent back, many turns a second.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.console.session import console_event
from bot.clock import OffsetClock
from bot.domain import NewPerson, Person
from bot.engine import Engine
from bot.model import Action, OutgoingMessage
from bot.ports import DeliveryResult, OutboxItem
from bot.runtime import Runtime
from bot.wording import unescape
from storage.store import SqlStore


@dataclass
class RecordingDeliverer:
    platform: str = "console"
    inbox: dict[int, list[OutgoingMessage]] = field(default_factory=dict)
    channels: dict[str, list[OutgoingMessage]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    def deliver(self, item: OutboxItem) -> DeliveryResult:
        if item.message.to.kind == "conversation":
            self.channels.setdefault(item.message.to.conversation, []).append(item.message)
        for person_id in item.pending:
            self.inbox.setdefault(person_id, []).append(item.message)
        self.keys.append(item.message.idempotency_key)
        return DeliveryResult(delivered=list(item.pending))


class Chat:
    """Drive the bot as people of the console tenant."""

    def __init__(self, store: SqlStore, clock: OffsetClock | None = None) -> None:
        self.store = store
        self.clock = clock or OffsetClock()
        self.runtime = Runtime(store, Engine(), self.clock)
        self.deliverer = RecordingDeliverer()
        self._ids = itertools.count(1)
        self.last: dict[str, list[OutgoingMessage]] = {}
        self._known: dict[str, int] = {}

    def person(self, email: str) -> Person:
        """The person with this email (also after they were forgotten: by the id seen before)."""
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.ensure("console", "console")
            person = uow.people.by_email(tenant.id, email)
            if person is None and email in self._known:
                person = uow.people.get(self._known[email])
            assert person is not None, email
            self._known[email] = person.id
            return person

    def add_person(self, email: str, name: str, seniority: int = 3, **fields: object) -> Person:
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.ensure("console", "console")
            return uow.people.add(NewPerson(tenant_id=tenant.id, email=email, name=name, seniority=seniority, **fields))

    def load_sample(self) -> None:
        """The sample organisation of prompts/sample, as `make run` loads it."""
        from bot.directory import parse_directory
        from bot.wording import PROMPTS
        from directory_support import import_directory

        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.ensure("console", "console")
        parsed = parse_directory((PROMPTS / "sample" / "organisation.csv").read_text(encoding="utf-8"), {})
        import_directory(self.store, tenant.id, parsed.rows)

    def new_programme(self, coordinator: str, name: str, starts: str, ends: str, goal_date: str = "2030-12-31") -> None:
        """Create a programme through the guided setup in chat, as ``coordinator``."""
        self.send(coordinator, "program new")
        for answer in [
            name,
            "1",
            "team-rated digital confidence",
            "5",
            "7",
            goal_date,
            starts,
            ends,
            "2w",
            "45",
            "skip",
            "yes",
        ]:
            self.send(coordinator, answer)

    def change_settings(self, **changes: object) -> None:
        """Change the first programme's settings in the store directly (what no chat command offers)."""
        with self.store.unit_of_work() as uow:
            programme = uow.programmes.in_tenant(1)[0]
            programme.settings = programme.settings.model_copy(update=changes)
            uow.programmes.save(programme)

    def make_tenant_coordinator(self, email: str) -> None:
        person = self.person(email)
        with self.store.unit_of_work() as uow:
            uow.coordinators.add_tenant_coordinator(person.tenant_id, person.id)

    def send(self, email: str, text: str = "", action: Action | None = None, event_id: str | None = None) -> list[str]:
        """Act as ``email``; returns the plain text of every message that person received as a result."""
        # As the console types it: its translate step strips a leading ``mentoring`` (the event is ``addressed``).
        event = console_event(email, text, action, self.clock.now(), event_id or f"e{next(self._ids)}")
        self.runtime.accept(event)
        return self.pump(email)

    def pump(self, email: str | None = None) -> list[str]:
        self.runtime.process_pending()
        before = {pid: len(msgs) for pid, msgs in self.deliverer.inbox.items()}
        self.runtime.send_pending(self.deliverer)
        if email is None:
            return []
        pid = self.person(email).id
        new = self.deliverer.inbox.get(pid, [])[before.get(pid, 0) :]
        self.last[email] = new
        return [unescape(m.text) for m in new]

    def received(self, email: str) -> list[OutgoingMessage]:
        return self.deliverer.inbox.get(self.person(email).id, [])

    def press(self, email: str, label: str) -> list[str]:
        """Press the button labelled ``label`` on the newest message to ``email`` that has it."""
        for message in reversed(self.received(email)):
            for choice in message.choices:
                if choice.label == label:
                    return self.send(email, action=Action(id=choice.action, value=choice.value))
        raise AssertionError(f"no button {label!r} for {email}")

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.runtime.run_due(self.clock.now())
        self.runtime.send_pending(self.deliverer)

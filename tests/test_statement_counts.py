"""How many SQL statements the main commands run: the same for a programme of 20 participants as for one of 200.

Each count is one event handled by the worker (``Runtime.process_pending``: take it and mark it done, handle it,
and the look for a next event that finds none), on SQLite. The bounds are exact: a query per participant, or a new
query on the hot path of every event, fails here (lower a bound when a change saves statements)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from adapters.console.session import console_event
from bot.clock import OffsetClock
from bot.domain import NewMatchPair, NewParticipant, NewPerson, ParticipantStatus, Role
from bot.model import Action
from chat import Chat
from storage.store import SqlStore

COORD = "coordinator@example.com"
START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
SIZES = (20, 200)
BOUNDS = {
    "help": 9,
    "consent button": 15,
    "intake answer": 11,
    "status": 35,
    "report": 30,
    "dashboard": 31,
    "match preview": 20,
}
"""Statements per event, at most (and the same at every programme size)."""


class Counter:
    """Counts the statements the store's engine sends while ``counting`` is set."""

    def __init__(self, store: SqlStore) -> None:
        self.counting = False
        self.statements: list[str] = []
        self.events = itertools.count(1)
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        if self.counting:
            self.statements.append(str(args[2]).split("\n")[0])


def programme_of(store: SqlStore, size: int) -> tuple[Chat, Counter]:
    """A coordinator's programme with ``size`` participants in every state, half of those taking part paired."""
    chat = Chat(store, OffsetClock(start=START))
    chat.add_person(COORD, "Cora Ordinator", time_zone="UTC")
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-03-02", "2030-05-31")
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        [programme] = uow.programmes.in_tenant(tenant.id)
        coordinator = uow.people.by_email(tenant.id, COORD)
        assert coordinator is not None
        for n in range(size + 2):  # two more, invited and answered during the counts
            boss = uow.people.add(NewPerson(tenant_id=tenant.id, email=f"boss{n}@example.com", name=f"Boss {n}"))
            uow.people.add(
                NewPerson(tenant_id=tenant.id, email=f"report{n}@example.com", name=f"Report {n}", manager_id=boss.id)
            )
            uow.people.add(
                NewPerson(
                    tenant_id=tenant.id,
                    email=f"p{n}@example.com",
                    name=f"Person {n}",
                    seniority=n % 9,
                    manager_id=boss.id,
                )
            )
        mentors: list[int] = []
        for n in range(size):
            person = uow.people.by_email(tenant.id, f"p{n}@example.com")
            assert person is not None
            role = Role.MENTOR if n % 2 else Role.MENTEE
            state = [ParticipantStatus.INVITED, ParticipantStatus.DECLINED][n % 2] if n % 10 == 0 else None
            done = START - timedelta(days=1)
            participant = uow.participants.add(
                NewParticipant(
                    programme_id=programme.id,
                    person_id=person.id,
                    role=role,
                    status=state or ParticipantStatus.ACTIVE,
                    invited_by=coordinator.id,
                    joined_at=None if state else done,
                    intake={"languages": ["English"]} if state is None else {},
                    intake_completed_at=done if state is None and n % 7 else None,
                    onboarded_at=done if state is None and n % 7 and n % 5 else None,
                )
            )
            if state is None and role == Role.MENTOR:
                mentors.append(participant.id)
            elif state is None and mentors and n % 4 == 0:
                uow.matching.add_pair(
                    NewMatchPair(programme_id=programme.id, mentee_id=participant.id, mentor_id=mentors.pop(0))
                )
    return chat, Counter(store)


def count(chat: Chat, counter: Counter, email: str, text: str = "", action: Action | None = None) -> int:
    """Statements the worker runs to handle one event of ``email``."""
    chat.runtime.accept(console_event(email, text, action, chat.clock.now(), f"counted-{next(counter.events)}"))
    counter.statements.clear()
    counter.counting = True
    try:
        assert chat.runtime.process_pending() == 1
    finally:
        counter.counting = False
    chat.runtime.send_pending(chat.deliverer)
    return len(counter.statements)


def counts_for(store: SqlStore, size: int) -> dict[str, int]:
    chat, counter = programme_of(store, size)
    newcomer = f"p{size}@example.com"
    chat.send(COORD, f"invite {newcomer} as mentee")
    [consent] = [c for m in chat.received(newcomer) for c in m.choices if c.label == "Yes, I'm in"]
    found = {
        "help": count(chat, counter, COORD, "help"),
        "consent button": count(chat, counter, newcomer, action=Action(id=consent.action, value=consent.value)),
        "intake answer": count(chat, counter, newcomer, "yes"),
    }
    for command in ("status", "report", "dashboard", "match preview"):
        found[command] = count(chat, counter, COORD, command)
    return found


@pytest.fixture
def stores(tmp_path: Any) -> Iterator[dict[int, SqlStore]]:
    opened = {size: SqlStore.open(f"sqlite:///{tmp_path / f'{size}.db'}") for size in SIZES}
    try:
        yield opened
    finally:
        for store in opened.values():
            store.close()


def test_the_main_commands_run_as_many_statements_whatever_the_programme_size(stores: dict[int, SqlStore]) -> None:
    small, large = (counts_for(stores[size], size) for size in SIZES)
    assert large == small, {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    over = {name: (found, BOUNDS[name]) for name, found in small.items() if found > BOUNDS[name]}
    assert not over, f"more statements than allowed (found, allowed): {over}"

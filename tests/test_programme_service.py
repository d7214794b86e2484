"""The programme use cases, whichever surface asks: one audit entry per coordinator action (chat or ``rmbot``),
damaged button values refused in one clear line, and closing a programme through the service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.settings import load_settings
from adapters.wiring import open_store
from bot.clock import OffsetClock
from bot.context import Turn
from bot.domain import ProgrammeStatus
from bot.errors import CommandError
from bot.flows.runner import FlowRunner
from bot.model import Action, InboundEvent, Platform
from bot.services.programmes import RETENTION_JOB, ProgrammeService
from bot.wording import unescape
from chat import Chat
from cli_runner import run_cli
from conftest import ROOT
from test_sessions import pair_up

COORD = "amara.okafor@example.com"
MALFORMED = "That button's value could not be read, so nothing was changed. Type `help` to see what you can do."


@pytest.fixture
def operated(database_url: str) -> Iterator[tuple[Chat, str]]:
    """The chat fixture's world (Digital 2030, Amara coordinating it) in a database ``rmbot`` can open too."""
    store = open_store(load_settings(database_url=database_url))
    chat = Chat(store, OffsetClock(start=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-03-02", "2030-05-31")
    try:
        yield chat, database_url
    finally:
        store.close()


def entries(chat: Chat, verb: str) -> list[dict[str, object]]:
    """The programme's audit entries of ``verb``."""
    with chat.store.unit_of_work() as uow:
        [programme] = uow.programmes.in_tenant(1)
        return [e for e in uow.audit.of_programme(programme.id) if e["verb"] == verb]


def test_questions_set_from_the_command_line_leave_one_audit_entry(operated: tuple[Chat, str], tmp_path: Path) -> None:
    chat, url = operated
    bad = tmp_path / "bad.yml"
    bad.write_text("- prompt: Hi\n", encoding="utf-8")
    assert run_cli("program", "questions", "digital-2030", str(bad), env={"DATABASE_URL": url}).returncode == 1
    assert entries(chat, "program questions") == []  # refused: nothing changed, nothing recorded
    example = ROOT / "docs" / "examples" / "intake_questions.yml"
    done = run_cli("program", "questions", "digital-2030", str(example), env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    [entry] = entries(chat, "program questions")
    assert entry["person_id"] is None  # the operator
    audit = unescape(chat.send(COORD, "report audit")[0])
    assert audit.count("rmbot program questions intake_questions.yml: 3 question(s)") == 1
    assert "the operator (rmbot command line): `rmbot program questions" in audit


def test_a_library_set_from_the_command_line_leaves_one_audit_entry(operated: tuple[Chat, str]) -> None:
    chat, url = operated
    example = ROOT / "docs" / "examples" / "library_extra.yml"
    done = run_cli("program", "library", "digital-2030", str(example), env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert len(entries(chat, "program library")) == 1
    audit = unescape(chat.send(COORD, "report audit")[0])
    assert audit.count("rmbot program library library_extra.yml") == 1


def test_a_question_added_in_chat_leaves_one_audit_entry(chat: Chat) -> None:
    added = unescape(chat.send(COORD, 'program question add "Which tool do you use most?"')[0])
    assert "Added question 1" in added
    [entry] = entries(chat, "program question")
    assert entry["person_id"] == chat.person(COORD).id
    audit = unescape(chat.send(COORD, "report audit")[0])
    assert audit.count("program question add") == 1


def test_a_damaged_direction_button_is_refused_once_and_changes_nothing(chat: Chat) -> None:
    with chat.store.unit_of_work() as uow:
        [programme] = uow.programmes.in_tenant(1)
    for value in ("v1:abc:target:3:lower", f"v1:{programme.id}:target:three:lower", "v1:12"):
        replies = chat.send(COORD, action=Action(id="programme.goal_direction", value=value))
        assert replies == [MALFORMED]
    assert chat.store.inbox.pending_count() == 0  # answered once, not retried
    with chat.store.unit_of_work() as uow:
        assert uow.programmes.get(programme.id) == programme
    # a button sent before values were typed (fields joined by "|") still works
    legacy = Action(id="programme.goal_direction", value=f"{programme.id}|target|3|lower")
    assert "target is now 3" in unescape(chat.send(COORD, action=legacy)[0])


def test_a_damaged_intake_button_is_refused_once(chat: Chat) -> None:
    assert chat.send(COORD, action=Action(id="intake.open", value="v1:abc")) == [MALFORMED]
    assert chat.send(COORD, action=Action(id="intake.edit", value="v1:x:motivation")) == [MALFORMED]


def test_closing_ends_the_pairs_and_schedules_the_purge(chat: Chat) -> None:
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        [programme] = uow.programmes.in_tenant(tenant.id)
        event = InboundEvent(
            platform=Platform.CONSOLE, tenant="console", event_id="close-test", occurred_at=chat.clock.now()
        )
        turn = Turn(event=event, uow=uow, tenant=tenant, now=chat.clock.now(), flows=FlowRunner())
        service = ProgrammeService.of(uow)
        service.close(turn, programme)
        with pytest.raises(CommandError):
            service.close(turn, programme)
    with chat.store.unit_of_work() as uow:
        closed = uow.programmes.get(programme.id)
        assert closed is not None and closed.status == ProgrammeStatus.CLOSED
        assert all(p.status.value == "ended" for p in uow.matching.pairs(programme.id))
    with chat.store.engine.connect() as connection:
        kinds = connection.execute(
            text("SELECT kind FROM scheduled_job WHERE key = :key"), {"key": f"retention:{programme.id}"}
        )
        assert kinds.scalars().all() == [RETENTION_JOB]

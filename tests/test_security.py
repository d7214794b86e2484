"""Authorisation generated from the command registry, tenant isolation, and fuzzed chat input."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.model import InboundEvent, Platform
from chat import Chat
from storage.tables import InboxEventRow
from test_engine import snapshot

COORD = "amara.okafor@example.com"
JUNIOR = "arjun.mehta@example.com"
OTHER_COORD = "grace.mensah@example.com"

ARGUMENTS = {
    "program new": "",
    "program list": "",
    "program show": "digital-2030",
    "program edit": "cadence 3w",
    "program close": "",
    "program clone": "Copy",
    "program announce": "#general",
    "program question": 'add "What do you use most?"',
    "invite": "@kavya.reddy as mentor",
    "coordinators add": "@kavya.reddy",
    "match preview": "",
    "match weights": "topic 10",
    "match pin": "@kavya.reddy @amara.okafor",
    "match forbid": "@kavya.reddy @amara.okafor",
    "match offline-depth": "@amara.okafor 2",
    "match rerun": "",
    "match publish": "",
    "match choices": "",
    "rematch": "@amara.okafor",
    "pair pause": "@amara.okafor",
    "pair resume": "@amara.okafor",
    "pair end": "@amara.okafor",
    "status": "",
    "report": "csv",
    "remind": "intake",
    "resources add": '"A guide" https://example.com/guide',
}


def coordinator_verbs(chat: Chat) -> list[str]:
    return [v.name for v in chat.runtime.engine.registry.verbs.values() if v.who == "coordinator"]


def test_every_coordinator_verb_is_refused_to_everyone_else_and_changes_nothing(chat: Chat) -> None:
    chat.send(COORD, f"invite @{JUNIOR.split('@')[0]} as mentor")
    chat.press(JUNIOR, "Yes, I'm in")
    chat.send(JUNIOR, "cancel")  # leave the intake, so that text is a command again
    chat.make_tenant_coordinator(OTHER_COORD)
    chat.new_programme(OTHER_COORD, "Other 2030", "2030-03-02", "2030-05-31")
    verbs = coordinator_verbs(chat)
    assert set(verbs) <= set(ARGUMENTS), set(verbs) - set(ARGUMENTS)  # a new verb needs its arguments here
    before = snapshot(chat)
    for verb in verbs:
        reply = chat.send(JUNIOR, f"{verb} {ARGUMENTS[verb]}".strip())
        assert len(reply) == 1 and "for programme coordinators" in reply[0], (verb, reply)
        if verb not in ("program new", "program list"):
            reply = chat.send(OTHER_COORD, f"{verb} {ARGUMENTS[verb]} --program digital-2030".strip())
            assert "You don't coordinate a programme called 'digital-2030'" in reply[0], (verb, reply)
    assert snapshot(chat) == before


def slack_event(tenant: str, user: str, text: str, event_id: str) -> InboundEvent:
    return InboundEvent(
        platform=Platform.SLACK,
        tenant=tenant,
        event_id=event_id,
        user=user,
        user_name=f"{user}@{tenant}",
        text=text,
        occurred_at=datetime.now(UTC),
        kind="command",
    )


def test_two_workspaces_with_colliding_user_ids_see_nothing_of_each_other(store) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(store)
    runtime = chat.runtime
    runtime.accept(slack_event("T1", "U1", "my-data", "e1"))
    runtime.accept(slack_event("T2", "U1", "my-data", "e2"))
    runtime.process_pending()
    with store.unit_of_work() as uow:
        t1, t2 = uow.tenants.find("slack", "T1"), uow.tenants.find("slack", "T2")
        a, b = uow.people.by_identity(t1.id, "slack", "U1"), uow.people.by_identity(t2.id, "slack", "U1")
        assert a.id != b.id and (a.name, b.name) == ("U1@T1", "U1@T2")
        uow.coordinators.add_tenant_coordinator(t1.id, a.id)
    runtime.accept(slack_event("T1", "U1", "program new", "e3"))
    for n, answer in enumerate(
        [
            "Workspace One",
            "1",
            "a measurable goal",
            "1",
            "2",
            "2031-01-01",
            "2030-01-01",
            "2030-06-01",
            "2w",
            "45",
            "skip",
            "yes",
        ]
    ):
        runtime.accept(slack_event("T1", "U1", answer, f"e3-{n}").model_copy(update={"kind": "message"}))
    runtime.accept(slack_event("T2", "U1", "program list", "e4"))
    runtime.accept(slack_event("T2", "U1", "join", "e5"))
    runtime.process_pending()
    with store.unit_of_work() as uow:
        assert [p.name for p in uow.programmes.in_tenant(t1.id)] == ["Workspace One"]
        assert uow.programmes.in_tenant(t2.id) == []
        replies = uow.session.execute(select(InboxEventRow.status)).scalars().all()
    assert set(replies) == {"done"}
    from storage.tables import OutboxMessageRow

    with store.unit_of_work() as uow:
        to_b = [
            row.payload["text"]
            for row in uow.session.execute(select(OutboxMessageRow)).scalars()
            if row.recipients == [b.id]
        ]
    assert any("for programme coordinators" in text for text in to_b)
    assert any("no programme open" in text for text in to_b)
    assert not any("Workspace One" in text for text in to_b)


@given(st.text(min_size=1, max_size=200))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_gets_a_clear_answer_and_never_an_error(chat: Chat, text: str) -> None:
    event_id = f"fuzz-{abs(hash(text))}-{len(chat.deliverer.keys)}"
    replies = chat.send(JUNIOR, text, event_id=event_id)
    with chat.store.unit_of_work() as uow:
        status = uow.session.execute(
            select(InboxEventRow.status).where(InboxEventRow.event_id == event_id)
        ).scalar_one()
    assert status == "done"
    assert replies and all(r.strip() for r in replies)


@given(st.sampled_from(sorted(ARGUMENTS)), st.lists(st.text(max_size=20), max_size=4))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example("pair end", [","]).via("a word that names nobody once its comma is stripped")
@example("rematch", [",,"]).via("the same, for a verb that needs one person")
def test_any_arguments_to_any_coordinator_verb_get_a_clear_answer(chat: Chat, verb: str, words: list[str]) -> None:
    text = " ".join([verb, *words])
    event_id = f"fuzz-args-{abs(hash(text))}-{len(chat.deliverer.keys)}"
    replies = chat.send(COORD, text, event_id=event_id)
    with chat.store.unit_of_work() as uow:
        status = uow.session.execute(
            select(InboxEventRow.status).where(InboxEventRow.event_id == event_id)
        ).scalar_one()
    assert status == "done", text
    assert replies, text

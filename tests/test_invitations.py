"""Recruitment through the chat harness: typed button values, mentions and channels resolved by the adapter.

The engine reads only neutral words: a mention arrives as ``@Name`` with the person's platform id in the
event's ``mentions``, a channel as ``#name`` with its id in ``channels`` (see tests/test_slack_translate.py
and tests/test_teams_translate.py for the adapters' side).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.commands.invitations import CONSENT_ACTION, JOIN_ACTION, ConsentValue, JoinValue
from bot.model import Action, InboundEvent, Platform
from bot.wording import say, unescape
from chat import Chat
from storage.tables import ScheduledJobRow

COORD = "amara.okafor@example.com"
ARJUN = "arjun.mehta@example.com"
KAVYA = "kavya.reddy@example.com"
MALFORMED = unescape(say("commands.malformed_action"))


def state(chat: Chat) -> dict[str, Any]:
    """The participants of every programme and the scheduled jobs: what a refused button must leave as it was."""
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        assert tenant is not None
        programmes = uow.programmes.in_tenant(tenant.id)
        participants = [p.model_dump() for pr in programmes for p in uow.participants.in_programme(pr.id)]
    with Session(chat.store.engine) as session:
        jobs = sorted((row.key, row.status) for row in session.exec(select(ScheduledJobRow)).all())
    return {"participants": participants, "jobs": jobs}


def participant_of(chat: Chat, email: str) -> Any:
    person = chat.person(email)
    with chat.store.unit_of_work() as uow:
        [participant] = uow.participants.of_person(person.id)
        return participant


def send_event(chat: Chat, email: str, text: str, **fields: Any) -> list[str]:
    """What an adapter hands the engine: text with neutral words, and what they stand for."""
    event = InboundEvent(
        platform=Platform.CONSOLE,
        tenant="console",
        event_id=f"adapter:{text}",
        user=email,
        user_email=email,
        text=text,
        occurred_at=chat.clock.now(),
        **fields,
    )
    chat.runtime.accept(event)
    return chat.pump(email)


def test_consent_buttons_carry_a_typed_value_and_old_values_still_work(chat: Chat) -> None:
    chat.send(COORD, f"invite {ARJUN} as mentor")
    [consent] = [m for m in chat.received(ARJUN) if m.choices]
    participant = participant_of(chat, ARJUN)
    assert [c.value for c in consent.choices] == [
        ConsentValue(participant.id, "accept").encode(),
        ConsentValue(participant.id, "decline").encode(),
    ]
    assert consent.choices[0].value == f"v1:{participant.id}:accept"
    replies = chat.send(ARJUN, action=Action(id=CONSENT_ACTION, value=f"{participant.id}:accept"))  # sent before v1
    assert "you're in **Digital 2030**" in replies[0]


def test_a_malformed_consent_value_gets_the_clear_answer_and_changes_nothing(chat: Chat) -> None:
    chat.send(COORD, f"invite {ARJUN} as mentor")
    before = state(chat)
    for value in ("v1:abc:yes", "v1:abc:accept", "accept", ""):
        event_id = f"pressed:{value}"
        replies = chat.send(ARJUN, action=Action(id=CONSENT_ACTION, value=value), event_id=event_id)
        assert replies == [MALFORMED], value
        assert chat.store.inbox.status_of("console", "console", event_id) == "done"  # answered, never retried
    assert state(chat) == before
    participant = participant_of(chat, ARJUN)
    refused = chat.send(ARJUN, action=Action(id=CONSENT_ACTION, value=f"v1:{participant.id}:maybe"))
    assert refused == [unescape(say("consent.not_yours"))] and state(chat) == before


def test_a_malformed_join_value_gets_the_clear_answer_and_changes_nothing(chat: Chat) -> None:
    before = state(chat)
    for value in ("v1:1:boss", "v1:x:mentor", "v1:"):
        assert chat.send(KAVYA, action=Action(id=JOIN_ACTION, value=value)) == [MALFORMED], value
    assert state(chat) == before


def test_join_buttons_pick_the_programme_and_the_role(chat: Chat) -> None:
    replies = chat.send(KAVYA, "join")
    assert "How would you like to take part" in replies[0]
    [message] = chat.last[KAVYA]
    value = message.choices[0].value
    assert value.startswith("v1:") and JoinValue.decode(value).role == "mentor"
    chat.press(KAVYA, "As a mentor")
    assert participant_of(chat, KAVYA).status.value == "invited"


def test_people_mentioned_arrive_resolved_by_the_adapter(chat: Chat) -> None:
    arjun = chat.person(ARJUN)
    with chat.store.unit_of_work() as uow:
        uow.people.link_identity(arjun, "console", "U-ARJUN")
    replies = send_event(chat, COORD, "invite @Arjun.M as mentor", mentions={"@Arjun.M": "U-ARJUN"})
    assert "Invited" in replies[0] and "Arjun Mehta" in replies[0]
    assert participant_of(chat, ARJUN).role.value == "mentor"
    missing = send_event(chat, COORD, "coordinators add @Nobody.Here", mentions={"@Nobody.Here": "U-NOBODY"})
    assert "@Nobody.Here" in missing[0] and "couldn't find" in missing[0]


def test_a_channel_arrives_resolved_by_the_adapter(chat: Chat) -> None:
    replies = send_event(chat, COORD, "program announce #general", channels={"#general": "C0GENERAL"})
    assert "Posted the call" in replies[0] and "#general" in replies[0]
    [call] = chat.deliverer.channels["C0GENERAL"]
    assert "volunteers wanted" in call.text and "#general" not in chat.deliverer.channels


def test_a_leading_word_addresses_the_bot_inside_a_questionnaire(chat: Chat) -> None:
    shown = chat.send(COORD, "program show Digital 2030")[0]
    chat.send(COORD, "program new")  # a questionnaire is open: its first question takes any name
    assert chat.send(COORD, "mentoring program show Digital 2030")[0] == shown  # addressed: a command
    assert chat.send(COORD, "program show Digital 2030")[0] != shown  # not addressed: the programme's name

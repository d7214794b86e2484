"""``rematch``: a proposal under the same rules, the coordinator decides, both old partners are told kindly."""

from __future__ import annotations

import pytest

from bot.clock import OffsetClock
from chat import Chat
from test_matching_chat import COORD, START, sample_participants

AMARA, ARJUN = "amara.okafor@example.com", "arjun.mehta@example.com"


@pytest.fixture
def chat(store) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(store, OffsetClock(start=START))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-01-15", "2030-07-15")
    return chat


def published(chat: Chat) -> None:
    sample_participants(chat)
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")


def pairs_of(chat: Chat, email: str) -> list[tuple[str, str]]:
    person = chat.person(email)
    with chat.store.unit_of_work() as uow:
        [participant] = uow.participants.of_person(person.id)
        return [
            (p.status.value, p.end_reason)
            for p in uow.matching.pairs(participant.programme_id)
            if participant.id in (p.mentee_id, p.mentor_id)
        ]


def test_rematch_proposes_first_and_ends_nothing_until_confirmed(chat: Chat) -> None:
    published(chat)
    reply = chat.send(COORD, "rematch @amara.okafor")[0]
    assert "Rematch for Amara Okafor" in reply and "now paired with Arjun Mehta" in reply
    assert "Proposed new partner" in reply and "Nothing has changed yet" in reply
    assert pairs_of(chat, AMARA) == [("active", "")]
    before = len(chat.received(ARJUN))
    assert "Kept" in chat.press(COORD, "Keep the current pair")[0]
    assert pairs_of(chat, AMARA) == [("active", "")] and len(chat.received(ARJUN)) == before


def test_confirmed_rematch_tells_both_old_partners_and_introduces_the_new_pair(chat: Chat) -> None:
    published(chat)
    proposal = chat.send(COORD, "rematch @amara.okafor")[0]
    new_name = proposal.split("Proposed new partner: ")[1].split(" (")[0].strip("*")
    assert new_name != "Arjun Mehta"
    done = chat.press(COORD, "Confirm the rematch")
    assert any("Rematched: Amara Okafor and " + new_name in r for r in done)
    arjun = next(m.text for m in chat.received(ARJUN) if "pairing with Amara Okafor" in m.text)
    assert "pairing with Amara Okafor" in arjun and "has ended" in arjun and "rematch" not in arjun.lower()
    assert "coordinator will be in touch about a new partner" in arjun
    amara = [m.text for m in chat.received(AMARA)]
    assert any("pairing with Arjun Mehta" in t and "new partner is introduced" in t for t in amara)
    assert any("Meet your reverse-mentoring partner" in t and new_name in t for t in amara)
    statuses = sorted(pairs_of(chat, AMARA))
    assert statuses == [("active", ""), ("ended", "rematch")]
    assert "already ended" in chat.press(COORD, "Confirm the rematch")[0]
    assert "rematch" in chat.send(COORD, "report audit")[0]


def test_when_nobody_fits_the_coordinator_hears_why_and_the_pair_continues(chat: Chat) -> None:
    from test_matching_chat import import_csv

    import_csv(
        chat,
        "email,role,capacity,can_teach,want_to_learn,consented_at,onboarded_at\n"
        "arjun.mehta@example.com,mentor,1,ai_tools,,2030-01-01,2030-01-01\n"
        "amara.okafor@example.com,mentee,,,ai_tools,2030-01-01,2030-01-01\n",
    )
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")
    reply = chat.send(COORD, "rematch @amara.okafor")[0]
    assert "No new partner fits Amara Okafor right now" in reply and "continues" in reply
    assert pairs_of(chat, AMARA) == [("active", "")]
    chat.press(COORD, "End the pair anyway")
    assert pairs_of(chat, AMARA) == [("ended", "rematch")]
    for email, other in ((AMARA, "Arjun Mehta"), (ARJUN, "Amara Okafor")):
        notices = [m.text for m in chat.received(email) if f"pairing with {other}" in m.text]
        assert len(notices) == 1 and "will be in touch about a new partner" in notices[0]


def test_only_coordinators_decide_and_unpaired_people_are_refused(chat: Chat) -> None:
    published(chat)
    chat.send(COORD, "rematch @amara.okafor")
    rematch_message = chat.received(COORD)[-1]
    confirm = next(c for c in rematch_message.choices if c.label == "Confirm the rematch")
    from bot.model import Action

    reply = chat.send(ARJUN, action=Action(id=confirm.action, value=confirm.value))
    assert "only a coordinator" in reply[0]
    assert pairs_of(chat, AMARA) == [("active", "")]
    assert "has no current pair" in chat.send(COORD, "rematch @helena.varga")[0]


@pytest.mark.parametrize(
    ("action", "value"),
    [
        ("rematch.confirm", "v1:abc:1:2:3"),
        ("rematch.confirm", "v1:1:2"),
        ("rematch.end", "v1:1"),
        ("rematch.keep", "x:y"),
    ],
)
def test_a_damaged_rematch_button_gets_one_clear_answer_and_changes_nothing(
    chat: Chat, action: str, value: str
) -> None:
    from bot.model import Action
    from bot.wording import say

    published(chat)
    chat.send(COORD, "rematch @amara.okafor")
    told = len(chat.received(ARJUN))  # Amara is the coordinator too: she hears the answer
    assert chat.send(COORD, action=Action(id=action, value=value)) == [say("commands.malformed_action")]
    assert pairs_of(chat, AMARA) == [("active", "")]
    assert len(chat.received(ARJUN)) == told


def test_a_rematch_button_sent_before_values_had_a_version_still_works(chat: Chat) -> None:
    from bot.model import Action

    published(chat)
    chat.send(COORD, "rematch @amara.okafor")
    confirm = next(c for c in chat.received(COORD)[-1].choices if c.label == "Confirm the rematch")
    assert confirm.value.startswith("v1:")
    old = confirm.value.removeprefix("v1:")
    assert any(
        "Rematched: Amara Okafor and " in r for r in chat.send(COORD, action=Action(id=confirm.action, value=old))
    )
    assert sorted(pairs_of(chat, AMARA)) == [("active", ""), ("ended", "rematch")]

"""Matching as coordinators and participants see it: preview, weights, pin, forbid, publish, rematch, choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import OffsetClock
from bot.participants_import import parse_participants
from bot.wording import PROMPTS
from chat import Chat
from directory_support import directory_emails, import_participants

COORD = "amara.okafor@example.com"
START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def chat(store) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(store, OffsetClock(start=START))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-01-15", "2030-07-15")
    return chat


def import_csv(chat: Chat, text: str) -> None:
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        programme = uow.programmes.in_tenant(tenant.id)[0]
    directory = directory_emails(chat.store, tenant.id)
    parsed = parse_participants(text, directory)
    assert parsed.errors == []
    import_participants(chat.store, programme.id, parsed.rows, START)


def sample_participants(chat: Chat) -> None:
    import_csv(chat, (PROMPTS / "sample" / "participants.csv").read_text(encoding="utf-8"))


def test_preview_shows_pairs_scores_reasons_and_the_unmatched(chat: Chat) -> None:
    sample_participants(chat)
    reply = chat.send(COORD, "match preview")[0]
    assert "**Match preview for Digital 2030** (optimal)" in reply
    assert "14 pairs, average score" in reply
    assert "unmatched mentor" in reply and "better matched with someone else" in reply
    assert "Amara Okafor ← " in reply and "strong topic fit on" in reply


def test_unmatched_people_get_the_reason_that_applies(chat: Chat) -> None:
    # Priya Nair manages Arjun Mehta and Kavya Reddy: with only them as mentors, she cannot be matched.
    import_csv(
        chat,
        "email,role,capacity,can_teach,want_to_learn,consented_at,onboarded_at\n"
        "arjun.mehta@example.com,mentor,1,ai_tools,,2030-01-02,2030-01-02\n"
        "kavya.reddy@example.com,mentor,1,ai_tools,,2030-01-02,2030-01-02\n"
        "priya.nair@example.com,mentee,,,ai_tools,2030-01-02,2030-01-02\n",
    )
    reply = chat.send(COORD, "match preview")[0]
    assert "unmatched mentee Priya Nair: every possible partner is in their reporting line" in reply


def test_weights_are_shown_changed_and_validated(chat: Chat) -> None:
    assert "topic 40.0, diversity 25.0" in chat.send(COORD, "match weights")[0]
    assert "topic 80.0" in chat.send(COORD, "match weights topic 80 location different")[0]
    assert "location different" in chat.send(COORD, "match weights")[0]
    assert "between 0 and 100" in chat.send(COORD, "match weights topic 500")[0]
    assert "not a diversity preference" in chat.send(COORD, "match weights gender opposite")[0]
    assert "not a weight" in chat.send(COORD, "match weights colour 5")[0]
    assert "come in pairs" in chat.send(COORD, "match weights topic")[0]
    assert "must weigh more than 0" in chat.send(COORD, "match weights topic 0 diversity 0 style 0 choice 0")[0]


def test_pins_hold_in_every_run_and_cannot_break_a_hard_rule(chat: Chat) -> None:
    sample_participants(chat)
    reply = chat.send(COORD, "match pin @priya.nair @arjun.mehta")[0]
    assert "cannot be paired: every possible partner is in their reporting line" in reply
    assert "Pinned: Amara Okafor and Kavya Reddy" in chat.send(COORD, "match pin @kavya.reddy @amara.okafor")[0]
    preview = chat.send(COORD, "match preview")[0]
    assert "Amara Okafor ← Kavya Reddy (" in preview and "pinned" in preview
    assert "same_role" not in chat.send(COORD, "match pin @kavya.reddy @arjun.mehta")[0]
    assert "Both are mentors" in chat.send(COORD, "match pin @kavya.reddy @arjun.mehta")[0]
    assert "not taking part" in chat.send(COORD, "match pin @kavya.reddy @helena.varga")[0]


def test_forbid_keeps_two_people_apart(chat: Chat) -> None:
    sample_participants(chat)
    first = chat.send(COORD, "match preview")[0]
    assert "Amara Okafor ← Arjun Mehta" in first
    assert "Forbidden" in chat.send(COORD, "match forbid @amara.okafor @arjun.mehta")[0]
    assert "Amara Okafor ← Arjun Mehta" not in chat.send(COORD, "match rerun")[0]


def test_publish_introduces_each_pair_once_and_tells_the_unmatched_privately(chat: Chat) -> None:
    sample_participants(chat)
    chat.send(COORD, "match preview")
    reply = next(r for r in chat.send(COORD, "match publish") if "Published" in r)
    assert "Published 14 pair(s)" in reply and "4 unmatched people were told why" in reply
    intro = [m for m in chat.received("amara.okafor@example.com") if "Meet your reverse-mentoring partner" in m.text]
    assert len(intro) == 1 and intro[0].to.kind == "pair"
    assert intro[0] in chat.received("arjun.mehta@example.com")  # one group message, both see it
    assert "Arjun Mehta (mentor) and Amara Okafor (mentee)" in intro[0].text
    told = [m for m in chat.received("lena.schmidt@example.com") if "weren't matched" in m.text]
    assert len(told) == 1
    assert "already published" in chat.send(COORD, "match publish")[0]
    again = chat.send(COORD, "match preview")[0]
    assert "0 pairs" in again  # everyone paired is out of the next run
    chat.send(COORD, "match publish")
    assert len([m for m in chat.received("amara.okafor@example.com") if "Meet your" in m.text]) == 1
    assert "nothing_to_publish" not in chat.send(COORD, "status")[0]


def test_participant_choice_sends_suggestions_and_the_matching_honours_rankings(chat: Chat) -> None:
    sample_participants(chat)
    assert "Participant choice is off" in chat.send(COORD, "match choices")[0]
    chat.send(COORD, "program edit participant-choice yes")
    chat.send(COORD, "program edit mentor-hours 4")
    reply = next(r for r in chat.send(COORD, "match choices") if "Sent mentor" in r)
    assert "Sent mentor suggestions to 14 mentee(s)" in reply
    suggestion = next(m for m in chat.received("amara.okafor@example.com") if "Choose your mentor" in m.text)
    assert "rank your top three" in suggestion.text and "can teach" in suggestion.text
    assert "woman" not in suggestion.text.lower() and "gender" not in suggestion.text.lower()
    assert suggestion.question is not None and 3 <= len(suggestion.question.choices) <= 5
    choices = suggestion.question.choices
    favourite = choices[-1].label  # the lowest-scored suggestion, ranked first
    assert "ranking is saved" in chat.send("amara.okafor@example.com", f"{len(choices)}, 1, 2")[0]
    chat.send(COORD, "program edit mentor-capacity 1")
    chat.send(COORD, "match weights choice 100")
    preview = chat.send(COORD, "match preview")[0]
    assert f"Amara Okafor ← {favourite}" in preview and "the mentee's choice #1" in preview

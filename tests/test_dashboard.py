"""The dashboard: one neutral view, built from the store, shown on the console, in Slack and in Teams."""

from __future__ import annotations

from datetime import timedelta

from adapters.console.render import plain, render
from adapters.slack.render import message_blocks
from adapters.teams.cards import render as card
from bot.model import OutgoingMessage
from bot.wording import unescape
from chat import Chat
from test_reports import add_pulses
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, pair_up


def dashboard(chat: Chat, email: str) -> OutgoingMessage:
    chat.send(email, "dashboard")
    return chat.last[email][0]


def facts(message: OutgoingMessage) -> dict[str, str]:
    return {unescape(name): unescape(value) for section in message.sections for name, value in section.fields}


def test_a_mentor_sees_partner_next_session_in_their_own_zone_and_topic(chat: Chat) -> None:
    pair_up(chat)
    board = dashboard(chat, MENTOR)
    assert facts(board)["Next session"].startswith("being agreed")
    confirm_first(chat)
    board = dashboard(chat, MENTOR)
    shown = facts(board)
    assert shown["Paired with"] == "Gabriela Santos"
    assert shown["Next session"].endswith("(Asia/Kolkata)")
    assert shown["You are"] == "mentor · taking part"
    assert "pair goals: 0 of 0 reached" in shown["Follow-through"]
    assert "stays between you" in board.context[-1]
    assert [c.value for c in board.choices][:3] == ["next", "agenda", "goals"]
    # a button runs its command, as if typed
    reply = chat.press(MENTOR, "next")
    assert "Gabriela Santos" in unescape(reply[0])
    mentee = facts(dashboard(chat, MENTEE))
    assert mentee["Paired with"] == "Arjun Mehta" and mentee["Next session"].endswith("(America/Los_Angeles)")


def test_a_coordinator_sees_health_and_pulse_only_above_the_threshold(chat: Chat) -> None:
    pair_up(chat)
    add_pulses(chat, [5, 4, 4])
    board = dashboard(chat, COORD)
    shown = facts(board)
    assert shown["Matched"] == "1 of 1 mentees · 1 live pairs, 0 at risk"
    assert shown["Pulse"] == "not enough responses to show (fewer than 5)"
    assert "mentors 1 in" in shown["People"] and "mentees 1 in" in shown["People"]
    add_pulses(chat, [5, 4, 4, 3, 5, 5])
    assert facts(dashboard(chat, COORD))["Pulse"] == "not released yet (next release 2030-03-02)"
    chat.clock.advance(timedelta(days=1))  # the release at the start of the term
    assert facts(dashboard(chat, COORD))["Pulse"] == "4.3/5 from 6 people (released 2030-03-02)"
    values = [c.value for c in board.choices]
    assert "status --program digital-2030" in values and "report --program digital-2030" in values
    reply = chat.press(COORD, "status: Digital 2030")
    assert "Digital 2030" in unescape(reply[0])


def test_someone_outside_every_programme_is_offered_join(chat: Chat) -> None:
    board = dashboard(chat, "kavya.reddy@example.com")
    assert "not part of a programme yet" in unescape(board.text)
    assert "join" in [c.value for c in board.choices]


def test_the_same_dashboard_renders_on_every_platform(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    board = dashboard(chat, COORD)
    console = "\n".join(plain(line) for line in render(board))
    assert "Programmes you coordinate" in console and "Matched: 1 of 1 mentees" in console
    blocks = [b.to_dict() for b in message_blocks(board)]
    assert any(b["type"] == "actions" for b in blocks) and len(blocks) <= 100
    teams = card(board)
    body = str(teams)
    assert "FactSet" in body and "Programmes you coordinate" in body and "status --program digital-2030" in body

"""Someone who leaves the organisation (the next directory import no longer lists them) stops taking part:
nothing more reaches them, their pairings end, their partner is told, and their sessions stop being due."""

from __future__ import annotations

from datetime import timedelta

from bot.directory import parse_directory
from bot.sessions.model import SessionStatus
from bot.wording import PROMPTS, unescape
from chat import Chat
from directory_support import import_directory
from test_commitment import sessions
from test_report_counts import pair_up
from test_sessions import COORD, MENTEE, MENTOR, confirm_first


def leave(chat: Chat, email: str) -> None:
    """HR's next directory export no longer lists ``email``; `rmbot scheduler run-due` runs afterwards."""
    text = (PROMPTS / "sample" / "organisation.csv").read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines() if not line.startswith(email))
    import_directory(chat.store, 1, parse_directory(kept, {}).rows)
    chat.advance(timedelta(minutes=1))


def test_a_leaver_gets_nothing_more_and_their_partner_is_told_the_pairing_ended(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    before = len(chat.received(MENTEE))
    leave(chat, MENTEE)
    told = [unescape(m.text) for m in chat.received(MENTOR)]
    assert any("has ended" in text for text in told[-3:]), told[-3:]
    chat.advance(timedelta(days=60))  # prep notes, reminders, follow-ups, pulses, surveys and check-ins fall due
    assert [unescape(m.text) for m in chat.received(MENTEE)[before:]] == []
    stored = sessions(chat)
    assert stored and all(s.status == SessionStatus.CANCELLED for s in stored)
    report = unescape(chat.send(COORD, "report")[0])
    assert "0 held of 0 due" in report, report[:300]


def test_someone_who_comes_back_to_the_directory_can_be_invited_again(chat: Chat) -> None:
    pair_up(chat)
    leave(chat, MENTEE)
    import_directory(
        chat.store, 1, parse_directory((PROMPTS / "sample" / "organisation.csv").read_text(encoding="utf-8"), {}).rows
    )
    chat.advance(timedelta(minutes=1))
    with chat.store.unit_of_work() as uow:
        person = uow.people.by_email(1, MENTEE)
        assert person is not None and person.left_at is None
    assert chat.send(MENTEE, "help")  # they are answered again

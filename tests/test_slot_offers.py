"""Nobody has to chase a time: an offer of times nobody answered is offered again, a half-agreed time is
asked of whoever has not confirmed it, and after the reminders the gap check takes over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from bot.sessions.model import SessionStatus
from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, offer
from test_sessions_over_time import outcome, pair_up, sessions


def later(chat: Chat, days: float) -> None:
    """Time passes in three-hour steps, so held reminders reach people inside their working hours."""
    for _ in range(int(days * 8)):
        chat.advance(timedelta(hours=3))


def offers(chat: Chat, email: str) -> int:
    return sum(1 for m in chat.received(email) if any(c.action == "slot.pick" for c in m.choices))


def test_an_unanswered_offer_is_made_again_with_fresh_times_then_left_to_the_gap_check(chat: Chat) -> None:
    pair_up(chat)
    assert offers(chat, MENTOR) == offers(chat, MENTEE) == 1
    later(chat, 1)
    assert offers(chat, MENTOR) == 1  # not nagged at once
    later(chat, 2.5)  # two days on, then inside each one's working hours
    assert offers(chat, MENTOR) == offers(chat, MENTEE) == 2
    reminder = unescape(offer(chat, MENTOR).text)
    assert reminder.startswith("A reminder: no time is agreed yet.")
    later(chat, 3)
    assert offers(chat, MENTOR) == 3
    later(chat, 6)
    assert offers(chat, MENTOR) == 3  # two reminders, then the coordinators hear of it
    assert not sessions(chat)
    alert = [unescape(m.text) for m in chat.received(COORD) if "have not agreed a time" in unescape(m.text)]
    assert len(alert) == 1 and "Arjun Mehta (mentor) and Gabriela Santos" in alert[0]
    assert "no time agreed after reminders" in " ".join(chat.send(COORD, "status"))
    later(chat, 6)
    assert offers(chat, MENTOR) == 3 and len(alert) == 1  # told once; nobody is nagged further


def test_a_time_one_side_picked_is_asked_again_of_the_other_side_only(chat: Chat) -> None:
    pair_up(chat)
    picked = offer(chat, MENTOR).choices[2]  # the latest of the three times: still ahead when reminded
    chat.press(MENTOR, picked.label)
    asked = len(chat.received(MENTEE))
    later(chat, 3.5)
    assert offers(chat, MENTOR) == 1  # the mentor already chose: not asked again
    again = chat.received(MENTEE)[asked:]
    assert [c.value for m in again for c in m.choices if c.action == "slot.pick"] == [picked.value]
    assert unescape(again[-1].text).startswith("A reminder:")
    chat.press(MENTEE, "Yes, that works")
    assert sessions(chat)


def test_a_time_agreed_late_clears_the_at_risk_mark(chat: Chat) -> None:
    pair_up(chat)
    later(chat, 9)
    assert "no time agreed after reminders" in " ".join(chat.send(COORD, "status"))
    chat.send(COORD, "pair pause @arjun.mehta")
    chat.send(COORD, "pair resume @arjun.mehta")  # a fresh offer of times
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    assert sessions(chat) and "no time agreed" not in " ".join(chat.send(COORD, "status"))


def test_a_confirmed_time_ends_the_reminders(chat: Chat) -> None:
    pair_up(chat)
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    before = {email: offers(chat, email) for email in (MENTOR, MENTEE)}
    later(chat, 5)
    assert {email: offers(chat, email) for email in (MENTOR, MENTEE)} == before


def test_a_picked_time_that_has_passed_is_offered_afresh(chat: Chat) -> None:
    pair_up(chat)
    picked = offer(chat, MENTOR).choices[0]
    chat.press(MENTOR, picked.label)
    later(chat, 6.5)
    newest = offer(chat, MENTEE)
    assert picked.value not in [c.value for c in newest.choices]
    assert unescape(newest.text).startswith("A reminder: no time is agreed yet.")


def test_when_no_session_follows_but_the_term_goes_on_times_for_the_next_are_offered(chat: Chat) -> None:
    """A series date that fits nobody any more (daylight saving moved one zone) is left out: after the last
    session that could be kept, the pair is asked for a time for the next, and the series carries on from it."""
    pair_up(chat)
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    first, *rest = sessions(chat)
    with chat.store.unit_of_work() as uow:
        for session in rest:  # as if no later date of the series had fitted everyone
            session.status = SessionStatus.CANCELLED
            uow.sessions.save(session)
    chat.advance(first.starts_at + timedelta(hours=2) - chat.clock.now())
    before = {email: offers(chat, email) for email in (MENTOR, MENTEE)}
    outcome(chat, MENTOR, first.id, "held")
    outcome(chat, MENTEE, first.id, "held")
    assert {email: offers(chat, email) - before[email] for email in before} == {MENTOR: 1, MENTEE: 1}  # once each
    assert unescape(offer(chat, MENTOR).text).startswith("Time to plan your next session")
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    ahead = [s for s in sessions(chat) if s.status == SessionStatus.SCHEDULED]
    assert ahead and min(s.sequence for s in ahead) == first.sequence + len(rest) + 1


def test_when_no_time_fits_everyone_the_coordinators_hear_it_unless_the_pair_proposes_one(chat: Chat) -> None:
    """Found by the simulator: a group whose hours no longer overlapped was told "no common time", and then
    nothing followed: no session, no reminder, no word to the coordinators."""
    pair_up(chat)
    with chat.store.unit_of_work() as uow:  # the mentee's hours changed since the match
        mentee = chat.person(MENTEE)
        mentee.working_hours = "04:00-05:00"
        uow.people.save(mentee)
    chat.send(COORD, "pair pause @arjun.mehta")
    chat.send(COORD, "pair resume @arjun.mehta")
    assert any("couldn't find a time" in unescape(m.text) for m in chat.received(MENTOR)[-3:])
    later(chat, 1)
    assert not any("no time" in unescape(m.text) for m in chat.received(COORD))  # they may propose one
    later(chat, 2)
    alert = [unescape(m.text) for m in chat.received(COORD) if "At risk" in unescape(m.text)]
    assert len(alert) == 1 and "no time inside everyone's working hours" in alert[0]
    assert "no time inside everyone's working hours" in " ".join(chat.send(COORD, "status"))


def held_offers(chat: Chat) -> list[tuple[int, str]]:
    """Reminders of an offer of times waiting in the outbox for someone's working hours: (row id, recipients)."""
    query = text(
        "SELECT id, recipients FROM outbox_message WHERE status = 'pending'"
        " AND CAST(payload AS TEXT) LIKE :circle AND CAST(payload AS TEXT) LIKE :reminder"
    )
    with chat.store.engine.connect() as connection:
        rows = connection.execute(
            query, {"circle": '%"circle": "_%', "reminder": "%A reminder: no time is agreed yet%"}
        ).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def test_an_offer_held_for_working_hours_is_dropped_when_the_pair_ends_before_it_goes_out(chat: Chat) -> None:
    pair_up(chat)
    for _ in range(24 * 4):  # until the first reminder waits for the pair's working hours
        chat.advance(timedelta(hours=1))
        if held_offers(chat):
            break
    held = [row for row, _recipients in held_offers(chat)]
    assert held
    assert "is ended" in " ".join(chat.send(COORD, f"pair end {MENTEE}"))
    later(chat, 3)  # into both people's working hours, and past them
    with chat.store.engine.connect() as connection:
        statuses = connection.exec_driver_sql(
            f"SELECT status FROM outbox_message WHERE id IN ({', '.join(map(str, held))})"
        ).scalars()
        assert "pending" not in set(statuses)
    for email in (MENTOR, MENTEE):
        texts = [unescape(m.text) for m in chat.received(email)]
        told = max(i for i, t in enumerate(texts) if "has ended" in t)
        assert not any(t.startswith("A reminder: no time is agreed yet.") for t in texts[told:]), texts[told:]

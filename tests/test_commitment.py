"""Commitment, feedback and support with the clock moved forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, offer, pair_up, slot_times


def texts(chat: Chat, email: str) -> list[str]:
    return [unescape(m.text) for m in chat.received(email)]


def sessions(chat: Chat):  # type: ignore[no-untyped-def]
    with chat.store.unit_of_work() as uow:
        return uow.sessions.of_programme(uow.programmes.in_tenant(1)[0].id)


def pairs(chat: Chat):  # type: ignore[no-untyped-def]
    with chat.store.unit_of_work() as uow:
        return uow.matching.pairs(uow.programmes.in_tenant(1)[0].id)


def to_followup(chat: Chat, number: int) -> None:
    """Move the clock to just after session ``number``'s follow-up."""
    session = sessions(chat)[number - 1]
    chat.advance(session.starts_at + timedelta(minutes=session.minutes + 31) - chat.clock.now())


def answer(chat: Chat, email: str, label: str) -> list[str]:
    return chat.press(email, label)


def test_repeated_mentee_cancellations_escalate_privately_and_the_mentor_is_never_asked_to_chase(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    to_followup(chat, 1)
    answer(chat, MENTEE, "I had to cancel")
    [nudge] = [t for t in texts(chat, MENTEE) if "was cancelled" in t]
    assert "was cancelled" in nudge and "so that your mentor doesn't have to chase" in nudge
    assert not any("reschedule" in t and "cancelled" in t for t in texts(chat, MENTOR))
    assert not any("At risk" in t for t in texts(chat, COORD))
    to_followup(chat, 2)
    answer(chat, MENTOR, "They didn't show up")
    alert = [t for t in texts(chat, COORD) if "At risk in Digital 2030" in t]
    assert len(alert) == 1 and "cancelled or missed 2 sessions in a row" in alert[0]
    assert "The mentor has not been asked to chase" in alert[0]
    assert all(p.at_risk for p in pairs(chat))
    assert not any("chase" in t for t in texts(chat, MENTOR))  # the junior never gets a chasing job
    to_followup(chat, 3)
    answer(chat, MENTOR, "It happened")
    assert not any(p.at_risk for p in pairs(chat))


def test_a_long_gap_without_a_session_marks_the_pair_at_risk(chat: Chat) -> None:
    pair_up(chat)  # published, never scheduled
    chat.advance(timedelta(days=22))
    alert = [t for t in texts(chat, COORD) if "no session held for" in t]
    assert len(alert) == 1 and "Arjun Mehta (mentor) and Gabriela Santos" in alert[0]
    assert all(p.at_risk and p.risk_reason == "gap" for p in pairs(chat))
    chat.advance(timedelta(days=10))
    assert len([t for t in texts(chat, COORD) if "no session held for" in t]) == 1  # not repeated


def test_mentor_workload_is_told_at_80_and_100_percent(chat: Chat) -> None:
    chat.send(COORD, "program edit mentor-hours 1.5")
    pair_up(chat)
    confirm_first(chat)
    to_followup(chat, 1)
    answer(chat, MENTOR, "It happened")
    chat.send(MENTOR, "skip")
    month = sessions(chat)[0].starts_at.strftime("%Y-%m")
    told = [t for t in texts(chat, MENTOR) if "Your mentoring time for" in t]
    chat.advance(timedelta(days=1))  # nudges wait for working hours
    told = [t for t in texts(chat, MENTOR) if "Your mentoring time for" in t]
    assert any("(80%" in t for t in told) and any("(100%" in t and "spacing the next sessions out" in t for t in told)
    assert (
        len(
            [
                t
                for t in texts(chat, COORD)
                if f"mentoring time in **Digital 2030** for {month}" in t or f"for {month} has reached" in t
            ]
        )
        == 2
    )


def test_unanswered_pulses_are_reminded_once(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    to_followup(chat, 1)
    answer(chat, MENTEE, "It happened")
    chat.send(MENTEE, "cancel")  # the goals question is put aside; no pulse given
    chat.advance(timedelta(days=3))
    reminders = [t for t in texts(chat, MENTEE) if t.startswith("Two taps")]
    assert len(reminders) == 1
    assert "how useful was it" in chat.press(MENTEE, "Give feedback")[-1]
    chat.advance(timedelta(days=5))
    assert len([t for t in texts(chat, MENTEE) if t.startswith("Two taps")]) == 1


def test_midpoint_survey_and_monthly_check_ins(chat: Chat) -> None:
    pair_up(chat)
    chat.advance(timedelta(days=31))
    chat.advance(timedelta(hours=1))  # the check-in waits for Arjun's working hours (18:00 in Kolkata)
    checkin = [t for t in texts(chat, MENTOR) if "A short check-in from your coordinator" in t]
    assert len(checkin) == 1 and "Your coordinator reads these answers, with your name" in checkin[0]
    chat.send(MENTOR, "The sessions are fun")
    chat.send(MENTOR, "skip")
    chat.send(MENTOR, "More time")
    forwarded = [t for t in texts(chat, COORD) if "Check-in from Arjun Mehta" in t]
    assert len(forwarded) == 1 and "More time" in forwarded[0]
    chat.advance(datetime(2030, 4, 16, 15, 0, tzinfo=UTC) - chat.clock.now())  # 08:00 in Los Angeles
    assert not [t for t in texts(chat, MENTEE) if "halfway through" in t]  # it waits behind her open check-in
    for reply in ["Good talks", "skip", "skip"]:
        chat.send(MENTEE, reply)
    survey = [t for t in texts(chat, MENTEE) if "halfway through" in t]
    assert len(survey) == 1 and "Where would you put yourself today" in survey[0]
    for reply in ["6", "4", "yes", "skip"]:
        chat.send(MENTEE, reply)
    with chat.store.unit_of_work() as uow:
        [answer_] = uow.feedback.of_programme(uow.programmes.in_tenant(1)[0].id, "midpoint")
    assert answer_.answers["goal_self"] == 6 and answer_.role == "mentee"


def test_confidential_support_reaches_the_coordinator_and_never_the_partner(chat: Chat) -> None:
    pair_up(chat)
    before = len(chat.received(MENTEE))
    replies = chat.send(MENTOR, "support")
    assert "your partner will never learn of it" in replies[0]
    chat.press(MENTOR, "Talk to my coordinator")
    chat.send(MENTOR, "I find the sessions hard to prepare")
    alert = [t for t in texts(chat, COORD) if "Confidential:" in t]
    assert len(alert) == 1 and "hard to prepare" in alert[0]
    assert len(chat.received(MENTEE)) == before  # nothing at all reaches the partner
    chat.send(MENTOR, "support")
    chat.press(MENTOR, "Change or end my match")
    assert "Done: the pairing has ended kindly" in chat.press(MENTOR, "Find me a new partner")[0]
    notice = texts(chat, MENTEE)[-1]
    assert "has ended" in notice and "support" not in notice and "Arjun" not in notice
    assert any("asked for a new partner" in t for t in texts(chat, COORD))


def test_pause_stops_every_scheduled_message_and_resume_restarts(chat: Chat) -> None:
    pair_up(chat)
    first = slot_times(offer(chat, MENTOR))[0]
    confirm_first(chat)
    chat.send(MENTEE, "pause")
    assert "Paused (1 programme)" in chat.press(MENTEE, "Pause me")[0]
    assert "is paused for now" in texts(chat, MENTOR)[-1]
    count = len(chat.received(MENTOR)), len(chat.received(MENTEE))
    chat.advance(first + timedelta(hours=3) - chat.clock.now())
    assert (len(chat.received(MENTOR)), len(chat.received(MENTEE))) == count  # no agenda, reminder or follow-up
    chat.send(MENTEE, "pause")
    assert any("Welcome back" in r for r in chat.press(MENTEE, "Resume"))
    assert "Time to plan your first session" in texts(chat, MENTOR)[-1] or any(
        "has resumed" in t for t in texts(chat, MENTOR)
    )


def test_coordinators_pause_resume_and_end_pairs(chat: Chat) -> None:
    pair_up(chat)
    assert "is paused" in chat.send(COORD, "pair pause @arjun.mehta")[0]
    assert "paused by the programme" in texts(chat, MENTEE)[-1]
    assert "isn't paused" not in chat.send(COORD, "pair resume @gabriela.santos")[0]
    assert "isn't paused" in chat.send(COORD, "pair resume @gabriela.santos")[0]
    assert "ended" in chat.send(COORD, "pair end @arjun.mehta")[0]
    assert "has no current pair" in chat.send(COORD, "pair end @arjun.mehta")[0]


def test_nudges_wait_for_working_hours_and_respect_the_daily_cap(chat: Chat) -> None:
    chat.send(COORD, "program edit intake-reminders 0")
    # Friday 12:00 UTC: Arjun (Kolkata, 10:00-18:30) is inside his hours until 13:00 UTC.
    chat.send(COORD, "invite @arjun.mehta as mentor")
    chat.press(MENTOR, "Yes, I'm in")
    for _ in range(5):
        chat.send(COORD, "remind intake")
    nudges = [t for t in texts(chat, MENTOR) if "asked me to remind you" in t]
    assert len(nudges) == 3  # the daily cap; the rest wait
    chat.advance(timedelta(hours=6))  # 18:00 UTC, 23:30 in Kolkata: quiet
    assert len([t for t in texts(chat, MENTOR) if "asked me to remind you" in t]) == 3
    chat.advance(timedelta(days=1, hours=12))  # Sunday in Kolkata: still waiting
    assert len([t for t in texts(chat, MENTOR) if "asked me to remind you" in t]) == 3
    chat.advance(timedelta(days=1))  # Monday 11:30 in Kolkata
    assert chat.clock.now().astimezone(ZoneInfo("Asia/Kolkata")).weekday() == 0
    assert len([t for t in texts(chat, MENTOR) if "asked me to remind you" in t]) == 5

"""Sessions over weeks: pause and resume, the calendar (term, non-working days, holidays), late agendas,
outcomes only after the end, corrections and conflicts, and a group where one person pauses."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.model import Action
from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, START, confirm_first, offer, slot_times
from test_sessions import participants as import_rows

KOLKATA, LOS_ANGELES = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")
FELIX, MEILIN = "felix.braun@example.com", "meilin.tan@example.com"


def participants(chat: Chat, rows: str) -> None:
    """Import participants who consented and finished onboarding, ready to be matched."""
    import_rows(chat, rows)
    with chat.store.unit_of_work() as uow:
        for participant in uow.participants.in_programme(uow.programmes.in_tenant(1)[0].id):
            participant.onboarded_at = participant.onboarded_at or START
            uow.participants.save(participant)


def publish(chat: Chat) -> None:
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")


def pair_up(chat: Chat) -> None:
    participants(chat, f"{MENTOR},mentor,1,ai_tools;remote_work,,18:00-23:00\n{MENTEE},mentee,,,ai_tools,07:00-15:00\n")
    publish(chat)


def texts(chat: Chat, email: str) -> list[str]:
    return [unescape(m.text) for m in chat.received(email)]


def sessions(chat: Chat):  # type: ignore[no-untyped-def]
    with chat.store.unit_of_work() as uow:
        return uow.sessions.of_programme(uow.programmes.in_tenant(1)[0].id)


def local_days(moment, *zones: ZoneInfo) -> set[date]:  # type: ignore[no-untyped-def]
    return {moment.astimezone(z).date() for z in zones}


def pause_support(chat: Chat) -> None:
    chat.send(MENTEE, "support")
    chat.press(MENTEE, "Change or end my match")
    chat.press(MENTEE, "Pause it for now")
    chat.send(COORD, "pair resume @gabriela.santos")


def pause_self(chat: Chat) -> None:
    chat.send(MENTEE, "pause")
    chat.press(MENTEE, "Pause me")
    chat.send(MENTEE, "pause")
    chat.press(MENTEE, "Resume")


def pause_coordinator(chat: Chat) -> None:
    chat.send(COORD, "pair pause @arjun.mehta")
    chat.send(COORD, "pair resume @arjun.mehta")


@pytest.mark.parametrize("pause_and_resume", [pause_coordinator, pause_self, pause_support])
def test_a_paused_pair_is_offered_times_to_resume_and_confirming_creates_the_rest_of_the_series(
    chat: Chat,
    pause_and_resume,  # type: ignore[no-untyped-def]
) -> None:
    pair_up(chat)
    confirm_first(chat)
    chat.advance(timedelta(days=20))
    pause_and_resume(chat)
    resume_offer = offer(chat, MENTOR)
    assert "resume" in unescape(resume_offer.text) and "first session" not in unescape(resume_offer.text)
    assert "resume" in unescape(offer(chat, MENTEE).text)
    chat.press(MENTOR, resume_offer.choices[0].label)
    chat.press(MENTEE, "Yes, that works")
    for email in (MENTOR, MENTEE):
        assert "Resumed! Your next session" in texts(chat, email)[-1]
    upcoming = [s for s in sessions(chat) if s.status == "scheduled" and s.starts_at > chat.clock.now()]
    assert len(upcoming) >= 3 and upcoming[0].starts_at == slot_times(resume_offer)[0]
    assert len({s.sequence for s in sessions(chat)}) == len(sessions(chat))


def test_slots_and_series_keep_to_the_term_non_working_days_and_public_holidays(chat: Chat) -> None:
    chat.send(COORD, "program edit starts 2030-03-18")
    assert (
        "2030-03-18..2030-03-20, 2030-03-25"
        in chat.send(COORD, "program edit non-working-days 2030-03-18..2030-03-20, 2030-03-25")[0]
    )
    assert "not a date or a range" in chat.send(COORD, "program edit non-working-days 2030-13-01")[0]
    assert "ends before it starts" in chat.send(COORD, "program edit non-working-days 2030-04-02..2030-04-01")[0]
    assert "neither `on` nor `off`" in chat.send(COORD, "program edit holidays maybe")[0]
    chat.send(COORD, "program edit holidays on")
    shown = chat.send(COORD, "program show")[0]
    assert "2030-03-18..2030-03-20, 2030-03-25" in shown
    pair_up(chat)
    slots = slot_times(offer(chat, MENTOR))
    assert slots
    for moment in slots:
        days = local_days(moment, KOLKATA, LOS_ANGELES)
        assert min(days) >= date(2030, 3, 18)
        assert not days & {date(2030, 3, 18), date(2030, 3, 19), date(2030, 3, 20), date(2030, 3, 25)}
    confirm_first(chat)
    starts = [s.starts_at for s in sessions(chat)]
    memorial_day = date(2030, 5, 27)  # a US public holiday, for the mentee in Los Angeles
    for moment in starts:
        days = local_days(moment, KOLKATA, LOS_ANGELES)
        assert memorial_day not in days and max(days) <= date(2030, 5, 31)


def test_slots_wait_for_the_day_someone_can_start(chat: Chat) -> None:
    participants(chat, f"{MENTOR},mentor,1,ai_tools,,18:00-23:00\n{MENTEE},mentee,,,ai_tools,07:00-15:00\n")
    with chat.store.unit_of_work() as uow:
        mentee = next(p for p in uow.participants.in_programme(1) if p.role == "mentee")
        mentee.intake = {**mentee.intake, "available_from": "2030-04-08"}
        uow.participants.save(mentee)
    publish(chat)
    assert all(min(local_days(s, KOLKATA, LOS_ANGELES)) >= date(2030, 4, 8) for s in slot_times(offer(chat, MENTOR)))


def test_a_session_confirmed_nearer_than_the_agenda_lead_time_gets_its_agenda_at_once(chat: Chat) -> None:
    chat.send(COORD, "program edit agenda-hours 120")
    pair_up(chat)
    confirm_first(chat)
    assert any("**Agenda for" in t for t in texts(chat, MENTOR))
    assert any("Your session with Arjun Mehta" in t for t in texts(chat, MENTEE))


def outcome(chat: Chat, email: str, session_id: int, answer: str) -> list[str]:
    return chat.send(email, action=Action(id="session.outcome", value=f"{session_id}:{answer}"))


def test_outcomes_only_after_the_end_one_per_person_corrections_replace_and_conflicts_follow_the_rule(
    chat: Chat,
) -> None:
    pair_up(chat)
    confirm_first(chat)
    third = sessions(chat)[2]
    assert "too early" in outcome(chat, MENTOR, third.id, "no_show")[0]
    assert sessions(chat)[2].status == "scheduled"
    first = sessions(chat)[0]
    chat.advance(first.starts_at + timedelta(minutes=first.minutes + 31) - chat.clock.now())
    outcome(chat, MENTEE, first.id, "cancelled_me")
    outcome(chat, MENTOR, first.id, "cancelled_them")
    nudges = [t for t in texts(chat, MENTEE) if "was cancelled" in t]
    assert len(nudges) == 1  # one nudge for one cancellation
    assert sessions(chat)[0].status == "cancelled"
    assert "Already noted" in outcome(chat, MENTEE, first.id, "cancelled_me")[0]
    assert "Corrected" in outcome(chat, MENTEE, first.id, "held")[0]
    assert sessions(chat)[0].outcome[str(chat.person(MENTEE).id)] == "held"
    with chat.store.unit_of_work() as uow:
        events = [e for e in uow.sessions.events(1) if e.session_id == first.id and e.detail.get("correction")]
    assert len(events) == 1
    # The mentor still says cancelled: a cancellation wins; the coordinator sees a count only.
    assert sessions(chat)[0].status == "cancelled"
    conflict = [t for t in texts(chat, COORD) if "disagree" in t]
    assert conflict and "1 session" in conflict[-1] and "Gabriela" not in conflict[-1]
    outcome(chat, MENTOR, first.id, "held")
    assert sessions(chat)[0].status == "held"


def test_no_gap_alert_while_a_session_is_confirmed(chat: Chat) -> None:
    chat.send(COORD, "program edit cadence 4w")
    pair_up(chat)
    confirm_first(chat)
    chat.advance(timedelta(days=24))  # the first session is past (not reported), the second is booked
    assert not any("no session held for" in t for t in texts(chat, COORD))


def test_in_a_group_one_mentee_pausing_leaves_the_others_sessions_and_capacity_edits_apply(chat: Chat) -> None:
    chat.change_settings(group_sessions=True)
    participants(chat, f"{MENTOR},mentor,1,ai_tools,,\n{FELIX},mentee,,,ai_tools,\n{MEILIN},mentee,,,ai_tools,\n")
    chat.send(COORD, "program edit mentor-capacity 2")  # the mentor had already joined with the old default
    publish(chat)
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(FELIX, "Yes, that works")
    chat.press(MEILIN, "Yes, that works")
    assert "Confirmed!" in texts(chat, MENTOR)[-1]
    count = len([s for s in sessions(chat) if s.status == "scheduled"])
    chat.send(FELIX, "pause")
    chat.press(FELIX, "Pause me")
    assert len([s for s in sessions(chat) if s.status == "scheduled"]) == count
    assert "Felix Braun's place in your group" in texts(chat, MENTOR)[-1]
    assert not any("paused" in t for t in texts(chat, MEILIN))
    first = sessions(chat)[0]
    felix_before = len(chat.received(FELIX))
    chat.advance(first.starts_at - chat.clock.now() - timedelta(hours=23))
    assert "**Agenda for" in texts(chat, MENTOR)[-1] and "Felix" not in texts(chat, MENTOR)[-1]
    assert "Your session with Arjun Mehta" in texts(chat, MEILIN)[-1]
    assert len(chat.received(FELIX)) == felix_before
    chat.send(FELIX, "pause")
    chat.press(FELIX, "Resume")
    assert any("Resumed! Your next session" in t for t in texts(chat, FELIX)[-2:])
    assert all(len(s.mentee_ids) == 2 for s in sessions(chat) if s.starts_at > chat.clock.now())

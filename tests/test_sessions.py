"""Sessions with the clock moved forward: slots, confirmation, .ics, agenda, reminder, follow-up, next, moves."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.participants_import import parse_participants
from bot.sessions.buttons import SlotPickValue
from bot.wording import unescape
from chat import Chat
from directory_support import directory_emails, import_participants

COORD = "amara.okafor@example.com"
MENTOR = "arjun.mehta@example.com"  # Asia/Kolkata, evenings in this test
MENTEE = "gabriela.santos@example.com"  # America/Los_Angeles, early mornings
KOLKATA, LOS_ANGELES = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")
START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)  # a Friday; US daylight saving starts on 10 March


def participants(chat: Chat, rows: str) -> None:
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        programme = uow.programmes.in_tenant(tenant.id)[0]
    directory = directory_emails(chat.store, tenant.id)
    consented = "".join(f"{line},2030-01-02,2030-01-02\n" for line in rows.splitlines() if line.strip())
    header = "email,role,capacity,can_teach,want_to_learn,working_hours,consented_at,onboarded_at\n"
    parsed = parse_participants(header + consented, directory)  # consent and onboarding recorded elsewhere
    assert parsed.errors == []
    import_participants(chat.store, programme.id, parsed.rows, START)


def publish(chat: Chat) -> None:
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")


def pair_up(chat: Chat) -> None:
    participants(chat, f"{MENTOR},mentor,1,ai_tools;remote_work,,18:00-23:00\n{MENTEE},mentee,,,ai_tools,07:00-15:00\n")
    publish(chat)


def last(chat: Chat, email: str) -> str:
    """The newest message to ``email``, as plain text."""
    return unescape(chat.received(email)[-1].text)


def offer(chat: Chat, email: str):  # type: ignore[no-untyped-def]
    return next(m for m in reversed(chat.received(email)) if any(c.action == "slot.pick" for c in m.choices))


def slot_times(message) -> list[datetime]:  # type: ignore[no-untyped-def]
    return [SlotPickValue.decode(c.value).at for c in message.choices if c.action == "slot.pick"]


def inside(moment: datetime, zone: ZoneInfo, begin: str, end: str, minutes: int = 45) -> bool:
    local, finish = moment.astimezone(zone), (moment + timedelta(minutes=minutes)).astimezone(zone)
    return (
        local.weekday() < 5 and time.fromisoformat(begin) <= local.time() and finish.time() <= time.fromisoformat(end)
    )


def ics_events(message):  # type: ignore[no-untyped-def]
    [attachment] = [a for a in message.attachments if a.filename.endswith(".ics")]
    calendar = Calendar.from_ical(base64.b64decode(attachment.content_b64))
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def confirm_first(chat: Chat) -> None:
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(MENTEE, "Yes, that works")


def test_slots_fit_both_working_days_in_kolkata_and_los_angeles_and_read_in_each_zone(chat: Chat) -> None:
    pair_up(chat)
    mentor_offer, mentee_offer = offer(chat, MENTOR), offer(chat, MENTEE)
    slots = slot_times(mentor_offer)
    assert len(slots) == 3 and slots == slot_times(mentee_offer)
    assert len({s.date() for s in slots}) == 3  # three different days
    for moment in slots:
        assert inside(moment, KOLKATA, "18:00", "23:00") and inside(moment, LOS_ANGELES, "07:00", "15:00")
    assert mentor_offer.choices[0].label.endswith("(Asia/Kolkata)")
    assert mentee_offer.choices[0].label.endswith("(America/Los_Angeles)")
    assert mentor_offer.choices[0].label.split(",")[1] != mentee_offer.choices[0].label.split(",")[1]


def test_confirming_sends_a_calendar_series_that_keeps_local_time_across_daylight_saving(chat: Chat) -> None:
    pair_up(chat)
    first = slot_times(offer(chat, MENTOR))[0]
    replies = chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    assert "asked Gabriela Santos to confirm" in replies[0]
    assert "Arjun Mehta proposes" in last(chat, MENTEE)
    chat.press(MENTEE, "Yes, that works")
    confirmation = chat.received(MENTOR)[-1]
    assert "Confirmed!" in unescape(confirmation.text) and "(Asia/Kolkata)" in unescape(confirmation.text)
    events = ics_events(confirmation)
    assert len(events) >= 6
    starts = [e.decoded("dtstart") for e in events]
    assert starts[0] == first
    assert str(events[0]["dtstart"].params["TZID"]) == "America/Los_Angeles"
    assert len({str(e["uid"]) for e in events}) == len(events)
    local_times = {s.astimezone(LOS_ANGELES).strftime("%H:%M") for s in starts}
    assert len(local_times) == 1  # the anchor's local time holds across 10 March
    utc_times = {s.astimezone(UTC).strftime("%H:%M") for s in starts}
    assert len(utc_times) == 2  # ... so the UTC time moves by an hour
    for start in starts:
        assert inside(start, KOLKATA, "18:00", "23:00") and inside(start, LOS_ANGELES, "07:00", "15:00")
    assert all((b - a).days in (13, 14, 15) for a, b in zip(starts, starts[1:], strict=False))
    assert ics_events(chat.received(MENTEE)[-1])[0]["uid"] == events[0]["uid"]


def test_the_whole_loop_agenda_reminder_followup_and_next(chat: Chat) -> None:
    pair_up(chat)
    first = slot_times(offer(chat, MENTOR))[0]
    confirm_first(chat)
    chat.advance(first - timedelta(hours=24) - chat.clock.now() + timedelta(minutes=1))
    agenda = last(chat, MENTOR)
    assert "**Agenda for" in agenda and "getting to know each other" in agenda
    assert "Your session with Arjun Mehta" in last(chat, MENTEE)
    chat.advance(timedelta(hours=23))
    assert "Reminder: your session with Gabriela Santos" in last(chat, MENTOR)
    assert "Reminder: your session with Arjun Mehta" in last(chat, MENTEE)
    chat.advance(timedelta(hours=2, minutes=30))
    assert "Did it happen?" in last(chat, MENTOR)
    replies = chat.press(MENTOR, "It happened")
    assert "Which action items did you agree?" in replies[-1]
    replies = chat.send(MENTOR, "Gabriela: try the meeting summary feature\nArjun: share the prompt guide")
    assert "Saved 2 action item(s)" in replies[0] and "Your next session is on" in replies[1]
    assert "how useful was it" in replies[2]  # the pulse: one tap per question
    chat.send(MENTOR, "4")
    chat.send(MENTOR, "5")
    assert "anonymous totals" in chat.send(MENTOR, "skip")[0]
    replies = chat.press(MENTEE, "It happened")
    assert "Which goal did you set together?" in replies[-1]
    chat.send(MENTEE, "Use an AI assistant to draft every weekly update by May")
    replies = chat.send(MENTEE, "skip")
    assert "Saved 1 goal(s)" in replies[0] and "how useful was it" in replies[1]
    for answer in ["3", "4", "More hands-on next time please", "no"]:
        chat.send(MENTEE, answer)
    with chat.store.unit_of_work() as uow:
        pulses = uow.feedback.of_programme(uow.programmes.in_tenant(1)[0].id, "pulse")
    assert sorted((p.role, p.answers["session"], p.share_comment) for p in pulses) == [
        ("mentee", "3", False),
        ("mentor", "4", False),
    ]
    assert "Use an AI assistant" in chat.send(MENTOR, "goals")[0]
    nxt = chat.send(MENTEE, "next")[0]
    assert "Next session with Arjun Mehta" in nxt and "(America/Los_Angeles)" in nxt and "Topic:" in nxt
    agenda = chat.send(MENTOR, "agenda")[0]
    assert "Suggested topic:" in agenda and "Framework:" in agenda
    assert "try the meeting summary feature" in agenda and "Use an AI assistant" in agenda
    assert sum("min ·" in section.text for section in chat.last[MENTOR][0].sections) >= 3  # the time plan
    assert "Added to the agenda" in chat.send(MENTEE, "agenda add How do I check an AI summary is right?")[0]
    assert "How do I check" in chat.send(MENTOR, "agenda")[0]


def test_reschedule_moves_the_session_with_the_same_calendar_uid(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    original = ics_events(chat.received(MENTEE)[-1])[0]
    replies = chat.send(MENTEE, "reschedule")
    assert "Let's move the session" in replies[0]
    chat.press(MENTEE, offer(chat, MENTEE).choices[1].label)
    chat.press(MENTOR, "Yes, that works")
    moved = chat.received(MENTEE)[-1]
    assert "Moved:" in unescape(moved.text)
    [event] = ics_events(moved)
    assert event["uid"] == original["uid"] and int(event["sequence"]) == 1
    assert event.decoded("dtstart") != original.decoded("dtstart")
    with chat.store.unit_of_work() as uow:
        events = uow.sessions.events(uow.programmes.in_tenant(1)[0].id)
    assert [(e.kind, e.side.value) for e in events if e.kind == "rescheduled"] == [("rescheduled", "mentee")]


def test_a_proposed_time_outside_someones_hours_is_refused_with_the_reason(chat: Chat) -> None:
    pair_up(chat)
    chat.press(MENTOR, "Propose another time")
    assert "'tomorrow evening' is not a date and time" in chat.send(MENTOR, "tomorrow evening")[0]
    replies = chat.send(MENTOR, "2030-03-05 10:00")  # 10:00 in Kolkata: night in Los Angeles
    assert "doesn't fit" in replies[0]


def test_each_scheduled_message_is_sent_once_across_a_restart_and_downtime(chat: Chat) -> None:
    pair_up(chat)
    first = slot_times(offer(chat, MENTOR))[0]
    confirm_first(chat)
    restarted = Chat(chat.store, chat.clock)  # a new process on the same store
    restarted.deliverer = chat.deliverer
    # Down from now until well after the first session: everything due runs once, on start.
    chat.clock.advance(first + timedelta(hours=3) - chat.clock.now())
    restarted.runtime.run_due(chat.clock.now())
    restarted.runtime.run_due(chat.clock.now())
    restarted.runtime.send_pending(restarted.deliverer)
    texts = [unescape(m.text) for m in chat.received(MENTOR)]
    assert sum("**Agenda for" in t for t in texts) == 1
    assert sum(t.startswith("Reminder:") for t in texts) == 1
    assert sum("Did it happen?" in t for t in texts) == 1


def test_group_sessions_find_one_time_for_everyone(chat: Chat) -> None:
    chat.send(COORD, "program edit mentor-capacity 2")
    chat.change_settings(group_sessions=True)
    participants(
        chat,
        f"{MENTOR},mentor,2,ai_tools,,\n"
        "felix.braun@example.com,mentee,,,ai_tools,\n"
        "meilin.tan@example.com,mentee,,,ai_tools,\n",
    )
    publish(chat)
    slots = slot_times(offer(chat, MENTOR))
    assert slots and slots == slot_times(offer(chat, "felix.braun@example.com"))
    assert slots == slot_times(offer(chat, "meilin.tan@example.com"))
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press("felix.braun@example.com", "Yes, that works")
    assert "Confirmed!" not in last(chat, MENTOR)  # one more to confirm
    chat.press("meilin.tan@example.com", "Yes, that works")
    assert "Confirmed! Your first session with Felix Braun and Mei Lin Tan" in last(chat, MENTOR)
    chat.advance(slots[0] - timedelta(hours=24) - chat.clock.now() + timedelta(minutes=1))
    agendas = [unescape(m.text) for m in chat.received(MENTOR) if "**Agenda for" in m.text]
    assert len(agendas) == 1 and "Felix Braun, Mei Lin Tan" in agendas[0]
    assert "Your session with Arjun Mehta" in last(chat, "meilin.tan@example.com")
    assert "Your session with Arjun Mehta" in last(chat, "felix.braun@example.com")

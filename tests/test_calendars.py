"""Sessions on people's real calendars (issue #21), end to end: the engine in chat, the calendar worker calling
Microsoft Graph and Google's Calendar API (local fakes answering in the documented shapes, with real MSAL and
google-auth tokens), and the results coming back through the inbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from adapters.calendars.google import GoogleCalendars
from adapters.calendars.microsoft import GraphCalendars
from adapters.calendars.worker import CalendarWorker
from adapters.server import Worker
from adapters.settings import Settings
from bot.engine import Engine
from bot.sessions.model import Session
from bot.wording import unescape
from chat import Chat
from fake_calendars import BUSY_SUBJECT, LOGIN_URL, TENANT, FakeCalendars, wait_until
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, offer, pair_up, slot_times
from test_sessions_over_time import FELIX, MEILIN, participants, publish

MONDAY = datetime(2030, 3, 4, tzinfo=UTC)
"""The first working day the pair can meet on: their hours overlap from 15:00 to 17:30 UTC."""


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.fixture
def fake() -> Iterator[FakeCalendars]:
    with FakeCalendars() as running:
        yield running


@pytest.fixture
def worker(chat: Chat, fake: FakeCalendars) -> CalendarWorker:
    """The engine with both providers configured, and the calendar worker reaching the fakes."""
    chat.runtime.engine = Engine(calendars=frozenset({"microsoft", "google"}))
    graph = GraphCalendars.with_secret(
        LOGIN_URL, TENANT, "graph-client", "graph-secret", fake.graph_url, http_client=fake.login_client()
    )
    google = GoogleCalendars(fake.service_account(), fake.google_url)
    return CalendarWorker(chat.runtime, {"microsoft": graph, "google": google})


def work(chat: Chat, worker: CalendarWorker) -> int:
    """One pass of the calendar worker, then the engine handles what came back and the outbox is sent."""
    done = worker.run_once()
    chat.pump()
    return done


def use(chat: Chat, provider: str) -> None:
    reply = chat.send(COORD, f"program edit calendar {provider}")
    assert "calendar" in reply[0] and provider in reply[0], reply


def offers(chat: Chat, email: str) -> list[Any]:
    return [m for m in chat.received(email) if any(c.action == "slot.pick" for c in m.choices)]


def sessions(chat: Chat) -> list[Session]:
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0]
        return sorted(uow.sessions.of_programme(programme.id), key=lambda s: s.sequence)


def requests_table(chat: Chat) -> list[dict[str, Any]]:
    with chat.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM calendar_request ORDER BY id")).mappings().all()
    found = [dict(r) for r in rows]
    for row in found:  # JSON columns: text on SQLite, decoded on PostgreSQL
        for name in ("payload", "result"):
            row[name] = json.loads(row[name]) if isinstance(row[name], str) else row[name]
    return found


# -- free/busy ------------------------------------------------------------------------------------------


def test_graph_offers_only_times_when_both_are_free_inside_their_hours_and_keeps_no_event_contents(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker
) -> None:
    use(chat, "microsoft")
    fake.busy[MENTOR] = [(at(MONDAY, 15), at(MONDAY, 16))]
    tuesday = MONDAY + timedelta(days=1)
    fake.busy[MENTEE] = [(at(tuesday, 14), at(tuesday, 18))]
    pair_up(chat)
    assert offers(chat, MENTOR) == []  # the offer waits for free/busy: nothing is read inside the transaction
    assert work(chat, worker) == 1
    slots = slot_times(offer(chat, MENTOR))
    assert slots == [at(MONDAY, 16), at(MONDAY + timedelta(days=2), 15), at(MONDAY + timedelta(days=3), 15)]
    assert slot_times(offer(chat, MENTEE)) == slots
    calls = fake.api_calls("graph", "POST", "getSchedule")
    assert sorted((c.subject, tuple(c.body["schedules"])) for c in calls) == [(MENTOR, (MENTOR,)), (MENTEE, (MENTEE,))]
    assert "couldn't read" not in unescape(offer(chat, MENTOR).text)
    with chat.store.engine.connect() as connection:  # the busy items' subjects were served, and never kept
        stored = [
            str(row)
            for table in ("inbox_event", "calendar_request", "outbox_message", "session")
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
        ]
    assert not any(BUSY_SUBJECT in row or "Harry" in row for row in stored)
    [done] = requests_table(chat)
    assert set(done["payload"]) == {"circle"}  # the addresses it was read for are not kept


@pytest.mark.parametrize("why", ["calendar_error", "delegation_refused"])
def test_google_unreadable_calendar_falls_back_to_working_hours_and_the_pair_is_told(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker, why: str
) -> None:
    use(chat, "google")
    fake.busy[MENTOR] = [(at(MONDAY, 15), at(MONDAY, 16, 30))]
    if why == "calendar_error":
        fake.unreachable[MENTEE] = "notFound"
    else:
        fake.refused_delegation.add(MENTEE)
    pair_up(chat)
    work(chat, worker)
    slots = slot_times(offer(chat, MENTOR))
    assert slots[0] == at(MONDAY, 16, 30)  # the mentor's busy time is still avoided
    mentee_text, mentor_text = unescape(offer(chat, MENTEE).text), unescape(offer(chat, MENTOR).text)
    assert "I couldn't read your calendar, so for you these times follow only the working hours" in mentee_text
    assert "I couldn't read Gabriela Santos's calendar, so for them" in mentor_text


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_a_429_defers_the_request_to_its_retry_after_without_sleeping(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker, provider: str
) -> None:
    use(chat, provider)
    api = "graph" if provider == "microsoft" else "google"
    fake.busy[MENTEE] = [(at(MONDAY, 15), at(MONDAY, 17))]
    fake.throttle(1, seconds=7)
    pair_up(chat)
    began = time.monotonic()
    assert work(chat, worker) == 0
    assert time.monotonic() - began < 3  # deferred, not slept on
    [row] = requests_table(chat)
    assert row["status"] == "pending" and "429" in row["last_error"]
    assert offers(chat, MENTOR) == []
    assert work(chat, worker) == 0  # not due yet: Graph is not asked again
    assert len(fake.api_calls(api)) == 1
    chat.clock.advance(timedelta(seconds=8))
    assert work(chat, worker) == 1
    assert slot_times(offer(chat, MENTOR))[0] == at(MONDAY + timedelta(days=1), 15)  # Monday is taken


def test_someone_who_opted_out_is_never_read_and_my_data_says_so(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker
) -> None:
    assert "Your calendar is not read" in chat.send(MENTEE, "calendar off")[0]
    assert "takes `on` or `off`" in chat.send(MENTEE, "calendar maybe")[0]
    use(chat, "microsoft")
    fake.busy[MENTEE] = [(at(MONDAY, 15), at(MONDAY, 23))]  # would rule Monday out, if it were read
    pair_up(chat)
    work(chat, worker)
    assert {c.subject for c in fake.api_calls("graph")} == {MENTOR}
    assert slot_times(offer(chat, MENTOR))[0] == at(MONDAY, 15)
    assert "couldn't read" not in unescape(offer(chat, MENTEE).text)
    assert "not read (you turned it off with `calendar off`)" in chat.send(MENTEE, "my-data")[0]
    assert "read for free/busy only, when times are offered in Digital 2030" in chat.send(MENTOR, "my-data")[0]
    assert "Times offered to you avoid" not in chat.send(MENTEE, "calendar on")[0]
    assert "When your programme uses the organisation's calendars" in chat.send(MENTEE, "calendar")[0]


def test_an_offer_waits_for_free_busy_only_so_long_then_follows_working_hours(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker
) -> None:
    use(chat, "google")
    pair_up(chat)
    chat.advance(timedelta(minutes=16))  # no worker ran: the timeout makes the offer
    assert "I couldn't read your calendar or Gabriela Santos's" in unescape(offer(chat, MENTOR).text)
    work(chat, worker)  # the late answer changes nothing
    assert len(offers(chat, MENTOR)) == 1


def test_program_edit_calendar_without_credentials_is_refused(chat: Chat) -> None:
    reply = chat.send(COORD, "program edit calendar google")[0]
    assert "no Google Workspace calendar credentials" in reply
    assert "takes `on` or `off`" not in reply
    with chat.store.unit_of_work() as uow:
        assert uow.programmes.in_tenant(1)[0].settings.calendar == "off"
    assert "off, microsoft, google" in chat.send(COORD, "program edit calendar sometimes")[0]


# -- events -----------------------------------------------------------------------------------------


def _events(fake: FakeCalendars, provider: str) -> list[dict[str, Any]]:
    return list((fake.graph_events if provider == "microsoft" else fake.google_events).values())


def _creates(fake: FakeCalendars, provider: str) -> int:
    if provider == "microsoft":
        return len([c for c in fake.api_calls("graph", "POST") if c.path.endswith("/events")])
    return len(fake.api_calls("google", "POST", "/events"))


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_confirmation_writes_one_event_per_session_even_when_the_worker_dies_after_the_call(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(chat, provider)
    pair_up(chat)
    work(chat, worker)
    confirm_first(chat)
    planned = sessions(chat)
    assert len(planned) >= 3
    real_accept = chat.runtime.accept

    def dies(_event: Any) -> bool:
        raise RuntimeError("killed after the API call, before the result was kept")

    monkeypatch.setattr(chat.runtime, "accept", dies)
    with pytest.raises(RuntimeError):
        work(chat, worker)
    assert len(_events(fake, provider)) == 1  # the first event was written, its result lost
    monkeypatch.setattr(chat.runtime, "accept", real_accept)
    assert work(chat, worker) == 0  # the claimed requests are leased: nobody else takes them yet
    chat.clock.advance(timedelta(minutes=3))  # the lease runs out
    work(chat, worker)
    work(chat, worker)
    events = _events(fake, provider)
    assert len(events) == len(planned)  # one per session, the retried one included
    assert _creates(fake, provider) == len(planned) + 1
    stored = sessions(chat)
    links = [s.calendar_event.get("join_url", "") for s in stored]
    assert all(links) and len(set(links)) == len(planned)
    expected = "https://teams.microsoft.com/" if provider == "microsoft" else "https://meet.google.com/"
    assert all(link.startswith(expected) for link in links)
    assert all(set(s.calendar_event) == {"provider", "event_id", "join_url"} for s in stored)
    coming = min((s for s in stored if s.starts_at > chat.clock.now()), key=lambda s: s.starts_at)
    for email in (MENTOR, MENTEE):  # `next` gives both of them the way in
        assert coming.calendar_event["join_url"] in " ".join(chat.send(email, "next"))
    first = events[0]
    if provider == "microsoft":
        assert first["isOnlineMeeting"] is True and first["organizer"] == MENTOR
        assert first["attendees"] == [{"emailAddress": {"address": MENTEE}, "type": "required"}]
        assert len({e["transactionId"] for e in events}) == len(planned)
    else:
        assert first["organizer"]["email"] == MENTOR and first["attendees"] == [{"email": MENTEE}]
        assert first["sendUpdates"] == "all"
        assert fake.api_calls("google", "POST", "/events")[1].status == 409  # the retry found it


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_a_move_updates_the_event_and_ending_the_pair_cancels_them(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker, provider: str
) -> None:
    use(chat, provider)
    pair_up(chat)
    work(chat, worker)
    confirm_first(chat)
    work(chat, worker)
    first = sessions(chat)[0]
    chat.send(MENTEE, "reschedule")
    work(chat, worker)  # free/busy for the move's offer
    chat.press(MENTEE, offer(chat, MENTEE).choices[1].label)
    chat.press(MENTOR, "Yes, that works")
    work(chat, worker)
    moved = sessions(chat)[0]
    assert moved.starts_at != first.starts_at
    event = next(e for e in _events(fake, provider) if e["id"] == first.calendar_event["event_id"])
    local = moved.starts_at.astimezone(ZoneInfo(moved.anchor_time_zone))
    assert event["start"]["dateTime"].startswith(local.replace(tzinfo=None).isoformat(timespec="seconds"))
    assert event["start"]["timeZone"] == moved.anchor_time_zone
    assert len(_events(fake, provider)) == len(sessions(chat))  # moved, not added
    chat.send(COORD, "pair end @gabriela.santos")
    work(chat, worker)
    events = _events(fake, provider)
    if provider == "microsoft":
        assert all(e["isCancelled"] for e in events)
    else:
        assert all(e["status"] == "cancelled" for e in events)
    assert all(s.calendar_event == {} for s in sessions(chat))
    assert work(chat, worker) == 0
    assert all(r["status"] == "done" for r in requests_table(chat))


def test_a_move_waits_for_the_creation_it_moves_when_that_was_throttled(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker
) -> None:
    use(chat, "microsoft")
    pair_up(chat)
    work(chat, worker)
    confirm_first(chat)  # the events are not written yet...
    chat.send(MENTEE, "reschedule")  # ...and the first session is moved meanwhile
    fake.throttle(1, seconds=30)  # the first creation is throttled
    work(chat, worker)  # the move's free/busy is read; the first session's creation waits, and so does its move
    chat.press(MENTEE, offer(chat, MENTEE).choices[1].label)
    chat.press(MENTOR, "Yes, that works")
    work(chat, worker)
    assert not any(c.method == "PATCH" for c in fake.api_calls("graph"))
    chat.clock.advance(timedelta(seconds=31))
    work(chat, worker)
    moved = sessions(chat)[0]
    event = fake.graph_events[moved.calendar_event["event_id"]]
    local = moved.starts_at.astimezone(ZoneInfo(moved.anchor_time_zone)).replace(tzinfo=None)
    assert event["start"]["dateTime"] == local.isoformat(timespec="seconds")
    assert [c.method for c in fake.api_calls("graph", path_part=moved.calendar_event["event_id"])] == ["PATCH"]


def test_forget_me_cancels_their_events_and_their_calendar_is_not_read_after(
    chat: Chat, fake: FakeCalendars, worker: CalendarWorker
) -> None:
    use(chat, "google")
    pair_up(chat)
    work(chat, worker)
    confirm_first(chat)
    work(chat, worker)
    chat.send(MENTEE, "reschedule")  # free/busy for both now waits for the worker
    read_before = len(fake.api_calls("google", "POST", "freeBusy"))
    chat.send(MENTEE, "forget-me")
    assert "personal data is deleted" in chat.press(MENTEE, "Yes, delete my data")[-1]
    work(chat, worker)
    work(chat, worker)
    assert {c.subject for c in fake.api_calls("google", "POST", "freeBusy")[read_before:]} <= {MENTOR}
    assert fake.google_events and all(e["status"] == "cancelled" for e in fake.google_events.values())
    with chat.store.engine.connect() as connection:
        stored = [
            str(row)
            for table in ("calendar_request", "session")
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
        ]
    assert not any(MENTEE in row or "meet.google.com" in row for row in stored)


# -- wiring ---------------------------------------------------------------------------------------------


def test_settings_name_a_provider_only_with_its_whole_credentials(tmp_path: Path) -> None:
    assert Settings(_env_file=None).calendar_providers == frozenset()
    partial = Settings(_env_file=None, rmbot_calendar_microsoft_tenant="t", rmbot_calendar_microsoft_client_id="c")
    assert partial.calendar_providers == frozenset()
    whole = partial.model_copy(update={"rmbot_calendar_microsoft_client_secret": "s"})
    assert whole.calendar_providers == frozenset({"microsoft"})


def test_the_served_worker_performs_calendar_requests_on_a_thread_of_its_own(
    chat: Chat, fake: FakeCalendars, tmp_path: Path
) -> None:
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(fake.service_account()), encoding="utf-8")
    settings = Settings(
        _env_file=None,
        rmbot_calendar_google_service_account_file=str(key),
        rmbot_calendar_google_api_url=fake.google_url,
    )
    assert settings.calendar_providers == frozenset({"google"})
    chat.runtime.engine = Engine(calendars=settings.calendar_providers)
    use(chat, "google")
    pair_up(chat)  # the offer waits for free/busy
    served = Worker(chat.runtime, settings)
    assert served.calendars is not None
    served.start()
    try:
        assert served.alive() is True
        wait_until(lambda: all(r["status"] == "done" for r in requests_table(chat)), seconds=20)
    finally:
        served.stop()
    chat.runtime.stopping = False  # the served worker shared the chat's runtime; the chat goes on
    chat.pump()
    assert len(fake.api_calls("google", "POST", "freeBusy")) == 2
    assert slot_times(offer(chat, MENTOR))


def test_in_a_group_the_events_follow_who_is_invited(chat: Chat, fake: FakeCalendars, worker: CalendarWorker) -> None:
    use(chat, "microsoft")
    chat.change_settings(group_sessions=True)
    participants(chat, f"{MENTOR},mentor,2,ai_tools,,\n{FELIX},mentee,,,ai_tools,\n{MEILIN},mentee,,,ai_tools,\n")
    publish(chat)
    work(chat, worker)
    chat.press(MENTOR, offer(chat, MENTOR).choices[0].label)
    chat.press(FELIX, "Yes, that works")
    chat.press(MEILIN, "Yes, that works")
    work(chat, worker)
    invited = {tuple(a["emailAddress"]["address"] for a in e["attendees"]) for e in fake.graph_events.values()}
    assert invited == {(FELIX, MEILIN)} or invited == {(MEILIN, FELIX)}
    chat.send(COORD, "pair end @felix.braun")
    work(chat, worker)
    ahead = [s for s in sessions(chat) if s.status == "scheduled"]
    assert ahead and all(
        [a["emailAddress"]["address"] for a in fake.graph_events[s.calendar_event["event_id"]]["attendees"]] == [MEILIN]
        for s in ahead
    )
    assert len(fake.graph_events) == len(sessions(chat))  # updated, not added

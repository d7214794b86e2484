"""Calendar invites (.ics) with the icalendar library: real time zones, stable UIDs, update sequences."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.model import Attachment
from bot.sessions.model import Session


def calendar_for(
    sessions: list[Session], title: str, description: str, organiser: str = "", cancelled: bool = False
) -> bytes:
    """One VCALENDAR with a VEVENT per session, each in the series' anchor time zone.

    The UID stays the same for a session forever and SEQUENCE grows with each change, so a moved
    session updates the event already in people's calendars rather than adding a second one."""
    calendar = Calendar()
    calendar.add("prodid", "-//rmbot//reverse mentoring//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    for session in sessions:
        zone = ZoneInfo(session.anchor_time_zone)
        event = Event()
        event.add("uid", session.uid)
        event.add("sequence", session.ics_sequence)
        event.add("summary", title)
        event.add("description", description)
        event.add("dtstart", session.starts_at.astimezone(zone))
        event.add("dtend", (session.starts_at + timedelta(minutes=session.minutes)).astimezone(zone))
        event.add("dtstamp", datetime.now(zone))
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if organiser:
            event.add("organizer", f"mailto:{organiser}")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def invite_attachment(
    sessions: list[Session], title: str, description: str, filename: str = "sessions.ics", cancelled: bool = False
) -> Attachment:
    """The invite as a message attachment."""
    content = calendar_for(sessions, title, description, cancelled=cancelled)
    return Attachment(
        filename=filename, media_type="text/calendar", content_b64=base64.b64encode(content).decode(), title=title
    )

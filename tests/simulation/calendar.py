"""Sessions seen in the calendar invites people receive, checked against the term, hours and days off."""

from __future__ import annotations

import base64
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.model import OutgoingMessage
from simulation.log import SessionSeen

if TYPE_CHECKING:
    from simulation.term import Simulation


def invites(message: OutgoingMessage, cancelled: bool = False) -> list[tuple[str, datetime, datetime]]:
    """(uid, start, end) of every event in the message's .ics attachments (or, with ``cancelled``, of every
    event it cancels)."""
    found = []
    for attachment in message.attachments:
        if not attachment.filename.endswith(".ics"):
            continue
        calendar = Calendar.from_ical(base64.b64decode(attachment.content_b64))
        for event in calendar.walk("VEVENT"):
            if (str(event.get("status", "")).upper() == "CANCELLED") != cancelled:
                continue
            start = event.decoded("dtstart")
            end = event.decoded("dtend") if event.get("dtend") else start + timedelta(minutes=45)
            found.append((str(event["uid"]), start, end))
    return found


def check_invites(sim: Simulation, email: str, message: OutgoingMessage) -> None:
    """Log each session and check it is inside the term, this person's working hours and working days."""
    member = sim.members.get(email)
    for uid, _start, _end in invites(message, cancelled=True):
        if (seen := sim.log.sessions.get(uid)) is not None:
            seen.cancelled.add(email)
    for uid, start, end in invites(message):
        seen = sim.log.sessions.get(uid)
        if seen is None or seen.starts_at != start:
            seen = sim.log.sessions[uid] = SessionSeen(
                uid=uid, starts_at=start, confirmed_at=sim.now, people=seen.people if seen else set()
            )
        seen.people.add(email)
        seen.invited[email], seen.order[email] = sim.now, sim.log.next()
        seen.cancelled.discard(email)
        if member is None:
            continue
        zone = ZoneInfo(member.time_zone)
        local, finish = start.astimezone(zone), end.astimezone(zone)
        begin_at, end_at = (time.fromisoformat(t) for t in member.working_hours.split("-"))
        problems = []
        if not sim.term[0] <= local.date() <= sim.term[1]:
            problems.append(f"outside the term {sim.term[0]}..{sim.term[1]}")
        if local.weekday() >= 5:
            problems.append("on a weekend")
        if local.date() in sim.non_working:
            problems.append("on a programme non-working day")
        if not (begin_at <= local.time() and finish.time() <= end_at and finish.date() == local.date()):
            problems.append(f"outside working hours {member.working_hours}")
        if problems:
            sim.log.violate(
                "sessions inside term, hours and working days",
                sim.day,
                email,
                f"session {local:%a %Y-%m-%d %H:%M} ({member.time_zone}) {', '.join(problems)}",
            )

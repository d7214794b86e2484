"""Sessions on people's real calendars (Microsoft 365, Google Workspace): what the engine records for the calendar
worker, inside the handling transaction, and never a network call.

- **Free/busy before an offer.** When a programme uses a calendar provider this deployment has credentials for,
  an offer of times first records a ``freebusy`` request for the people whose calendars may be read (not those
  who said ``calendar off``) and keeps the offer open, waiting for it (``calendar`` in the offer's state). The
  worker's answer comes back as the event ``calendar:<request id>`` (:mod:`bot.sessions.calendar_results`), and
  the offer is made then: times where everyone is free, inside everyone's working hours and the programme's
  rules. Someone whose calendar could not be read is planned on their working hours, and the pair is told so.
  A ``calendar_timeout`` job makes the offer on working hours if no answer came in time.
- **Events after a confirmation, a move or a cancellation.** One ``event`` request per session and change
  (``create``, ``update``, ``cancel``), keyed so that handling an event twice records it once; the worker
  performs it idempotently and the event's id and join link come back to the session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from bot.context import Turn
from bot.domain import Person, Programme
from bot.errors import CommandError
from bot.ports import Provider
from bot.sessions.model import Session
from bot.wording import say

TIMEOUT_JOB = "calendar_timeout"
TIMEOUT = timedelta(minutes=15)
"""How long an offer waits for free/busy before it is made on working hours alone."""
WINDOW_DAYS = 28
"""Free/busy is read for the four weeks an offer looks into (``bot.sessions.slots.propose_slots``)."""
EventOp = Literal["create", "update", "cancel"]


def provider_for(turn: Turn, programme: Programme) -> Provider | None:
    """The programme's calendar provider, when this deployment can reach it (else None: working hours only)."""
    chosen = programme.settings.calendar
    if chosen == "microsoft" and chosen in turn.calendars:
        return "microsoft"
    if chosen == "google" and chosen in turn.calendars:
        return "google"
    return None


def check_provider(turn: Turn, value: str) -> None:
    """``program edit calendar microsoft|google`` is refused when this deployment has no credentials for it."""
    if value != "off" and value not in turn.calendars:
        raise CommandError("calendars.not_configured", provider=value)


def wait_for_free_busy(turn: Turn, programme: Programme, people: list[Person], circle: str, after: datetime) -> str:
    """Record a free/busy request for the people of ``circle`` whose calendars may be read; returns its key, or ""
    when there is nothing to read (no provider, or everyone opted out): then the offer is made at once."""
    chosen = provider_for(turn, programme)
    readable = [p for p in people if not p.calendar_opt_out]
    if chosen is None or not readable:
        return ""
    key = f"freebusy:{turn.event.event_id}:{circle}"
    start = after.replace(second=0, microsecond=0)
    payload: dict[str, Any] = {
        "circle": circle,
        "start": start.isoformat(),
        "end": (start + timedelta(days=WINDOW_DAYS + 1)).isoformat(),
        "people": [{"person_id": p.id, "email": p.email or ""} for p in readable],
    }
    turn.uow.calendars.add(turn.tenant.id, "freebusy", chosen, key, payload, turn.now)
    turn.uow.schedule.add(
        turn.tenant.id,
        TIMEOUT_JOB,
        turn.now + TIMEOUT,
        {"circle": circle, "key": key, "people": [p.id for p in readable]},
        key=f"calendar-timeout:{key}",
    )
    return key


def write_event(turn: Turn, session: Session, op: EventOp) -> None:
    """Record that ``session``'s event is to be created, moved (``update``) or cancelled in the calendars of its
    people, when its programme uses a calendar provider. The mentor organises it; the mentees are invited."""
    programme = turn.uow.programmes.get(session.programme_id)
    chosen = provider_for(turn, programme) if programme is not None else None
    if programme is None or chosen is None:
        return
    people = _people(turn, session)
    if not people:
        return
    organiser, *invited = people
    key = f"event:{session.id}:create" if op == "create" else f"event:{session.id}:{op}:{session.ics_sequence}"
    payload: dict[str, Any] = {
        "op": op,
        "session_id": session.id,
        "uid": session.uid,
        "organiser": organiser.email,
        "attendees": [p.email for p in invited],
        "start": session.starts_at.isoformat(),
        "end": (session.starts_at + timedelta(minutes=session.minutes)).isoformat(),
        "time_zone": session.anchor_time_zone,
        "subject": say("sessions.invite_title", programme=programme),
        "body": say("sessions.invite_description", others=[p.name for p in invited], programme=programme),
    }
    turn.uow.calendars.add(turn.tenant.id, "event", chosen, key, payload, turn.now)


def _people(turn: Turn, session: Session) -> list[Person]:
    """The session's people with an email, the mentor first (the organiser)."""
    found = []
    for participant_id in (session.mentor_id, *session.mentee_ids):
        participant = turn.uow.participants.get(participant_id)
        person = turn.uow.people.get(participant.person_id) if participant else None
        if person is not None and person.email:
            found.append(person)
    return found


def fell_back_note(reader: Person, unread: list[Person]) -> str:
    """The sentence telling ``reader`` whose calendar could not be read (empty when everyone's was)."""
    if not unread:
        return ""
    others = [p.name for p in unread if p.id != reader.id]
    return say("calendars.fell_back", you=any(p.id == reader.id for p in unread), others=others)

"""Finding times that fit everyone: inside each person's working hours, on each person's working days,
inside the term and after the day they can start, never on a non-working day or (when the programme
says so) a public holiday where they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.sessions.calendar import is_public_holiday
from bot.timing import WEEKEND
from bot.wording import moment as moment_markup

STEP = timedelta(minutes=30)


@dataclass(frozen=True)
class Availability:
    """One person's working pattern and the days they can meet on (dates in their own time zone)."""

    time_zone: str
    working_hours: str
    first_day: date | None = None
    """The term's start, or the later day the person said they can start from."""
    last_day: date | None = None
    """The term's end."""
    holiday_country: str | None = None
    """Public holidays of this country are days off (set when the programme takes public holidays)."""
    busy: tuple[tuple[datetime, datetime], ...] = ()
    """Times their calendar shows as busy (UTC start, end), when it was read (:mod:`bot.sessions.calendar_sync`)."""

    def open_on(self, day: date, closed: frozenset[date] = frozenset()) -> bool:
        """Whether ``day`` (local) is a day this person can meet on."""
        if day.weekday() in WEEKEND or day in closed:
            return False
        if (self.first_day and day < self.first_day) or (self.last_day and day > self.last_day):
            return False
        return not is_public_holiday(self.holiday_country, day)

    def fits(self, start: datetime, minutes: int, closed: frozenset[date] = frozenset()) -> bool:
        """Whether [start, start + minutes) lies inside this person's working hours on a day they meet."""
        zone = ZoneInfo(self.time_zone)
        local_start = start.astimezone(zone)
        local_end = (start + timedelta(minutes=minutes)).astimezone(zone)
        if local_start.date() != local_end.date() and local_end.time() != time(0, 0):
            return False
        if not self.open_on(local_start.date(), closed):
            return False
        end_at = start + timedelta(minutes=minutes)
        if any(start < busy_end and busy_start < end_at for busy_start, busy_end in self.busy):
            return False
        begin_text, _, end_text = self.working_hours.partition("-")
        begin, end = time.fromisoformat(begin_text), time.fromisoformat(end_text)
        return (
            begin <= local_start.time()
            and (local_end.time() <= end or end == time(23, 59))
            and local_start.time() < end
        )


def propose_slots(
    people: list[Availability],
    after: datetime,
    minutes: int,
    count: int = 3,
    closed: frozenset[date] = frozenset(),
    horizon_days: int = 28,
) -> list[datetime]:
    """Up to ``count`` start times (UTC) that fit everyone, on different days, earliest first.

    Times are on the half hour, from the day after ``after`` (or the latest first day among the people)
    onwards, within ``horizon_days``."""
    first_day = (after + timedelta(days=1)).astimezone(UTC).date()
    starts = [p.first_day - timedelta(days=1) for p in people if p.first_day]
    first_day = max([first_day, *starts])
    found: list[datetime] = []
    for offset in range(horizon_days):
        day_start = datetime.combine(first_day + timedelta(days=offset), time(0, 0), UTC)
        moment = day_start
        while moment < day_start + timedelta(days=1):
            if all(person.fits(moment, minutes, closed) for person in people):
                found.append(moment)
                break
            moment += STEP
        if len(found) == count:
            break
    return found


def series(
    first: datetime,
    anchor_zone: str,
    cadence_days: int,
    until: date | None,
    limit: int = 60,
    people: list[Availability] | None = None,
    minutes: int = 45,
    closed: frozenset[date] = frozenset(),
) -> list[datetime]:
    """Start times of a series: every ``cadence_days`` at the same local time in ``anchor_zone``.

    Keeping the anchor's local time (not the UTC time) carries the series correctly across daylight
    saving; a date that is not a working day for everyone moves to the next one that is (a date with
    none in the following week is left out)."""
    zone = ZoneInfo(anchor_zone)
    local = first.astimezone(zone)
    starts = [first]
    for n in range(1, limit):
        day = local.date() + timedelta(days=cadence_days * n)
        if until is not None and day > until:
            break
        for _ in range(7):
            candidate = datetime.combine(day, local.time(), zone).astimezone(UTC)
            if people is None or all(person.fits(candidate, minutes, closed) for person in people):
                if until is None or day <= until:
                    starts.append(candidate)
                break
            day += timedelta(days=1)
    return starts


def parse_local_time(text: str, time_zone: str) -> datetime | None:
    """'2030-01-21 15:00' (or '21 Jan 2030 15:00') in a person's own zone, as UTC; None if unreadable."""
    cleaned = " ".join(text.replace("T", " ").replace(",", " ").split())
    for fmt in ("%Y-%m-%d %H:%M", "%d %b %Y %H:%M", "%d %B %Y %H:%M", "%Y-%m-%d %H.%M"):
        try:
            naive = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC)
    return None


def local_label(moment: datetime, time_zone: str) -> str:
    """How a time reads to a person: 'Tue 21 Jan, 15:00 (Asia/Kolkata)' (plain text: labels, files)."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{local:%a %d %b, %H:%M} ({time_zone})"


def local_moment(moment: datetime, time_zone: str) -> str:
    """A time in message text: a neutral moment (:func:`bot.wording.moment`) that platforms able to show dates in
    each reader's own zone do (Slack), with :func:`local_label` in ``time_zone`` as its text everywhere else."""
    return moment_markup(moment, local_label(moment, time_zone))

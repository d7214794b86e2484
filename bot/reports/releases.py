"""Releases: figures computed once, at fixed points, over the answers given by then, and stored.

The points of a programme: the start of its term (``baseline``, the first), a week after the midpoint survey
(``midpoint``), the day after its last day when surveys close (``final``), and the first day of every month,
closing the month before (``2030-03``), all at 00:00 UTC. At each point a scheduled job (or, failing that, the
first report after it) offers every cell over the answers stored until then to :func:`~bot.reports.disclosure.disclose`
and stores what may be released. Reports show released figures only, so between two points nothing moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain import Programme, ProgrammeStatus
from bot.handling import Handling, OnDue
from bot.library import programme_library
from bot.ports import ScheduleRepository, UnitOfWork
from bot.reports.aggregate import Cell, Figure, Release, differing
from bot.reports.disclosure import OTHER, Breakdown, Family, disclose

if TYPE_CHECKING:
    from bot.context import Turn

RELEASE_JOB = "figures_release"
SURVEY_WINDOW = timedelta(days=7)
"""How long the midpoint survey is answered before its figures are released."""
DIVERSITY = ("gender", "generation")
MAIN = ("pulse", "goal:final", "goal:midpoint", "team:baseline", "team:end")
PULSE_BREAKDOWNS = ("pulse:role", "pulse:department", "pulse:topic", "pulse:framework", "pulse:week")
ANSWERS = "answers"
"""The pseudonym scope of pulse and survey answers (each self-identification question has its own)."""


@dataclass(frozen=True)
class Point:
    cutoff: datetime
    period: str


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def measurement_points(programme: Programme) -> list[Point]:
    """The baseline, midpoint and final points of the programme's term (those its dates allow)."""
    starts, ends = programme.starts_on, programme.ends_on
    points = []
    if starts is not None:
        points.append(Point(_midnight(starts), "baseline"))
    if starts is not None and ends is not None:
        points.append(Point(_midnight(starts + (ends - starts) / 2) + SURVEY_WINDOW, "midpoint"))
    if ends is not None:
        points.append(Point(_midnight(ends + timedelta(days=1)), "final"))
    return points


def _month(cutoff: datetime) -> Point:
    before = cutoff - timedelta(days=1)
    return Point(cutoff, f"{before:%Y-%m}")


def newest_point(programme: Programme, now: datetime) -> Point | None:
    """The latest point at or before ``now``: none before the term starts (the baseline is the first), or, for a
    programme without a term, before it was created."""
    month = _month(datetime(now.year, now.month, 1, tzinfo=UTC))
    first = _first(programme, now)
    passed = [p for p in [*measurement_points(programme), month] if p.cutoff <= now and p.cutoff >= first]
    return max(passed, key=lambda p: (p.cutoff, p.period[0].isalpha()), default=None)


def next_point(programme: Programme, now: datetime) -> Point:
    """The first point after ``now`` (the baseline, while the term has not started)."""
    following = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    first = _first(programme, now)
    ahead = [p for p in [*measurement_points(programme), _month(following)] if p.cutoff > now and p.cutoff >= first]
    return min(ahead, key=lambda p: (p.cutoff, not p.period[0].isalpha()))


def _first(programme: Programme, now: datetime) -> datetime:
    """No point comes before the start of the term, or, without a term, before the programme was created."""
    if programme.starts_on is not None:
        return _midnight(programme.starts_on)
    created = programme.created_at
    return created if created is not None and created <= now else datetime.min.replace(tzinfo=UTC)


class _Answers:
    """Answers sorted into cells as they are read: cell name -> answer id -> (pseudonym, value)."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, tuple[str, float]]] = {}

    def add(self, names: list[str], answer: str, contributor: str, value: float) -> None:
        for name in names:
            self.cells.setdefault(name, {})[answer] = (contributor, value)

    def cell(self, name: str) -> Cell:
        return Cell(name, self.cells.get(name, {}))

    def breakdown(self, name: str, whole: bool = False) -> Breakdown:
        groups = {c: Cell(c, a) for c, a in sorted(self.cells.items()) if c.startswith(name + ":")}
        return Breakdown(name, groups, whole)


def offered(uow: UnitOfWork, programme: Programme, now: datetime) -> list[Family]:
    """Every cell of the programme over the answers stored now, grouped into families for disclosure."""
    library = programme_library(programme)
    pulses = [f for f in uow.feedback.of_programme(programme.id, "pulse") if float(f.answers.get("session") or 0)]
    surveys = [
        f
        for kind in ("final", "midpoint")
        for f in uow.feedback.of_programme(programme.id, kind)
        if f.role == "mentee" and f.answers.get("goal_self") is not None
    ]
    team = [f for phase in ("baseline", "end") for f in uow.feedback.of_programme(programme.id, f"team_{phase}")]
    people = uow.people.many(sorted({f.person_id for f in pulses + surveys + team}))
    names = uow.figures.pseudonyms(programme.id, ANSWERS, [pid for pid, p in people.items() if not p.opted_out])
    for given in sorted(pulses + surveys + team, key=lambda f: f.id):
        names.setdefault(given.person_id, f"~{given.id}")  # forgotten: no pseudonym kept, their first answer's
    departments = {pid: p.department or "-" for pid, p in people.items()}
    sessions = {s.id: s for s in uow.sessions.of_programme(programme.id)}
    cells = _Answers()
    for pulse in pulses:
        session = sessions.get(pulse.session_id) if pulse.session_id is not None else None
        where = [
            "pulse",
            f"pulse:role:{pulse.role}",
            f"pulse:department:{departments.get(pulse.person_id, '-')}",
            f"pulse:week:{week_of(session.starts_at if session else pulse.created_at or now)}",
        ]
        if session is not None and session.topic_id in library.topics:
            where.append(f"pulse:topic:{session.topic_id}")
        if session is not None and session.framework_id in library.frameworks:
            where.append(f"pulse:framework:{session.framework_id}")
        cells.add(where, f"f{pulse.id}", names[pulse.person_id], float(pulse.answers["session"]))
    for survey in surveys:
        cells.add([f"goal:{survey.kind}"], f"f{survey.id}", names[survey.person_id], float(survey.answers["goal_self"]))
    for rating in team:
        phase = rating.kind.removeprefix("team_")
        cells.add([f"team:{phase}"], f"f{rating.id}", names[rating.person_id], float(rating.answers["rating"]))
    taking = uow.participants.answers_taking_part(programme.id, DIVERSITY)
    for dimension in DIVERSITY:
        scope = f"diversity:{dimension}"
        tokens = uow.figures.pseudonyms(programme.id, scope, set(taking))
        for person_id, intake in taking.items():
            answer = str(intake.get(dimension) or "")
            said = "-" if answer in ("", "prefer_not", "self_describe", "None") else answer
            token = tokens[person_id]
            cells.add([scope, f"{scope}:{said}"], f"{dimension}:{token}", token, 1.0)
    families = [Family(cells.cell("pulse"), [cells.breakdown(n, n == "pulse:role") for n in PULSE_BREAKDOWNS])]
    families += [Family(cells.cell(name)) for name in MAIN[1:]]
    families += [Family(cells.cell(f"diversity:{d}"), [cells.breakdown(f"diversity:{d}")]) for d in DIVERSITY]
    return families


@dataclass
class Released:
    """What reports may show: the releases so far, and where the answers stand against them."""

    releases: list[Release]
    next_point: Point | None
    changed: dict[str, int] = field(default_factory=dict)
    """Per main cell already released: how many people's answers differ from the released figure now."""

    def latest(self, name: str) -> tuple[Release, Figure] | None:
        """The newest released figure of the cell ``name``, and its release."""
        for release in reversed(self.releases):
            if name in release.cells:
                return release, release.cells[name].figure
        return None

    def figure(self, name: str) -> Figure | None:
        found = self.latest(name)
        return found[1] if found else None

    def breakdown(self, name: str) -> tuple[dict[str, Figure], Figure | None]:
        """The groups (by label) and the unlabelled remainder of the newest release that shows the breakdown."""
        prefix = name + ":"
        for release in reversed(self.releases):
            groups = {c[len(prefix) :]: s.figure for c, s in release.cells.items() if c.startswith(prefix)}
            if groups:
                other = release.cells.get(name + OTHER)
                return groups, other.figure if other else None
        return {}, None

    def series(self, name: str) -> list[tuple[str, Figure]]:
        """Each group of a breakdown as last released (the weekly trend: a late answer cannot move a week)."""
        prefix, found = name + ":", dict[str, Figure]()
        for release in self.releases:
            found |= {c[len(prefix) :]: s.figure for c, s in release.cells.items() if c.startswith(prefix)}
        return sorted(found.items())


def release(uow: UnitOfWork, programme: Programme, now: datetime, families: list[Family]) -> Released:
    """Make the release that is due (if any; a closed programme releases nothing more), schedule the next one, and
    return what reports may show."""
    k = programme.settings.anonymity_threshold
    point = None if programme.status == ProgrammeStatus.CLOSED else newest_point(programme, now)
    made = uow.figures.releases(programme.id)
    if point is not None and (not made or made[-1].cutoff < point.cutoff):
        earlier = [cell for r in uow.figures.releases(programme.id, with_bases=True) for cell in r.cells.values()]
        cells = disclose(families, earlier, k)
        uow.figures.record(programme.id, Release(point.period, point.cutoff, now, {c.name: c for c in cells}))
        made = uow.figures.releases(programme.id)
    view = Released(made, schedule_next(uow.schedule, programme, now))
    newest = {name: found[0].cutoff for name in MAIN if (found := view.latest(name))}
    live = {family.parent.name: family.parent for family in families}
    for name, basis in uow.figures.bases(programme.id, newest).items():
        view.changed[name] = differing(live[name].basis, basis)
    return view


def schedule_next(schedule: ScheduleRepository, programme: Programme, now: datetime) -> Point | None:
    """Schedule the job of the next release point (once: by key); none for a closed programme."""
    if programme.status == ProgrammeStatus.CLOSED:
        return None
    following = next_point(programme, now)
    schedule.add(
        programme.tenant_id,
        RELEASE_JOB,
        following.cutoff,
        {"programme_id": programme.id},
        key=f"release:{programme.id}:{following.cutoff:%Y%m%dT%H%M}",
    )
    return following


def on_release_due(turn: Turn, payload: dict[str, Any]) -> None:
    """A release point has come: release the programme's figures over the answers given until now."""
    programme = turn.uow.programmes.get(int(payload.get("programme_id", 0)))
    if programme is not None:
        release(turn.uow, programme, turn.now, offered(turn.uow, programme, turn.now))


HANDLERS: tuple[Handling, ...] = (OnDue(RELEASE_JOB, on_release_due),)

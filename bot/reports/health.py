"""Programme health as data: participation, completion, matching, sessions, commitment, pulses, goals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.domain import PairStatus, ParticipantStatus, Programme, Role
from bot.library import programme_library
from bot.ports import UnitOfWork
from bot.reports.aggregate import Figure, breakdown, changed_people, steady, summarise
from bot.reports.counting import count_sessions, slip_sides
from bot.sessions.model import SessionStatus


@dataclass
class Health:
    programme: Programme
    k: int
    people: dict[str, dict[str, int]]
    consent_rate: float | None
    intake_done: dict[str, int]
    onboarded: dict[str, int]
    mentees_active: int
    mentees_paired: int
    pairs_live: int
    pairs_at_risk: int
    sessions_due: int
    sessions_held: int
    cancellations: dict[str, int]
    pulse: Figure | None
    pulse_by_role: dict[str, Figure | None]
    pulse_weeks: list[tuple[str, Figure | None]]
    held_weeks: list[tuple[str, int]]
    topics: list[tuple[str, int]]
    goal_now: Figure | None
    goal_progress: float | None
    pair_goals: int
    pair_goals_done: int
    mentors_over_80: int
    sessions_cancelled_by_system: int = 0
    """Sessions the system cancelled (pause, rematch, forget-me, end, close): never due."""
    answered: dict[str, int] = field(default_factory=dict)
    """People who have answered so far, per main figure (``pulse``, ``goal``, ``team:baseline``,
    ``team:end``): a count, never the answers, so a small programme can be told what is missing."""
    can_answer: dict[str, int] = field(default_factory=dict)
    """How many people could answer each main figure at most."""
    held_back: dict[str, int] = field(default_factory=dict)
    """For a figure shown as before: how many people's answers changed since (it moves at ``k``)."""
    team_baseline: Figure | None = None
    team_end: Figure | None = None
    retention_participants: tuple[int, int] = (0, 0)
    """(still here, started) for the programme's participants."""
    retention_others: tuple[int, int] = (0, 0)
    comments: list[str] = field(default_factory=list)
    pulse_by_topic: dict[str, Figure | None] = field(default_factory=dict)
    """Session usefulness by the topic of the session (title -> figure, under the anonymity rule)."""
    pulse_by_framework: dict[str, Figure | None] = field(default_factory=dict)
    pulse_by_department: dict[str, Figure | None] = field(default_factory=dict)
    diversity: dict[str, dict[str, Figure | None]] = field(default_factory=dict)
    """Participants taking part by their optional self-identification (``gender``, ``generation``):
    counts (``respondents``) per answer, each withheld under the threshold."""

    @property
    def team_change(self) -> float | None:
        if self.team_baseline and self.team_end and self.team_baseline.mean:
            return (self.team_end.mean - self.team_baseline.mean) / self.team_baseline.mean
        return None

    @property
    def goal_basis(self) -> str | None:
        """What the goal's "now" is, compared like with like with its baseline: ``team`` (the end-of-term
        team rating, the measure of the baseline survey), ``self`` (the mentees' self-assessment, used
        only while the baseline is the one expected at set-up), or None (nothing comparable yet)."""
        measured = comparable_now(self.team_baseline, self.team_end, self.goal_now)
        if measured is None:
            return None
        return "team" if measured is self.team_end else "self"

    @property
    def goal_measured(self) -> Figure | None:
        """The figure the goal is judged on (see :attr:`goal_basis`)."""
        return comparable_now(self.team_baseline, self.team_end, self.goal_now)

    @property
    def baseline(self) -> float | None:
        """The goal's baseline: measured by the baseline survey when it may be shown, else the one
        expected at set-up."""
        return self.team_baseline.mean if self.team_baseline else self.programme.goal_baseline

    @property
    def match_rate(self) -> float | None:
        return self.mentees_paired / self.mentees_active if self.mentees_active else None

    @property
    def held_rate(self) -> float | None:
        return self.sessions_held / self.sessions_due if self.sessions_due else None


DIVERSITY = ("gender", "generation")


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


class _Cells:
    """The answers behind each aggregate of a programme, turned into figures that respect the threshold
    in each report (:func:`summarise`, :func:`breakdown`) and across reports (:func:`steady`)."""

    def __init__(self, uow: UnitOfWork, programme: Programme, k: int) -> None:
        self.uow, self.programme_id, self.k = uow, programme.id, k
        self.values: dict[str, dict[int, list[float]]] = {}
        self.stamps: dict[str, dict[int, list[datetime]]] = {}
        self.held_back: dict[str, int] = {}

    def add(self, cell: str, person_id: int, value: float, when: datetime) -> None:
        self.values.setdefault(cell, {}).setdefault(person_id, []).append(value)
        self.stamps.setdefault(cell, {}).setdefault(person_id, []).append(when)

    def _steady(self, cell: str, figure: Figure | None) -> Figure | None:
        stamps = self.stamps.get(cell, {})
        shown = steady(self.uow.figures, self.programme_id, cell, figure, stamps, self.k)
        if shown is not None and shown is not figure:
            released = self.uow.figures.released(self.programme_id, cell)
            if released is not None:
                self.held_back[cell] = changed_people(stamps, released)
        return shown

    def answered(self, cell: str) -> int:
        """How many people gave at least one answer to ``cell``."""
        return sum(1 for values in self.values.get(cell, {}).values() if values)

    def figure(self, cell: str) -> Figure | None:
        return self._steady(cell, summarise(self.values.get(cell, {}), self.k))

    def breakdown(self, prefix: str, groups: tuple[str, ...]) -> dict[str, Figure | None]:
        names = sorted(set(groups) | {c[len(prefix) :] for c in self.values if c.startswith(prefix)})
        figures = breakdown({name: self.values.get(prefix + name, {}) for name in names}, self.k)
        return {name: self._steady(prefix + name, figure) for name, figure in figures.items()}

    def series(self, prefix: str) -> list[tuple[str, Figure | None]]:
        return [(cell[len(prefix) :], self.figure(cell)) for cell in sorted(self.values) if cell.startswith(prefix)]


def comparable_now(team_baseline: Figure | None, team_end: Figure | None, self_view: Figure | None) -> Figure | None:
    """The goal's "now" on the same footing as its baseline: the end-of-term team rating when it may be
    shown; the mentees' self-assessment only when no team-rated baseline was measured either (then the
    baseline is the one expected at set-up); otherwise nothing yet."""
    if team_end is not None:
        return team_end
    return self_view if team_baseline is None else None


def programme_health(uow: UnitOfWork, programme: Programme, now: datetime) -> Health:
    """Every figure of ``status`` and ``report`` for one programme, with the anonymity rule applied."""
    k = programme.settings.anonymity_threshold
    participants = uow.participants.in_programme(programme.id)
    people = {role.value: Counter(p.status.value for p in participants if p.role == role) for role in Role}
    invited = [p for p in participants if p.invited_by and p.invited_by != p.person_id]
    answered = [p for p in invited if p.status != ParticipantStatus.INVITED]
    accepted = [p for p in answered if p.status in (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)]
    active = [p for p in participants if p.status in (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)]
    pairs = uow.matching.pairs(programme.id)
    live = [p for p in pairs if p.status != PairStatus.ENDED]
    sessions = uow.sessions.of_programme(programme.id)
    counts = count_sessions(sessions, slip_sides(uow.sessions.events(programme.id)), now)
    held = [s for s in sessions if s.status == SessionStatus.HELD]
    library = programme_library(programme)
    topics = Counter(library.topics[s.topic_id].title for s in held if s.topic_id in library.topics)
    pulses = uow.feedback.of_programme(programme.id, "pulse")
    cells = _Cells(uow, programme, k)
    by_id = {s.id: s for s in sessions}
    departments = {pid: p.department or "-" for pid, p in uow.people.many(list({f.person_id for f in pulses})).items()}
    for pulse in pulses:
        value = float(pulse.answers.get("session", 0) or 0)
        if value:
            when = pulse.created_at or now
            cells.add("pulse", pulse.person_id, value, when)
            cells.add(f"pulse:role:{pulse.role}", pulse.person_id, value, when)
            session = by_id.get(pulse.session_id) if pulse.session_id is not None else None
            week = _week(session.starts_at if session is not None else when)  # the week the session was held
            cells.add(f"pulse:week:{week}", pulse.person_id, value, when)
            cells.add(f"pulse:department:{departments.get(pulse.person_id, '-')}", pulse.person_id, value, when)
            if session is not None and session.topic_id in library.topics:
                cells.add(f"pulse:topic:{session.topic_id}", pulse.person_id, value, when)
            if session is not None and session.framework_id in library.frameworks:
                cells.add(f"pulse:framework:{session.framework_id}", pulse.person_id, value, when)
    surveys = uow.feedback.of_programme(programme.id, "final") or uow.feedback.of_programme(programme.id, "midpoint")
    for survey in surveys:
        if survey.role == "mentee" and survey.answers.get("goal_self") is not None:
            cells.add(
                f"goal:{survey.kind}", survey.person_id, float(survey.answers["goal_self"]), survey.created_at or now
            )
    for phase in ("baseline", "end"):
        for rating in uow.feedback.of_programme(programme.id, f"team_{phase}"):
            cells.add(f"team:{phase}", rating.person_id, float(rating.answers["rating"]), rating.created_at or now)
    for participant in active:
        for dimension in DIVERSITY:
            answer = str(participant.intake.get(dimension) or "")
            shown = "-" if answer in ("", "prefer_not", "self_describe", "None") else answer
            cells.add(
                f"diversity:{dimension}:{shown}",
                participant.person_id,
                1.0,
                participant.intake_completed_at or participant.joined_at or now,
            )
    goal_cell = f"goal:{surveys[0].kind}" if surveys else "goal:final"
    goal_now = cells.figure(goal_cell) if surveys else None
    team_baseline, team_end = cells.figure("team:baseline"), cells.figure("team:end")
    progress = None
    baseline = team_baseline.mean if team_baseline else programme.goal_baseline
    target = programme.goal_target
    measured = comparable_now(team_baseline, team_end, goal_now)
    if measured and baseline is not None and target is not None and target != baseline:
        progress = (measured.mean - baseline) / (target - baseline)
    mentees = [p for p in active if p.role == Role.MENTEE]
    team = sum(len(uow.people.reports(p.person_id)) for p in mentees)
    main = {"pulse": "pulse", "goal": goal_cell, "team:baseline": "team:baseline", "team:end": "team:end"}
    goals = [g for p in live for g in p.goals]
    comments = [f.answers["comment"] for f in pulses if f.share_comment and f.answers.get("comment")]
    over = sum(
        1
        for p in participants
        if p.role == Role.MENTOR and any(t >= 80 for t in p.notices.get(f"workload:{now:%Y-%m}", []))
    )
    weeks = _weeks(programme, [s.starts_at for s in held], now)
    started = programme.created_at or now
    taking = {p.person_id for p in participants if p.status != ParticipantStatus.DECLINED}
    everyone = [
        p
        for p in uow.people.in_tenant(programme.tenant_id)
        if (p.created_at or now) <= started and (p.left_at is None or p.left_at >= started)
    ]

    def kept(group: list[Any]) -> tuple[int, int]:
        return sum(1 for p in group if p.left_at is None), len(group)

    return Health(
        programme=programme,
        k=k,
        people={r: dict(c) for r, c in people.items()},
        consent_rate=len(accepted) / len(answered) if answered else None,
        intake_done={r.value: sum(1 for p in active if p.role == r and p.intake_completed_at) for r in Role},
        onboarded={r.value: sum(1 for p in active if p.role == r and p.onboarded_at) for r in Role},
        mentees_active=sum(1 for p in active if p.role == Role.MENTEE),
        mentees_paired=len({p.mentee_id for p in live}),
        pairs_live=len(live),
        pairs_at_risk=sum(1 for p in live if p.at_risk),
        sessions_due=counts.due,
        sessions_held=counts.held,
        cancellations=counts.slipped,
        sessions_cancelled_by_system=counts.cancelled_by_system,
        pulse=cells.figure("pulse"),
        pulse_by_role=cells.breakdown("pulse:role:", ("mentor", "mentee")),
        pulse_weeks=cells.series("pulse:week:"),
        held_weeks=[(w, sum(1 for s in held if _week(s.starts_at) == w)) for w in weeks],
        topics=topics.most_common(5),
        goal_now=goal_now,
        goal_progress=progress,
        pair_goals=len(goals),
        pair_goals_done=sum(1 for g in goals if g.get("done")),
        mentors_over_80=over,
        team_baseline=team_baseline,
        team_end=team_end,
        retention_participants=kept([p for p in everyone if p.id in taking]),
        retention_others=kept([p for p in everyone if p.id not in taking]),
        comments=comments if len({f.person_id for f in pulses}) >= k else [],
        pulse_by_topic={library.topics[c].title: f for c, f in cells.breakdown("pulse:topic:", ()).items()},
        pulse_by_framework={library.frameworks[c].name: f for c, f in cells.breakdown("pulse:framework:", ()).items()},
        pulse_by_department=cells.breakdown("pulse:department:", ()),
        diversity={d: cells.breakdown(f"diversity:{d}:", ()) for d in DIVERSITY},
        answered={name: cells.answered(cell) for name, cell in main.items()},
        can_answer={"pulse": len(active), "goal": len(mentees), "team:baseline": team, "team:end": team},
        held_back={name: cells.held_back[cell] for name, cell in main.items() if cell in cells.held_back},
    )


def _weeks(programme: Programme, held: list[datetime], now: datetime) -> list[str]:
    """Every week from the term's start (or the first session held) to now or the term's end, so that
    empty weeks show as zero."""
    if not held and programme.starts_on is None:
        return []
    first = min([*held, *([datetime.combine(programme.starts_on, time(12), UTC)] if programme.starts_on else [])])
    last = now
    if programme.ends_on is not None:
        last = min(last, datetime.combine(programme.ends_on, time(12), UTC))
    last = max([last, *held])
    weeks: list[str] = []
    day = first
    while day <= last:
        weeks.append(_week(day))
        day += timedelta(days=7)
    return weeks if _week(last) in weeks else [*weeks, _week(last)]


def health_record(health: Health) -> dict[str, Any]:
    """The figures as plain data, for templates and exports."""
    return {key: value for key, value in health.__dict__.items() if key != "programme"} | {
        "match_rate": health.match_rate,
        "held_rate": health.held_rate,
    }

"""Programme health as data: participation, completion, matching, sessions, commitment, pulses, goals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.domain import PairStatus, ParticipantStatus, Programme, Role
from bot.library import programme_library
from bot.ports import UnitOfWork
from bot.reports.aggregate import Figure
from bot.reports.counting import count_sessions, slip_sides
from bot.reports.releases import DIVERSITY, offered, release, week_of
from bot.sessions.model import SessionStatus
from bot.wording import say


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
    pulse_weeks: list[tuple[str, Figure]]
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
    changed: dict[str, int] = field(default_factory=dict)
    """For a main figure already released: how many people's answers differ from it now (it can move at the
    next release once they are at least ``k``)."""
    released: dict[str, date] = field(default_factory=dict)
    """For a main figure shown: the release it comes from (the answers given before that day)."""
    next_release: date | None = None
    """The next release point (figures move only there)."""
    team_baseline: Figure | None = None
    team_end: Figure | None = None
    retention_participants: tuple[int, int] = (0, 0)
    """(still here, started) for the programme's participants."""
    retention_others: tuple[int, int] = (0, 0)
    comments: list[str] = field(default_factory=list)
    pulse_by_topic: dict[str, Figure] = field(default_factory=dict)
    """Session usefulness by the topic of the session (title -> figure), as released."""
    pulse_by_framework: dict[str, Figure] = field(default_factory=dict)
    pulse_by_department: dict[str, Figure] = field(default_factory=dict)
    diversity: dict[str, dict[str, Figure]] = field(default_factory=dict)
    """Participants taking part by their optional self-identification (``gender``, ``generation``):
    counts (``respondents``) per answer shown; smaller groups only inside ``others``."""
    others: dict[str, Figure] = field(default_factory=dict)
    """Per breakdown (``department``, ``gender``, ``generation``): its withheld groups together, never named."""

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
    participants = uow.participants.roster(programme.id)
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
    families = offered(uow, programme, now)
    view = release(uow, programme, now, families)
    answering = {family.parent.name: family.parent.respondents for family in families}
    surveys = uow.feedback.of_programme(programme.id, "final") or uow.feedback.of_programme(programme.id, "midpoint")
    goal_cell = f"goal:{surveys[0].kind}" if surveys else "goal:final"
    goal_now = view.figure(goal_cell) if surveys else None
    team_baseline, team_end = view.figure("team:baseline"), view.figure("team:end")
    progress = None
    baseline = team_baseline.mean if team_baseline else programme.goal_baseline
    target = programme.goal_target
    measured = comparable_now(team_baseline, team_end, goal_now)
    if measured and baseline is not None and target is not None and target != baseline:
        progress = (measured.mean - baseline) / (target - baseline)
    mentees = [p for p in active if p.role == Role.MENTEE]
    team = sum(uow.people.report_counts([p.person_id for p in mentees]).values())
    main = {"pulse": "pulse", "goal": goal_cell, "team:baseline": "team:baseline", "team:end": "team:end"}
    goals = [g for p in live for g in p.goals]
    roles = view.breakdown("pulse:role")[0]
    topics_shown, frameworks = view.breakdown("pulse:topic")[0], view.breakdown("pulse:framework")[0]
    diversity = {d: view.breakdown(f"diversity:{d}") for d in DIVERSITY}
    departments, department_other = view.breakdown("pulse:department")
    others = {"department": ({}, department_other), **diversity}
    comments = [f.answers["comment"] for f in pulses if f.share_comment and f.answers.get("comment")]
    this_month = f"workload:{now:%Y-%m}"
    over = sum(1 for p in participants if p.role == Role.MENTOR and any(t >= 80 for t in p.notices.get(this_month, [])))
    weeks = _weeks(programme, [s.starts_at for s in held], now)
    started = programme.created_at or now
    stayed = uow.people.stayed(programme.tenant_id, programme.id, started, now)

    return Health(
        programme=programme,
        k=k,
        people={r: dict(c) for r, c in people.items()},
        consent_rate=len(accepted) / len(answered) if answered else None,
        intake_done={r.value: sum(1 for p in active if p.role == r and p.intake_done) for r in Role},
        onboarded={r.value: sum(1 for p in active if p.role == r and p.onboarded) for r in Role},
        mentees_active=sum(1 for p in active if p.role == Role.MENTEE),
        mentees_paired=len({p.mentee_id for p in live}),
        pairs_live=len(live),
        pairs_at_risk=sum(1 for p in live if p.at_risk),
        sessions_due=counts.due,
        sessions_held=counts.held,
        cancellations=counts.slipped,
        sessions_cancelled_by_system=counts.cancelled_by_system,
        pulse=view.figure("pulse"),
        pulse_by_role={role: roles.get(role) for role in ("mentor", "mentee")},
        pulse_weeks=view.series("pulse:week"),
        held_weeks=[(w, sum(1 for s in held if week_of(s.starts_at) == w)) for w in weeks],
        topics=topics.most_common(5),
        goal_now=goal_now,
        goal_progress=progress,
        pair_goals=len(goals),
        pair_goals_done=sum(1 for g in goals if g.get("done")),
        mentors_over_80=over,
        team_baseline=team_baseline,
        team_end=team_end,
        retention_participants=stayed[True],
        retention_others=stayed[False],
        comments=comments if len({f.person_id for f in pulses}) >= k else [],
        pulse_by_topic={library.topics[c].title: f for c, f in topics_shown.items() if c in library.topics},
        pulse_by_framework={library.frameworks[c].name: f for c, f in frameworks.items() if c in library.frameworks},
        pulse_by_department=departments,
        diversity={d: diversity[d][0] for d in DIVERSITY},
        others={name: other for name, (_, other) in others.items() if other is not None},
        answered={name: answering.get(cell, 0) for name, cell in main.items()},
        can_answer={"pulse": len(active), "goal": len(mentees), "team:baseline": team, "team:end": team},
        changed={name: view.changed[cell] for name, cell in main.items() if cell in view.changed},
        released={name: found[0].cutoff.date() for name, cell in main.items() if (found := view.latest(cell))},
        next_release=view.next_point.cutoff.date() if view.next_point else None,
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
        weeks.append(week_of(day))
        day += timedelta(days=7)
    return weeks if week_of(last) in weeks else [*weeks, week_of(last)]


def release_notes(health: Health) -> dict[str, str]:
    """In plain words, per main figure shown: the release it comes from and what moves it; and (``next``) when
    the next release is."""
    notes = {
        name: say("reports.released", on=on, changed=health.changed.get(name), k=health.k)
        for name, on in health.released.items()
    }
    return notes | {"next": say("reports.next_release", on=health.next_release)}

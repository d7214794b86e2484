"""Time the matcher end to end at the scale of a large company, beside the bare assignment solve.

Run: ``.venv/bin/python benchmarks/matching.py [--scenario a|b|all] [--seed N] [--mode optimal|stable|random]``
(``--repeat N``: scenario A's runs in one process, the first cold; ``--b-size N`` scales scenario B down).

* Scenario A: a generated organisation of 20,000 people (a deep management tree, departments, divisions,
  locations, time zones, working hours) in a fresh SQLite store; 5,000 senior mentees and 1,500 junior
  mentors (capacities 1-4) with topics, styles and rankings, forbidden pairs, pins and an earlier cohort's
  pairs; every hard rule on. Timed: ``load_input`` from the store, then ``run_matching`` (rules, scores,
  solve, explanations). Goal: at most 5 s end to end.
* Scenario B: 10,000 mentees and 10,000 mentors one-to-one, built in memory as a ``MatchInput`` (no
  store). Goal: at most 60 s end to end and 2 GiB peak memory.

Beside each figure: the time of a bare ``scipy.optimize.linear_sum_assignment`` on the same cost matrix
the optimal solve builds (rebuilt here exactly as bot/matching/solve.py does), and the ratio. Each
scenario runs in its own child process so that peak RSS (``ru_maxrss``) is per scenario; the child's
address space is capped (``--memory-cap``, default 12 GiB) so that a blow-up fails cleanly with a
MemoryError instead of waking the kernel's OOM killer on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from bot.matching.model import Candidate, MatchInput, Rules, Weights  # noqa: E402

T = TypeVar("T")

LOCATIONS = {
    "London": "Europe/London",
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "San Francisco": "America/Los_Angeles",
    "Pune": "Asia/Kolkata",
    "Bengaluru": "Asia/Kolkata",
    "Singapore": "Asia/Singapore",
    "Sydney": "Australia/Sydney",
}
HOURS = ["09:00-17:30", "09:00-17:30", "08:00-16:30", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:00-13:00"]
DIVISIONS = {
    "Technology": ["Engineering", "Data", "IT", "Security"],
    "Commercial": ["Sales", "Marketing", "Customer Success"],
    "Operations": ["Operations", "Supply Chain", "Facilities"],
    "Corporate": ["Finance", "People", "Legal"],
}
DEPARTMENTS = [(division, department) for division, names in DIVISIONS.items() for department in names]
TOPICS = [
    "ai_tools",
    "generative_ai",
    "collaboration_tools",
    "automation",
    "data_literacy",
    "cybersecurity",
    "social_platforms",
    "personal_brand",
    "content_creation",
    "online_communities",
    "remote_work",
    "accessibility",
    "lived_experience",
    "inclusive_language",
    "generations",
    "front_line_view",
    "feedback_culture",
    "customers_trends",
    "wellbeing",
    "career_paths",
]
STYLES = {
    "style_structure": ["structured", "flexible", "mix"],
    "style_feedback": ["direct", "gentle"],
    "style_pace": ["deep", "broad"],
}
GENDERS = ["woman", "man", "non_binary", None]
GENERATIONS = ["gen_z", "millennial", "gen_x", "boomer", None]
CHAIN = 12
"""The top of the organisation is one reporting chain this long, so the tree is deep as well as wide."""
GIB = 1024**3


@dataclass
class Person:
    index: int
    manager: int | None
    depth: int
    seniority: int
    division: str
    department: str
    location: str
    time_zone: str
    working_hours: str
    gender: str | None


def organisation(size: int, rng: random.Random) -> list[Person]:
    """A chain of CHAIN managers at the top, then a random tree of fan-out about 4 below it.

    People mostly stay in their manager's department and location; seniority falls with depth."""
    people: list[Person] = []
    for index in range(size):
        if index == 0:
            manager = None
        elif index < CHAIN:
            manager = index - 1
        else:
            manager = rng.randrange(max(CHAIN - 1, (index - CHAIN) // 4), index)
        boss = people[manager] if manager is not None else None
        if boss is None or rng.random() < 0.1:
            division, department = rng.choice(DEPARTMENTS)
        else:
            division, department = boss.division, boss.department
        location = boss.location if boss is not None and rng.random() < 0.7 else rng.choice(list(LOCATIONS))
        people.append(
            Person(
                index=index,
                manager=manager,
                depth=0 if boss is None else boss.depth + 1,
                seniority=0,
                division=division,
                department=department,
                location=location,
                time_zone=LOCATIONS[location],
                working_hours=rng.choice(HOURS),
                gender=rng.choice(GENDERS),
            )
        )
    # Seniority 9 (the shallowest) down to 1 (the deepest), by rank of depth with a little noise.
    order = sorted(people, key=lambda p: (p.depth, rng.random()))
    for rank, person in enumerate(order):
        person.seniority = max(1, min(9, 9 - (8 * rank) // size + rng.choice([-1, 0, 0, 0, 1])))
    return people


@dataclass
class Plan:
    """Who takes part and how: the same description feeds the store (A) or a MatchInput (B)."""

    people: list[Person]
    mentees: list[int]
    mentors: list[int]
    capacity: dict[int, int]
    topics: dict[int, list[str]]
    style: dict[int, dict[str, str]]
    generation: dict[int, str | None]
    rankings: dict[int, list[int]]
    forbidden: list[tuple[int, int]]
    previous: list[tuple[int, int]]
    pins: list[tuple[int, int]]


def programme(
    people: list[Person],
    mentees: int,
    mentors: int,
    max_capacity: int,
    rng: random.Random,
    forbidden: int,
    previous: int,
    pins: int,
    ranking_share: float,
) -> Plan:
    """Mentees among the most senior, mentors among the most junior (so many sit in mentees' subtrees)."""
    by_seniority = sorted(people, key=lambda p: (-p.seniority, rng.random()))
    senior = [p.index for p in by_seniority[: max(mentees, len(people) // 3)]]
    junior = [p.index for p in by_seniority[-max(mentors, len(people) // 3) :]]
    chosen_e = rng.sample(senior, mentees)
    taken = set(chosen_e)
    chosen_o = rng.sample([p for p in junior if p not in taken], mentors)
    everyone = chosen_e + chosen_o
    topics = {p: rng.sample(TOPICS, rng.randint(1, 3 if p in taken else 4)) for p in everyone}
    style = {p: {k: rng.choice(v) for k, v in STYLES.items() if rng.random() < 0.8} for p in everyone}
    rankings = {p: rng.sample(chosen_o, 3) for p in chosen_e if rng.random() < ranking_share}
    pairs = lambda count: [(rng.choice(chosen_e), rng.choice(chosen_o)) for _ in range(count)]  # noqa: E731
    return Plan(
        people=people,
        mentees=chosen_e,
        mentors=chosen_o,
        capacity={p: rng.randint(1, max_capacity) for p in chosen_o},
        topics=topics,
        style=style,
        generation={p: rng.choice(GENERATIONS) for p in everyone},
        rankings=rankings,
        forbidden=sorted(set(pairs(forbidden))),
        previous=sorted(set(pairs(previous))),
        pins=sorted(set(pairs(pins))),
    )


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def cpu_seconds() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def max_rss() -> int:
    """Peak resident set size of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def line(what: str, value: str, note: str = "") -> None:
    print(f"  {what:<46} {value:>12}  {note}", flush=True)


def bare_solve(data: MatchInput) -> tuple[float, tuple[int, int], int]:
    """The cost matrix solve.optimal builds (pins applied as run_matching applies them), and the time of
    linear_sum_assignment on it alone. Returns (seconds, matrix shape, pairs kept)."""
    from bot.matching.rules import feasibility
    from bot.matching.scoring import score

    allowed = feasibility(data).allowed
    scores = score(data).total
    capacity = np.array([max(0, c.capacity) for c in data.mentors], dtype=np.int64)
    index_e = {c.participant_id: i for i, c in enumerate(data.mentees)}
    index_o = {c.participant_id: j for j, c in enumerate(data.mentors)}
    pinned: set[int] = set()
    for mentee, mentor in data.rules.pins:  # as run_matching does
        i, j = index_e.get(mentee), index_o.get(mentor)
        if i is None or j is None or not allowed[i, j] or capacity[j] <= 0 or i in pinned:
            continue
        pinned.add(i)
        capacity[j] -= 1
        allowed[i, :] = False
    rows = np.flatnonzero(allowed.any(axis=1))  # from here on exactly as bot/matching/solve.py optimal()
    cols = np.flatnonzero(allowed.any(axis=0) & (capacity > 0))
    slots = np.repeat(cols, capacity[cols])
    big = 100.0 * (rows.size + 1) + 1.0
    cost = np.where(allowed[np.ix_(rows, slots)], big - np.clip(scores[np.ix_(rows, slots)], 0.0, 100.0), 2.0 * big)
    del scores
    seconds, (chosen_rows, chosen_slots) = timed(lambda: linear_sum_assignment(cost))
    kept = int(allowed[rows[chosen_rows], slots[chosen_slots]].sum())
    return seconds, cost.shape, kept


def report_run(result: Any, load_seconds: float | None, data: MatchInput, cpu: tuple[float, float]) -> float:
    """Print the run's breakdown (``cpu``: user and system CPU seconds spent); return the end-to-end seconds."""
    timings = result.timings
    end_to_end = timings["total"] + (load_seconds or 0.0)
    if load_seconds is not None:
        line("load_input (store -> MatchInput)", f"{load_seconds:.3f} s")
    for stage in ("rules", "scores", "solve", "explanations"):
        line(f"run_matching: {stage}", f"{timings[stage]:.3f} s")
    line("run_matching: total", f"{timings['total']:.3f} s")
    line(
        "END TO END" + (" (load + run_matching)" if load_seconds is not None else " (run_matching)"),
        f"{end_to_end:.3f} s",
        f"(CPU {cpu[0] + cpu[1]:.3f} s: user {cpu[0]:.3f}, system {cpu[1]:.3f}; load average now {load_average()})",
    )
    mentees = sum(1 for u in result.unmatched if u.role == "mentee")
    reasons: dict[str, int] = {}
    for u in result.unmatched:
        reasons[u.reason.key] = reasons.get(u.reason.key, 0) + 1
    line(
        "pairs",
        f"{len(result.pairs)}",
        f"({sum(p.pinned for p in result.pairs)} pinned; {mentees} of {len(data.mentees)} mentees unmatched; "
        f"average score {result.average_score:.1f})",
    )
    for key, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        line(f"  unmatched: {key.removeprefix('matching.')}", f"{count}")
    return end_to_end


def compare(end_to_end: float, data: MatchInput, goal_seconds: float | None) -> None:
    gc.collect()
    seconds, shape, kept = bare_solve(data)
    line("bare linear_sum_assignment", f"{seconds:.3f} s", f"(cost matrix {shape[0]} x {shape[1]}, {kept} pairs)")
    line("ratio end to end / bare solve", f"{end_to_end / seconds:.1f} x" if seconds > 0 else "-")
    if goal_seconds is not None:
        line(f"goal: end to end <= {goal_seconds:g} s", "met" if end_to_end <= goal_seconds else "MISSED")


# ----------------------------------------------------------------------------------------------------
# Scenario A: through the store
# ----------------------------------------------------------------------------------------------------


def load_store(store: Any, plan: Plan, today: date) -> Any:
    """People, an earlier cohort with pairs, the programme, participants, forbids and pins. Untimed."""
    from sqlalchemy import insert, update

    from bot.commands.programmes import new_programme
    from bot.directory import DirectoryRow
    from bot.domain import ProgrammeSettings
    from bot.participants_import import ParticipantRow as ImportRow
    from bot.services.directory import DirectoryService
    from storage.tables import MatchPairRow, MatchRuleRow, ParticipantRow

    email = lambda index: f"person{index:05d}@example.com"  # noqa: E731
    with store.unit_of_work() as uow:
        tenant_record = uow.tenants.ensure("console", "console")
        tenant = tenant_record.id
    with store.unit_of_work() as uow:
        DirectoryService.of(uow).import_directory(
            tenant_record,
            [
                DirectoryRow(
                    email=email(p.index),
                    name=f"Person {p.index}",
                    seniority=p.seniority,
                    title="Staff",
                    department=p.department,
                    division=p.division,
                    location=p.location,
                    time_zone=p.time_zone,
                    working_hours=p.working_hours,
                    manager_email=email(p.manager) if p.manager is not None else None,
                    gender=p.gender,
                    slack_user_id=f"U{p.index:07d}",
                    line=p.index + 2,
                )
                for p in plan.people
            ],
            store.now(),
        )
    starts = today + timedelta(days=30)
    settings = ProgrammeSettings(
        seniority_gap=1,
        allow_peer=False,
        no_shared_manager=True,
        min_overlap_minutes=60,
        participant_choice=True,
        mentor_capacity=4,
        allow_repeat_pairs=False,
    )
    with store.unit_of_work() as uow:
        earlier = new_programme(
            uow,
            tenant,
            "Reverse mentoring 2024",
            starts_on=today - timedelta(days=400),
            ends_on=today - timedelta(days=100),
            settings=settings,
        )
        current = new_programme(
            uow,
            tenant,
            "Reverse mentoring 2025",
            starts_on=starts,
            ends_on=starts + timedelta(days=180),
            settings=settings,
        )
    with store.unit_of_work() as uow:
        directory = DirectoryService.of(uow).emails(tenant)
    rows = [
        ImportRow(
            line=k + 2,
            email=email(p),
            role="mentee",
            topics=tuple(plan.topics[p]),
            rankings=tuple(email(r) for r in plan.rankings.get(p, ())),
        )
        for k, p in enumerate(plan.mentees)
    ]
    rows += [
        ImportRow(
            line=len(rows) + k + 2,
            email=email(p),
            role="mentor",
            capacity=plan.capacity[p],
            topics=tuple(plan.topics[p]),
        )
        for k, p in enumerate(plan.mentors)
    ]
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        DirectoryService.of(uow).import_participants(current, rows, now)
    with store.unit_of_work() as uow:
        session = uow.session
        participant = {p.person_id: p for p in uow.participants.in_programme(current.id)}
        person_of = {directory[email(p)]: p for p in (*plan.mentees, *plan.mentors)}
        session.execute(
            update(ParticipantRow),
            [
                {
                    "id": row.id,
                    "intake": {
                        **row.intake,
                        **plan.style[person_of[pid]],
                        **({"generation": g} if (g := plan.generation[person_of[pid]]) else {}),
                    },
                }
                for pid, row in participant.items()
            ],
        )
        part = lambda index: participant[directory[email(index)]].id  # noqa: E731
        session.execute(
            insert(MatchRuleRow.__table__),
            [
                {"programme_id": current.id, "kind": kind, "mentee_id": part(e), "mentor_id": part(o)}
                for kind, pairs in (("forbid", plan.forbidden), ("pin", plan.pins))
                for e, o in pairs
            ],
        )
        # The earlier cohort: both people took part then, and were paired.
        earlier_people = sorted({p for pair in plan.previous for p in pair})
        roles = {e: "mentee" for e, _ in plan.previous} | {o: "mentor" for _, o in plan.previous}
        session.execute(
            insert(ParticipantRow.__table__),
            [
                {
                    "programme_id": earlier.id,
                    "person_id": directory[email(p)],
                    "role": roles[p],
                    "status": "active",
                    "capacity": 4,
                    "intake": {},
                    "intake_version": 0,
                    "intake_reminders": 0,
                    "joined_at": now,
                    "intake_completed_at": now,
                    "updated_at": now,
                }
                for p in earlier_people
            ],
        )
        old = {row.person_id: row.id for row in uow.participants.in_programme(earlier.id)}
        session.execute(
            insert(MatchPairRow.__table__),
            [
                {
                    "programme_id": earlier.id,
                    "mentee_id": old[directory[email(e)]],
                    "mentor_id": old[directory[email(o)]],
                    "score": 50.0,
                    "reasons": [],
                    "status": "ended",
                    "created_at": now,
                    "end_reason": "",
                    "goals": [],
                    "scheduling": {},
                }
                for e, o in plan.previous
            ],
        )
    with store.unit_of_work() as uow:
        return uow.programmes.get(current.id)


def scenario_a(seed: int, mode: str, repeat: int = 1) -> None:
    from bot.matching.load import load_input, topic_labels
    from bot.matching.run import run_matching
    from storage.store import SqlStore

    rng = random.Random(seed)
    people = organisation(20_000, rng)
    plan = programme(
        people,
        mentees=5_000,
        mentors=1_500,
        max_capacity=4,
        rng=rng,
        forbidden=2_000,
        previous=1_500,
        pins=25,
        ranking_share=0.3,
    )
    depth = max(p.depth for p in people)
    print(
        f"Scenario A: {len(people)} people (management tree {depth + 1} levels deep), "
        f"{len(plan.mentees)} mentees, {len(plan.mentors)} mentors (capacities 1-4, "
        f"{sum(plan.capacity.values())} places), {len(plan.forbidden)} forbidden pairs, {len(plan.previous)} "
        f"earlier-cohort pairs, {len(plan.pins)} pins; every hard rule on; mode {mode}; SQLite store",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            today = date.today()
            setup, current = timed(lambda: load_store(store, plan, today))
            line("setup (not measured: directory, programme, imports)", f"{setup:.1f} s")
            labels = topic_labels()
            gc.collect()

            def load() -> MatchInput:
                with store.unit_of_work() as uow:
                    return load_input(uow, current, today)

            cpu_before = cpu_seconds()
            load_seconds, data = timed(load)
            result = run_matching(data, mode, 1, labels)  # type: ignore[arg-type]
            cpu_after = cpu_seconds()
            peak = max_rss()
            end_to_end = report_run(
                result, load_seconds, data, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
            )
            line("peak RSS of this process so far", f"{peak / 2**20:.0f} MiB")
            for attempt in range(2, repeat + 1):  # the same process again: warm allocator and caches
                del result, data
                gc.collect()
                again, data = timed(load)
                result = run_matching(data, mode, 1, labels)  # type: ignore[arg-type]
                stages = ", ".join(f"{k} {result.timings[k]:.2f}" for k in ("rules", "scores", "solve", "explanations"))
                line(
                    f"again (run {attempt}, same process)",
                    f"{again + result.timings['total']:.3f} s",
                    f"(load {again:.2f}, {stages})",
                )
        finally:
            store.close()
    compare(end_to_end, data, 5.0)


# ----------------------------------------------------------------------------------------------------
# Scenario B: in memory
# ----------------------------------------------------------------------------------------------------


def match_input(plan: Plan, reference: date) -> MatchInput:
    def candidate(index: int, participant_id: int, capacity: int) -> Candidate:
        p = plan.people[index]
        return Candidate(
            participant_id=participant_id,
            person_id=index + 1,
            name=f"Person {index}",
            seniority=p.seniority,
            time_zone=p.time_zone,
            working_hours=p.working_hours,
            department=p.department,
            division=p.division,
            location=p.location,
            gender=p.gender,
            generation=plan.generation[index],
            topics=frozenset(plan.topics[index]),
            style=plan.style[index],
            capacity=capacity,
            ready=True,
        )

    pid = {p: 100_000 + k for k, p in enumerate((*plan.mentees, *plan.mentors))}
    mentees = [candidate(p, pid[p], 1) for p in plan.mentees]
    for c, p in zip(mentees, plan.mentees, strict=True):
        c.rankings = tuple(pid[r] for r in plan.rankings.get(p, ()))
    mentors = [candidate(p, pid[p], plan.capacity[p]) for p in plan.mentors]
    rules = Rules(
        seniority_gap=1,
        allow_peer=False,
        no_shared_manager=True,
        min_overlap_minutes=60,
        reference_date=reference,
        forbidden={(pid[e], pid[o]) for e, o in plan.forbidden},
        previous={frozenset((e + 1, o + 1)) for e, o in plan.previous},
        allow_repeat=False,
        pins=[(pid[e], pid[o]) for e, o in plan.pins],
    )
    managers = {p.index + 1: (p.manager + 1 if p.manager is not None else None) for p in plan.people}
    return MatchInput(
        mentees=mentees, mentors=mentors, managers=managers, rules=rules, weights=Weights(), uses_choice=True
    )


def scenario_b(seed: int, mode: str, size: int = 10_000) -> None:
    from bot.matching.load import topic_labels
    from bot.matching.run import run_matching

    rng = random.Random(seed)
    people = organisation(3 * size, rng)
    plan = programme(
        people,
        mentees=size,
        mentors=size,
        max_capacity=1,
        rng=rng,
        forbidden=size // 2,
        previous=size * 3 // 10,
        pins=25,
        ranking_share=0.3,
    )
    data = match_input(plan, date.today() + timedelta(days=30))
    del people
    depth = max(p.depth for p in plan.people)
    print(
        f"Scenario B: {len(data.mentees)} mentees and {len(data.mentors)} mentors one-to-one in an organisation "
        f"of {len(plan.people)} ({depth + 1} levels deep), {len(plan.forbidden)} forbidden pairs, "
        f"{len(plan.previous)} earlier-cohort pairs, {len(plan.pins)} pins; every hard rule on; mode {mode}; "
        "built in memory as a MatchInput (no store, so no load_input)",
        flush=True,
    )
    full = size >= 10_000  # the goals are set for 10,000 x 10,000; smaller sizes only show the trend
    gc.collect()
    before = current_rss()
    cpu_before = cpu_seconds()
    try:
        result = run_matching(data, mode, 1, topic_labels())  # type: ignore[arg-type]
    except MemoryError:
        line("run_matching", "MemoryError", f"(address space capped; RSS high-water {max_rss() / GIB:.2f} GiB)")
        line("goal: end to end <= 60 s and <= 2 GiB", "MISSED")
        return
    cpu_after = cpu_seconds()
    peak = max_rss()
    end_to_end = report_run(result, None, data, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]))
    line("RSS before run_matching (input built)", f"{before / GIB:.2f} GiB")
    line("peak RSS through run_matching", f"{peak / GIB:.2f} GiB", "(ru_maxrss of this child process)")
    if full:
        line("goal: peak memory <= 2 GiB", "met" if peak <= 2 * GIB else "MISSED")
    del result
    try:
        compare(end_to_end, data, 60.0 if full else None)
    except MemoryError:
        line("bare linear_sum_assignment", "MemoryError", "(building the cost matrix under the address-space cap)")


# ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["a", "b", "all"], default="all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", choices=["optimal", "stable", "random"], default="optimal")
    parser.add_argument("--memory-cap", type=float, default=12.0, help="address-space cap per scenario, GiB")
    parser.add_argument("--repeat", type=int, default=3, help="scenario A: runs in the same process (first is cold)")
    parser.add_argument("--b-size", type=int, default=10_000, help="mentees (and mentors) in scenario B")
    parser.add_argument("--in-process", action="store_true", help="run the one scenario here (used by the parent)")
    args = parser.parse_args()
    if args.in_process:
        if args.memory_cap > 0:
            cap = int(args.memory_cap * GIB)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        if args.scenario == "a":
            scenario_a(args.seed, args.mode, args.repeat)
        else:
            scenario_b(args.seed, args.mode, args.b_size)
        return
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, scipy {__import__('scipy').__version__}; seed {args.seed}; "
        f"load average {load_average()}",
        flush=True,
    )
    for scenario in ["a", "b"] if args.scenario == "all" else [args.scenario]:
        code = subprocess.call(
            [
                sys.executable,
                __file__,
                "--scenario",
                scenario,
                "--seed",
                str(args.seed),
                "--mode",
                args.mode,
                "--memory-cap",
                str(args.memory_cap),
                "--b-size",
                str(args.b_size),
                "--repeat",
                str(args.repeat),
                "--in-process",
            ]
        )
        if code:
            print(f"scenario {scenario}: child process exited with {code}", flush=True)


if __name__ == "__main__":
    main()

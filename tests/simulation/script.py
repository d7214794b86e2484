"""One term as a coordinator runs it, day by day, with people acting by their behaviour profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.wording import unescape
from simulation import organisation
from simulation.behaviours import draw
from simulation.invariants import daily, questionnaires, reconcile
from simulation.log import TermLog
from simulation.term import Simulation

K = 5


@dataclass
class Plan:
    """What happens to whom, and when, drawn from the behaviours when the term is set up."""

    pausers: dict[str, date]
    supporters: dict[str, date]
    forgetters: dict[str, date]
    leavers: dict[str, date]


def invite(sim: Simulation, emails: list[str], role: str) -> None:
    for start in range(0, len(emails), 10):
        batch = emails[start : start + 10]
        sim.act(sim.org.coordinator, f"invite {' '.join(batch)} as {role}")
        for email in batch:
            sim.log.roles[email] = role


def coordinator_answers(sim: Simulation, replies: list, answers: dict[str, str]) -> None:  # type: ignore[type-arg]
    """Answer a guided setup (program new, clone) step by step, from ``answers`` by step id."""
    for _ in range(30):
        questions = [m for m in replies if m.question is not None]
        if not questions:
            return
        step = questions[-1].question.id
        replies = sim.act(
            sim.org.coordinator, answers.get(step, "yes" if questions[-1].question.kind == "yes_no" else "skip")
        )


def choose_people(sim: Simulation, returning: list[str]) -> tuple[list[str], list[str]]:
    """Mentors among the juniors, mentees among the seniors; the CEO is always invited (nobody fits her)."""
    available = [m for m in sim.org.members if m.email not in sim.gone and m.email != sim.org.coordinator]
    seniors = [m.email for m in available if m.seniority >= organisation.LEVELS["manager"]]
    juniors = [m.email for m in available if m.seniority == organisation.LEVELS["junior"]]
    sim.rng.shuffle(seniors)
    sim.rng.shuffle(juniors)
    count = max(12, len(sim.org.members) // 4)
    mentees = [sim.org.ceo] + [e for e in seniors if e != sim.org.ceo][: count - 1]
    mentors = juniors[: count - 2]
    return mentors, mentees


def play_term(sim: Simulation, number: int, starts: date, ends: date, clone_from: str = "") -> TermLog:
    """Set up (or clone), recruit, match, meet, measure and report one term; returns its log."""
    sim.log = TermLog(started=sim.now)
    sim.term = (starts, ends)
    coordinator = sim.org.coordinator
    name = f"Cohort {number}"
    if clone_from:
        replies = sim.act(coordinator, f"program clone {name} --starts {starts.isoformat()} --ends {ends.isoformat()}")
        coordinator_answers(
            sim, replies, {"use_suggested": "no", "starts_on": starts.isoformat(), "ends_on": ends.isoformat()}
        )
    else:
        replies = sim.act(coordinator, "program new")
        coordinator_answers(
            sim,
            replies,
            {
                "name": name, "focus": "1", "goal_metric": "self-rated digital confidence", "goal_baseline": "5",
                "goal_target": "7", "goal_date": (ends + timedelta(days=90)).isoformat(),
                "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "cadence": "2w",
                "session_minutes": "45", "expectations": "skip", "confirm": "yes",
            },
        )  # fmt: skip
    for setting in (f"starts {starts}", f"ends {ends}", "mentor-capacity 2", "group-sessions yes"):
        sim.act(coordinator, f"program edit {setting}")
    off = starts + timedelta(days=40)
    sim.non_working = {off + timedelta(days=i) for i in range(5)}
    reply = " ".join(
        unescape(m.text)
        for m in sim.act(coordinator, f"program edit non-working-days {off}..{off + timedelta(days=4)}")
    )
    if "non-working" not in reply.lower() or "not" in reply.lower().split("non-working")[0]:
        sim.log.violate(
            "sessions inside term, hours and working days",
            sim.day,
            coordinator,
            f"could not set non-working days: {reply[:160]}",
        )
    mentors, mentees = choose_people(sim, [])
    for email in mentors + mentees:
        sim.behaviour[email] = draw(sim.profiles, sim.rng)
    plan = _plan(sim, mentors + mentees, starts, ends)
    invite(sim, mentors, "mentor")
    invite(sim, mentees, "mentee")

    def each_day(today: date) -> None:
        _scripted(sim, today, starts, plan)
        daily(sim)

    sim.until(
        datetime.combine(starts - timedelta(days=2), datetime.min.time(), tzinfo=sim.now.tzinfo) + timedelta(hours=9),
        each_day,
    )
    sim.act(coordinator, "match preview")
    sim.act(coordinator, "match publish")
    sim.until(
        datetime.combine(ends + timedelta(days=7), datetime.min.time(), tzinfo=sim.now.tzinfo) + timedelta(hours=12),
        each_day,
    )
    questionnaires(sim)
    report = sim.act(coordinator, "report")
    text = "\n".join(unescape(m.text) for m in report)
    sim.log.events["report"] = 1
    reconcile(sim, text, K)
    sim.act(coordinator, "program close")
    sim.terms.append(sim.log)
    return sim.log


def _plan(sim: Simulation, people: list[str], starts: date, ends: date) -> Plan:
    span = max((ends - starts).days - 28, 8)

    def pick(field: str) -> dict[str, date]:
        chosen = {}
        for email in people:
            if sim.rng.random() < getattr(sim.behaviour[email], field):
                chosen[email] = starts + timedelta(days=7 + sim.rng.randrange(span))
        return chosen

    return Plan(pick("pause"), pick("support"), pick("forget"), pick("leave"))


def _scripted(sim: Simulation, today: date, starts: date, plan: Plan) -> None:
    """The day's planned events: people pause, ask for support, forget themselves, leave; the coordinator acts."""
    coordinator = sim.org.coordinator
    for email, day in plan.pausers.items():
        if email in sim.gone:
            continue
        if day == today and email in sim.log.consented:
            sim.act(email, "pause")
            message = next(
                (m for m in reversed(sim.chat.received(email)) if any(c.action == "pause.confirm" for c in m.choices)),
                None,
            )
            if message:
                sim.press(email, message, "pause.confirm", "pause")
                sim.log.paused[email] = sim.now
                sim.stop(email, "participant pause", pause=True)
        if email in sim.log.paused and today == day + timedelta(days=sim.behaviour[email].pause_days):
            del sim.log.paused[email]
            sim.act(email, "pause")
            message = next(
                (m for m in reversed(sim.chat.received(email)) if any(c.action == "pause.confirm" for c in m.choices)),
                None,
            )
            if message:
                sim.press(email, message, "pause.confirm", "resume")
            sim.resume(email)
    for email, day in plan.supporters.items():
        if day == today and email in sim.log.consented and email not in sim.gone:
            replies = sim.act(email, "support")
            menu = next((m for m in replies if any(c.action == "support.pick" for c in m.choices)), None)
            if menu is not None:
                sim.press(email, menu, "support.pick", "talk")
    for email, day in plan.forgetters.items():
        if day == today and email not in sim.gone:
            replies = sim.act(email, "forget-me")
            question = next((m for m in replies if any(c.action == "privacy.forget" for c in m.choices)), None)
            if question is None:
                sim.log.violate("simulator answers", sim.day, email, "forget-me asked no question")
                continue
            sim.log.forgotten[email] = sim.now
            sim.stop(email, "forget-me")
            sim.press(email, question, "privacy.forget", "yes")
            sim.gone.add(email)
    leaving = [e for e, day in plan.leavers.items() if day == today and e not in sim.gone]
    if leaving:
        for email in leaving:
            sim.log.left[email] = sim.now
            sim.stop(email, "left the organisation")
            sim.gone.add(email)
        gone = {e for e in sim.gone if e in sim.members}
        organisation.load(sim.store, sim.tenant_id, sim.org, without=gone - set(sim.log.forgotten))
        sim.flush()
    live = [c for c in sim.log.circles.values() if c.ended_at is None and not c.paused]
    mentees = sorted(e for c in live for e in c.members if sim.log.roles.get(e) == "mentee" and e not in sim.gone)
    if today == starts + timedelta(days=14) and mentees:
        target = mentees[0]
        sim.log.events["pair paused"] = 1
        sim.pair_paused = target  # type: ignore[attr-defined]
        said = " ".join(m.text for m in sim.act(coordinator, f"pair pause {target}"))
        if "is paused" not in said:
            sim.log.violate("coordinator commands work", sim.day, coordinator, f"pair pause {target}: {said[:200]!r}")
        sim.stop(target, "pair pause", pause=True)
    if today == starts + timedelta(days=28) and getattr(sim, "pair_paused", None):
        target = sim.pair_paused  # type: ignore[attr-defined]
        sim.act(coordinator, f"pair resume {target}")
        sim.resume(target)
    if today == starts + timedelta(days=21) and len(mentees) > 1:
        target = mentees[-1]
        replies = sim.act(coordinator, f"rematch {target}")
        sim.stop(target, "rematch")
        for message in replies:
            primary = [c for c in message.choices if c.style == "primary"]
            if primary:
                sim.act(coordinator, choice=primary[0])
                break
    if today.weekday() == 0:
        sim.act(coordinator, "status")

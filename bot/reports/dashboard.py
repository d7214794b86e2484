"""The dashboard: one person's view of what they take part in and what they run, as neutral data.

:func:`build_dashboard` reads it in a unit of work; :func:`dashboard_message` turns it into a neutral
message (text, facts and buttons that run commands). Slack shows it as the App Home, Teams as a card
(the ``dashboard`` command), the console as text: each adapter renders the same message.
Participants see their own pair (partner, next session, topic); coordinators see programme health,
never the content of a pair's sessions, and pulse figures only under the anonymity rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.commands.registry import RUN_COMMAND_ACTION, Registry
from bot.domain import ParticipantStatus, Person, Programme
from bot.model import Address, Choice, OutgoingMessage, Section
from bot.ports import UnitOfWork
from bot.reports.health import Health, programme_health
from bot.sessions.agenda import library_for
from bot.sessions.circles import Circle, circles_of_person
from bot.sessions.model import SessionStatus
from bot.sessions.slots import local_moment
from bot.wording import escape, say

PAIRED_VERBS = ("next", "agenda", "goals", "feedback", "support")
UNPAIRED_VERBS = ("join", "help")
PROGRAMMES_SHOWN = 10
COORDINATOR_BUTTONS_FOR = 2


@dataclass
class Taking:
    """A programme the person takes part in, and where their pair stands."""

    programme: Programme
    role: str
    status: str
    partners: list[str] = field(default_factory=list)
    next_session: str = ""
    scheduling: bool = False
    topic: str = ""
    framework: str = ""
    open_actions: int = 0
    goals: int = 0
    goals_done: int = 0


@dataclass
class Running:
    """A programme the person coordinates, with its health."""

    programme: Programme
    health: Health


@dataclass
class Dashboard:
    name: str
    time_zone: str
    taking: list[Taking]
    running: list[Running]
    quick: list[str]
    """Verbs (anyone's) offered as buttons."""
    waiting: list[str] = field(default_factory=list)
    """The questionnaires waiting for the person, in the order they will open."""


def _pair_view(uow: UnitOfWork, item: Taking, circle: Circle, person: Person, now: datetime) -> None:
    item.partners = [other.name for other in circle.others(person.id)]
    item.scheduling = any(pair.scheduling for pair in circle.pairs)
    sessions = uow.sessions.of_circle(circle.key)
    upcoming = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
    held = [s for s in sessions if s.status == SessionStatus.HELD]
    if upcoming:
        session = upcoming[0]
        item.next_session = local_moment(session.starts_at, person.time_zone)
        library = library_for(circle)
        topic = library.topics.get(session.topic_id or "")
        framework = library.frameworks.get(session.framework_id or "")
        item.topic, item.framework = (topic.title if topic else ""), (framework.name if framework else "")
    item.open_actions = len(held[-1].action_items) if held else 0
    goals = [goal for pair in circle.pairs for goal in pair.goals]
    item.goals, item.goals_done = len(goals), sum(1 for goal in goals if goal.get("done"))


def build_dashboard(uow: UnitOfWork, person: Person, registry: Registry, now: datetime) -> Dashboard:
    """Everything the dashboard shows for ``person``, read (and, for aggregates, released) in ``uow``."""
    circles = {c.programme.id: c for c in circles_of_person(uow, person.id, person.tenant_id)}
    taking = []
    for participant in uow.participants.of_person(person.id):
        programme = uow.programmes.get(participant.programme_id)
        if programme is None or programme.tenant_id != person.tenant_id:
            continue
        item = Taking(programme=programme, role=participant.role.value, status=participant.status.value)
        circle = circles.get(programme.id)
        if circle is not None and participant.status == ParticipantStatus.ACTIVE:
            _pair_view(uow, item, circle, person, now)
        taking.append(item)
    running = []
    for programme_id in uow.coordinators.programmes_of(person.id):
        programme = uow.programmes.get(programme_id)
        if programme is not None and programme.tenant_id == person.tenant_id:
            running.append(Running(programme=programme, health=programme_health(uow, programme, now)))
    wanted = PAIRED_VERBS if any(item.partners for item in taking) else UNPAIRED_VERBS
    quick = [name for name in wanted if (verb := registry.lookup(name)) is not None and verb.who == "anyone"]
    waiting = [str(entry.get("label", "")) for entry in uow.conversations.load(person.tenant_id, person.id).waiting]
    if waiting and registry.lookup("todo") is not None:
        quick = ["todo", *quick]
    return Dashboard(
        name=person.name, time_zone=person.time_zone, taking=taking, running=running, quick=quick, waiting=waiting
    )


def _taking_section(item: Taking) -> Section:
    facts = [(say("dashboard.role"), say("dashboard.role_value", role=item.role, status=item.status))]
    if item.partners:
        facts.append((say("dashboard.partner"), ", ".join(escape(name) for name in item.partners)))
        facts.append(
            (
                say("dashboard.next_session"),
                item.next_session or say("dashboard.being_scheduled" if item.scheduling else "dashboard.not_scheduled"),
            )
        )
        if item.topic:
            facts.append(
                (say("dashboard.topic"), say("dashboard.topic_value", topic=item.topic, framework=item.framework))
            )
        facts.append(
            (
                say("dashboard.follow_through"),
                say(
                    "dashboard.follow_through_value", actions=item.open_actions, goals=item.goals, done=item.goals_done
                ),
            )
        )
    if item.programme.goal_metric:
        facts.append((say("dashboard.programme_goal"), escape(item.programme.goal_metric)))
    return Section(text=say("dashboard.programme", programme=item.programme), fields=facts)


def _running_section(item: Running) -> Section:
    health = item.health
    return Section(
        text=say("dashboard.running", programme=item.programme),
        fields=[
            (say("dashboard.people"), say("dashboard.people_value", h=health)),
            (say("dashboard.matched"), say("dashboard.matched_value", h=health)),
            (say("dashboard.sessions"), say("dashboard.sessions_value", h=health)),
            (say("dashboard.pulse"), say("dashboard.pulse_value", h=health)),
        ],
    )


def dashboard_message(board: Dashboard, tenant_id: int, person_id: int, key: str) -> OutgoingMessage:
    """The dashboard as a neutral message: a section per programme and buttons that run commands."""
    sections: list[Section] = []
    if board.waiting:
        sections.append(Section(text=say("dashboard.waiting", count=len(board.waiting), labels=board.waiting)))
    if board.taking:
        sections.append(Section(text=say("dashboard.your_programmes")))
        sections += [_taking_section(item) for item in board.taking[:PROGRAMMES_SHOWN]]
    if board.running:
        sections.append(Section(text=say("dashboard.coordinating")))
        sections += [_running_section(item) for item in board.running[:PROGRAMMES_SHOWN]]
    context = []
    hidden = max(0, len(board.taking) - PROGRAMMES_SHOWN) + max(0, len(board.running) - PROGRAMMES_SHOWN)
    if hidden:
        context.append(say("dashboard.more_programmes", count=hidden))
    choices = [
        Choice(label=say("dashboard.quick_label", verb=verb), action=RUN_COMMAND_ACTION, value=verb)
        for verb in board.quick
    ]
    for item in board.running[:COORDINATOR_BUTTONS_FOR]:
        for verb in ("status", "report"):
            choices.append(
                Choice(
                    label=say("dashboard.coordinator_label", verb=verb, programme=item.programme),
                    action=RUN_COMMAND_ACTION,
                    value=f"{verb} --program {item.programme.slug}",
                )
            )
    context.append(say("dashboard.privacy", coordinating=bool(board.running)))
    return OutgoingMessage(
        tenant_id=tenant_id,
        to=Address.person(person_id),
        idempotency_key=key,
        text=say("dashboard.title", name=board.name, taking=bool(board.taking), running=bool(board.running)),
        sections=sections,
        choices=choices,
        context=context,
    )

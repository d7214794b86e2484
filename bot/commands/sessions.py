"""``next``, ``reschedule``, ``agenda``, ``goals`` and ``resources``, plus picking a time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError
from bot.model import Action, Section
from bot.sessions import agenda as agendas
from bot.sessions import followup
from bot.sessions.circles import Circle, circle_by_key, circle_now, circles_of_person
from bot.sessions.model import NewResource, Session, SessionStatus
from bot.sessions.scheduling import OTHER_ACTION, PICK_ACTION, offer_slots, pick
from bot.sessions.slots import local_label, parse_local_time
from bot.values import ValueProblem
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

PROPOSE_FLOW = "propose_time"


def _my_circle(turn: Turn) -> Circle:
    circles = circles_of_person(turn.uow, turn.me.id, turn.tenant.id)
    if not circles:
        raise CommandError("sessions.no_pair")
    return circles[0]


def _next(turn: Turn, circle: Circle) -> Session:
    upcoming = followup.next_session(turn, circle)
    if upcoming is None:
        raise CommandError("sessions.nothing_scheduled")
    return upcoming


def _mine(turn: Turn, session_id: str) -> tuple[Session, Circle]:
    session = turn.uow.sessions.get(int(session_id)) if session_id.isdigit() else None
    circle = circle_by_key(turn.uow, session.circle) if session else None
    if session is None or circle is None or turn.me.id not in {m.person_id for m in circle.members}:
        raise CommandError("sessions.not_your_session")
    return session, circle


def install(engine: Engine) -> None:
    registry = engine.registry
    followup.install(engine)

    @registry.handles("next")
    def next_(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        circle = _my_circle(turn)
        if circle.pairs[0].scheduling:
            turn.reply(say("sessions.still_agreeing", others=[o.name for o in circle.others(turn.me.id)]))
            return
        session = agendas.plan(turn, circle, _next(turn, circle))
        facts = agendas.agenda_facts(turn, circle, session)
        turn.reply(
            say(
                "sessions.next",
                others=[o.name for o in circle.others(turn.me.id)],
                when=local_label(session.starts_at, turn.me.time_zone),
                mentor=circle.mentor.person_id == turn.me.id,
                **facts,
            )
        )

    @registry.handles("reschedule")
    def reschedule(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        circle = _my_circle(turn)
        session = _next(turn, circle)
        if not offer_slots(turn, circle, session, asked_by=turn.me.id):
            turn.reply(say("sessions.no_common_time", others=[o.name for o in circle.others(turn.me.id)]))

    @registry.handles("agenda")
    def agenda(turn: Turn, args: Args, _programme: Programme | None) -> None:
        circle = _my_circle(turn)
        session = agendas.plan(turn, circle, _next(turn, circle))
        what = args.words[0].lower() if args.words else "view"
        if what == "add":
            text = " ".join(args.words[1:]).strip()
            if not 3 <= len(text) <= 300:
                raise CommandError("sessions.agenda_add_usage")
            session.agenda_items = [*session.agenda_items, {"text": text, "by": turn.me.name}]
            turn.uow.sessions.save(session)
            turn.reply(say("sessions.agenda_added", text=text, when=local_label(session.starts_at, turn.me.time_zone)))
        elif what == "swap":
            turn.reply(say("sessions.swap_pick"), choices=agendas.swap_choices(turn, circle, session))
        elif what == "view":
            facts = agendas.agenda_facts(turn, circle, session)
            turn.reply(
                say(
                    "sessions.agenda",
                    mentees=[circle.person(m).name for m in circle.mentees],
                    when=local_label(session.starts_at, turn.me.time_zone),
                    programme=circle.programme,
                    **facts,
                ),
                sections=[Section(text=say("sessions.plan_line", minutes=m, step=n)) for n, m in facts["plan"]],
            )
        else:
            raise CommandError("sessions.agenda_usage")

    @engine.on_action(agendas.SWAP_ACTION)
    def swap(turn: Turn, action: Action) -> None:
        session, circle = _mine(turn, action.value)
        turn.reply(say("sessions.swap_pick"), choices=agendas.swap_choices(turn, circle, session))

    @engine.on_action(agendas.TOPIC_ACTION)
    def choose_topic(turn: Turn, action: Action) -> None:
        session_id, _, topic_id = action.value.partition(":")
        session, circle = _mine(turn, session_id)
        library = agendas.library_for(circle)
        if topic_id not in library.topics or session.status != SessionStatus.SCHEDULED:
            raise CommandError("sessions.not_your_session")
        session.topic_id = topic_id
        turn.uow.sessions.save(session)
        turn.reply(say("sessions.topic_swapped", title=library.topics[topic_id].title))

    @registry.handles("goals")
    def goals(turn: Turn, args: Args, _programme: Programme | None) -> None:
        circle = _my_circle(turn)
        if args.words and args.words[0].lower() == "add":
            text = " ".join(args.words[1:]).strip()
            if not 10 <= len(text) <= 300:
                raise CommandError("sessions.goals_usage")
            for pair in circle.pairs:
                pair.goals = [*pair.goals, {"text": text, "by": turn.me.id, "done": False}]
                turn.uow.matching.save_pair(pair)
            turn.reply(say("sessions.goals_saved", count=1))
            return
        if args.words and args.words[0].lower() == "done" and len(args.words) == 2 and args.words[1].isdigit():
            number = int(args.words[1])
            if not 1 <= number <= len(circle.pairs[0].goals):
                raise CommandError("sessions.goals_usage")
            for pair in circle.pairs:
                pair.goals = [{**g, "done": True} if i == number - 1 else g for i, g in enumerate(pair.goals)]
                turn.uow.matching.save_pair(pair)
        turn.reply(
            say("sessions.goals", goals=circle.pairs[0].goals, others=[o.name for o in circle.others(turn.me.id)])
        )

    registry.handles("resources add")(_add_resource)

    @registry.handles("resources")
    def resources(turn: Turn, args: Args, _programme: Programme | None) -> None:
        tag = args.words[0].lower() if args.words else None
        listed = []
        for participant in turn.uow.participants.of_person(turn.me.id):
            for resource in turn.uow.sessions.resources(participant.programme_id):
                if resource.role in ("both", participant.role.value) and (tag is None or tag in resource.tags):
                    listed.append(resource)
        for programme_id in turn.uow.coordinators.programmes_of(turn.me.id):
            listed += [
                r
                for r in turn.uow.sessions.resources(programme_id)
                if (tag is None or tag in r.tags) and r not in listed
            ]
        turn.reply(say("sessions.resources", resources=listed, tag=tag))

    @engine.on_action(PICK_ACTION)
    def pick_action(turn: Turn, action: Action) -> None:
        key, _, when = action.value.partition("|")
        circle = circle_by_key(turn.uow, key)
        if circle is None or turn.me.id not in {m.person_id for m in circle.members}:
            raise CommandError("sessions.not_your_session")
        pick(turn, circle, datetime.fromisoformat(when))

    @engine.on_action(OTHER_ACTION)
    def other_action(turn: Turn, action: Action) -> None:
        circle = circle_by_key(turn.uow, action.value)
        if circle is None or turn.me.id not in {m.person_id for m in circle.members}:
            raise CommandError("sessions.not_your_session")
        engine.flows.start(
            turn, PROPOSE_FLOW, {"key": f"propose-{circle.key}", "circle": circle.key, "zone": turn.me.time_zone}
        )

    def check_time(turn: Turn, value: Any, _answers: dict[str, Any]) -> None:
        if parse_local_time(str(value), turn.me.time_zone) is None:
            raise ValueProblem("sessions.bad_time", given=value, zone=turn.me.time_zone)

    def proposed(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        circle = circle_now(turn.uow, context["circle"], turn.me.id, turn.tenant.id)
        if circle is None:
            raise CommandError("sessions.not_your_session")
        when = parse_local_time(answers["when"], turn.me.time_zone)
        assert when is not None
        pick(turn, circle, when)

    engine.flows.register(PROPOSE_FLOW, proposed, checks={"local_time": check_time})


def _add_resource(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``resources add TITLE URL [--tags a;b] [--role mentor|mentee|both]``: coordinators only."""
    assert programme is not None
    words = args.words
    url = words[-1] if words else ""
    if len(words) < 2 or not url.startswith(("https://", "http://")) or any(c in url for c in " ()<>[]\"'`"):
        raise CommandError("sessions.resources_usage")
    role = args.options.get("role", "both").lower()
    if role not in ("both", "mentor", "mentee"):
        raise CommandError("people.bad_role", given=role)
    title = " ".join(words[:-1]).strip()
    if not 3 <= len(title) <= 200 or len(words[-1]) > 1000:
        raise CommandError("sessions.resources_usage")
    tags = [t.strip().lower() for t in args.options.get("tags", "").split(";") if t.strip()]
    resource = turn.uow.sessions.add_resource(
        NewResource(programme_id=programme.id, title=title, url=words[-1], tags=tags, role=role, added_by=turn.me.id)
    )
    turn.reply(say("sessions.resource_added", resource=resource, programme=programme))

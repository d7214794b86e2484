"""``next``, ``reschedule``, ``agenda``, ``goals`` and ``resources``, and the sessions' buttons: picking or
proposing a time, swapping the agenda's topic, saying what happened, keeping or moving the next session.

Each handler parses, calls :class:`~bot.services.sessions.SessionsService` and renders its result."""

from __future__ import annotations

from typing import Any

from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Programme
from bot.errors import CommandError, Outdated
from bot.group_chats import circle_for
from bot.handling import Handling, OnAction, OnCommand, OnFlow
from bot.model import Action, Section
from bot.services.sessions import SessionsService
from bot.sessions import agenda as agendas
from bot.sessions.buttons import (
    NEXT_ACTION,
    OTHER_ACTION,
    OUTCOME_ACTION,
    PICK_ACTION,
    SWAP_ACTION,
    TOPIC_ACTION,
    AgendaSwapValue,
    AgendaTopicValue,
    NextSessionValue,
    OutcomeValue,
    SlotOtherValue,
    SlotPickValue,
)
from bot.sessions.followup import ACTION_ITEMS_FLOW, GOALS_FLOW, offer_next, pulse
from bot.sessions.slots import local_moment, parse_local_time
from bot.values import ValueProblem
from bot.wording import say

PROPOSE_FLOW = "propose_time"


# -- verbs ----------------------------------------------------------------------------------------


def next_(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``next``: the next session and its agenda; in the pair's group chat, the pair's version."""
    service = SessionsService.of(turn.uow)
    circle = circle_for(turn, service)
    others = [o.name for o in circle.others(turn.me.id)]
    together = turn.answer_to is not None  # read by all of them: nothing that depends on who typed it
    if circle.pairs[0].scheduling:
        turn.reply(say("sessions.still_agreeing_together" if together else "sessions.still_agreeing", others=others))
        return
    session = agendas.plan(turn, circle, service.coming(circle, turn.now))
    facts = agendas.agenda_facts(turn, circle, session)
    join = session.calendar_event.get("join_url", "")  # the meeting the calendar event has, when there is one
    if together:
        names = [circle.person(member).name for member in circle.members]
        when = local_moment(session.starts_at, session.anchor_time_zone)
        turn.reply(say("sessions.next_together", names=names, when=when, join=join, **_shared(facts)))
        return
    when = local_moment(session.starts_at, turn.me.time_zone)
    mentor = circle.mentor.person_id == turn.me.id
    turn.reply(say("sessions.next", others=others, when=when, mentor=mentor, join=join, **facts))


def _shared(facts: dict[str, Any]) -> dict[str, Any]:
    """Of an agenda's facts, those every member is shown in their own messages (the mentee's preparation names
    the topic and the items on the agenda; the framework, questions and activity are the mentor's plan)."""
    return {"first": facts["first"], "topic": facts["topic"], "items": facts["items"]}


def reschedule(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``reschedule``: other times for the next session."""
    service = SessionsService.of(turn.uow)
    circle = circle_for(turn, service)
    if not service.move(turn, circle, service.coming(circle, turn.now)):
        turn.reply(say("sessions.no_common_time", others=[o.name for o in circle.others(turn.me.id)]))


def agenda(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``agenda [add ITEM | swap]``: the next session's agenda."""
    service = SessionsService.of(turn.uow)
    circle = circle_for(turn, service)
    session = agendas.plan(turn, circle, service.coming(circle, turn.now))
    what = args.words[0].lower() if args.words else "view"
    when = local_moment(session.starts_at, turn.me.time_zone)
    if what == "add":
        session = service.add_agenda_item(session, " ".join(args.words[1:]), by=turn.me.name)
        turn.reply(say("sessions.agenda_added", text=session.agenda_items[-1]["text"], when=when))
    elif what == "swap":
        turn.reply(say("sessions.swap_pick"), choices=agendas.swap_choices(turn, circle, session))
    elif what == "view":
        facts = agendas.agenda_facts(turn, circle, session)
        mentees = [circle.person(m).name for m in circle.mentees]
        turn.reply(
            say("sessions.agenda", mentees=mentees, when=when, programme=circle.programme, **facts),
            sections=[Section(text=say("sessions.plan_line", minutes=m, step=n)) for n, m in facts["plan"]],
        )
    else:
        raise CommandError("sessions.agenda_usage")


def goals(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``goals [add TEXT | done N]``: the goals the circle agreed."""
    service = SessionsService.of(turn.uow)
    circle = circle_for(turn, service)
    what = args.words[0].lower() if args.words else ""
    if what == "add":
        service.add_goal(circle, " ".join(args.words[1:]), by=turn.me.id)
        turn.reply(say("sessions.goals_saved", count=1))
        return
    if what == "done" and len(args.words) == 2 and args.words[1].isdecimal():
        service.finish_goal(circle, int(args.words[1]))
    if turn.answer_to is not None:  # in the pair's group chat: the same answer whoever of them asks
        others = [circle.person(member).name for member in circle.members]
    else:
        others = [o.name for o in circle.others(turn.me.id)]
    turn.reply(say("sessions.goals", goals=circle.pairs[0].goals, others=others))


def resources(turn: Turn, args: Args, _programme: Programme | None) -> None:
    """``resources [TAG]``: the guides and links this person sees."""
    tag = args.words[0].lower() if args.words else None
    listed = SessionsService.of(turn.uow).resources_for(turn.me.id, tag)
    turn.reply(say("sessions.resources", resources=listed, tag=tag))


def add_resource(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``resources add TITLE URL [--tags a;b] [--role mentor|mentee|both]``: coordinators only."""
    assert programme is not None
    words = args.words
    tags = [t.strip().lower() for t in args.options.get("tags", "").split(";") if t.strip()]
    resource = SessionsService.of(turn.uow).add_resource(
        programme,
        title=" ".join(words[:-1]),
        url=words[-1] if words else "",
        tags=tags,
        role=args.options.get("role", "both").lower(),
        added_by=turn.me.id,
    )
    turn.reply(say("sessions.resource_added", resource=resource, programme=programme))


# -- buttons --------------------------------------------------------------------------------------


def swap(turn: Turn, action: Action) -> None:
    """ "Suggest another topic" under an agenda: three topics to choose from."""
    value = AgendaSwapValue.decode(action.value)
    session, circle = SessionsService.of(turn.uow).upcoming_session(value.session, turn.me.id, turn.now)
    turn.reply(say("sessions.swap_pick"), choices=agendas.swap_choices(turn, circle, session))


def choose_topic(turn: Turn, action: Action) -> None:
    """A topic chosen for the session."""
    value = AgendaTopicValue.decode(action.value)
    topic = SessionsService.of(turn.uow).swap_topic(value.session, value.topic, turn.me.id, turn.now)
    turn.reply(say("sessions.topic_swapped", title=topic.title))


def pick_slot(turn: Turn, action: Action) -> None:
    """A time offered (or proposed by another member) is accepted."""
    value = SlotPickValue.decode(action.value)
    SessionsService.of(turn.uow).pick_time(turn, value.circle, value.at)


def propose_other(turn: Turn, action: Action) -> None:
    """ "Propose another time": the person types one, in their own time zone."""
    value = SlotOtherValue.decode(action.value)
    circle = SessionsService.of(turn.uow).member_circle(value.circle, turn.me.id)
    context = {"key": f"propose-{circle.key}", "circle": circle.key, "zone": turn.me.time_zone}
    turn.flows.start(turn, PROPOSE_FLOW, context)


def outcome(turn: Turn, action: Action) -> None:
    """What happened in a session, as one member says: recorded, thanked, then what follows."""
    value = OutcomeValue.decode(action.value)
    service = SessionsService.of(turn.uow)
    session, circle = service.member_session(value.session, turn.me.id)
    recorded = service.record_outcome(circle, session, turn.me, value.answer, turn.now)
    if recorded.repeated:
        raise Outdated("sessions.outcome_already", answer=value.answer)
    key = "sessions.outcome_corrected" if recorded.previous else "sessions.outcome_thanks"
    turn.reply(say(key, answer=value.answer))
    service.follow_outcome(turn, circle, session, recorded)


def next_choice(turn: Turn, action: Action) -> None:
    """The next session: kept as it is, or moved (times offered)."""
    value = NextSessionValue.decode(action.value)
    service = SessionsService.of(turn.uow)
    session, circle = service.member_session(value.session, turn.me.id)
    if value.answer == "keep":
        turn.reply(say("sessions.kept", when=local_moment(session.starts_at, turn.me.time_zone)))
        return
    service.move(turn, circle, session)


# -- questionnaires -------------------------------------------------------------------------------


def check_time(turn: Turn, value: Any, _answers: dict[str, Any]) -> None:
    """A proposed time must read as a time in the person's zone."""
    if parse_local_time(str(value), turn.me.time_zone) is None:
        raise ValueProblem("sessions.bad_time", given=value, zone=turn.me.time_zone)


def proposed(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The time typed in ``propose_time`` is proposed to the circle."""
    when = parse_local_time(answers["when"], turn.me.time_zone)
    assert when is not None  # checked by ``check_time``
    SessionsService.of(turn.uow).propose_time(turn, context["circle"], when)


def save_action_items(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The mentor's action items after a session; then the next session and the pulse."""
    session = SessionsService.of(turn.uow).save_action_items(context["session_id"], answers.get("items") or "")
    turn.reply(say("sessions.action_items_saved", count=len(session.action_items)))
    offer_next(turn, context["circle"], session)
    pulse(turn, context["circle"], session.id)


def save_goals(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The goals set after the first session; then the pulse."""
    service = SessionsService.of(turn.uow)
    circle = service.circle_now(context["circle"], turn.me.id, turn.tenant.id)  # their place may have ended
    goals = [answers[k] for k in ("goal_1", "goal_2") if answers.get(k)]
    service.add_goals(circle, goals, by=turn.me.id)
    turn.reply(say("sessions.goals_saved", count=len(goals)))
    if context.get("session_id"):
        pulse(turn, circle.key, context["session_id"])


HANDLERS: tuple[Handling, ...] = (
    OnCommand("next", next_),
    OnCommand("reschedule", reschedule),
    OnCommand("agenda", agenda),
    OnCommand("goals", goals),
    OnCommand("resources", resources),
    OnCommand("resources add", add_resource),
    OnAction(SWAP_ACTION, swap),
    OnAction(TOPIC_ACTION, choose_topic),
    OnAction(PICK_ACTION, pick_slot),
    OnAction(OTHER_ACTION, propose_other),
    OnAction(OUTCOME_ACTION, outcome),
    OnAction(NEXT_ACTION, next_choice),
    OnFlow(PROPOSE_FLOW, proposed, checks={"local_time": check_time}),
    OnFlow(ACTION_ITEMS_FLOW, save_action_items),
    OnFlow(GOALS_FLOW, save_goals),
)

"""What a session is about: the suggested topic and framework, and the agenda and preparation messages."""

from __future__ import annotations

from typing import Any

from bot.context import Turn
from bot.library import Library, Topic, programme_library
from bot.model import Address, Choice, Section
from bot.sessions.buttons import SWAP_ACTION, TOPIC_ACTION, AgendaSwapValue, AgendaTopicValue
from bot.sessions.circles import Circle
from bot.sessions.model import Session, SessionStatus
from bot.sessions.slots import local_moment
from bot.wording import say

FIRST_FRAMEWORK = "first_session"


def library_for(circle: Circle) -> Library:
    """The shipped library, with the programme's own topics and frameworks added."""
    return programme_library(circle.programme)


def _interests(circle: Circle) -> tuple[set[str], set[str]]:
    learn = {t for m in circle.mentees for t in (m.intake.get("learn_topics") or [])}
    teach = set(circle.mentor.intake.get("teach_topics") or [])
    return learn, teach


def ranked_topics(circle: Circle, sessions: list[Session], library: Library) -> list[Topic]:
    """Topics for the next session, best first: what the mentee wants to learn and the mentor can teach,
    then what the mentee wants, then the programme's focus; topics already covered come last."""
    learn, teach = _interests(circle)
    covered = {s.topic_id for s in sessions if s.status == SessionStatus.HELD and s.topic_id}
    focus = circle.programme.focus.value

    def value(topic: Topic) -> tuple[int, int]:
        tags = set(topic.tags)
        fit = 4 * len(tags & learn & teach) + 2 * len(tags & learn) + len(tags & teach) + (focus in topic.focus)
        return (topic.id not in covered, fit)

    topics = list(library.topics.values())
    return sorted(topics, key=value, reverse=True)


def framework_for(session: Session, library: Library) -> str:
    """The framework of a session: the first session's own, then the others in turn."""
    if session.sequence == 1 and FIRST_FRAMEWORK in library.frameworks:
        return FIRST_FRAMEWORK
    others = sorted(f for f in library.frameworks if f != FIRST_FRAMEWORK)
    return others[(session.sequence - 2) % len(others)] if others else FIRST_FRAMEWORK


def plan(turn: Turn, circle: Circle, session: Session) -> Session:
    """Choose the topic and framework of a session that has none yet."""
    library = library_for(circle)
    changed = False
    if session.topic_id is None and session.sequence > 1:
        session.topic_id = ranked_topics(circle, turn.uow.sessions.of_circle(circle.key), library)[0].id
        changed = True
    if session.framework_id is None:
        session.framework_id = framework_for(session, library)
        changed = True
    return turn.uow.sessions.save(session) if changed else session


def _previous(turn: Turn, circle: Circle, session: Session) -> Session | None:
    earlier = [
        s
        for s in turn.uow.sessions.of_circle(circle.key)
        if s.sequence < session.sequence and s.status == SessionStatus.HELD
    ]
    return earlier[-1] if earlier else None


def agenda_facts(turn: Turn, circle: Circle, session: Session) -> dict[str, Any]:
    """Everything an agenda shows, as data (for the chat message and the platform home views)."""
    library = library_for(circle)
    topic = library.topics.get(session.topic_id or "")
    framework = library.frameworks.get(session.framework_id or "")
    previous = _previous(turn, circle, session)
    tags = set(topic.tags + topic.resources_tags) if topic else set()
    resources = [r for r in turn.uow.sessions.resources(circle.programme.id) if tags & set(r.tags) or not r.tags]
    goals = [g for pair in circle.pairs for g in pair.goals]
    total = len(turn.uow.sessions.of_circle(circle.key))
    return {
        "session": session,
        "topic": topic,
        "framework": framework,
        "plan": framework.time_plan(session.minutes) if framework else [],
        "actions": previous.action_items if previous else [],
        "items": session.agenda_items,
        "goals": goals,
        "resources": resources[:5],
        "first": session.sequence == 1,
        "total": total,
    }


def send_agenda(turn: Turn, circle: Circle, session: Session) -> None:
    """The agenda to the mentor, and a shorter preparation to each mentee."""
    session = plan(turn, circle, session)
    facts = agenda_facts(turn, circle, session)
    mentor = circle.person(circle.mentor)
    mentees = [circle.person(m).name for m in circle.mentees]
    sections = [Section(text=say("sessions.plan_line", minutes=minutes, step=name)) for name, minutes in facts["plan"]]
    turn.message(
        Address.person(mentor.id),
        say(
            "sessions.agenda",
            mentees=mentees,
            when=local_moment(session.starts_at, mentor.time_zone),
            programme=circle.programme,
            **facts,
        ),
        sections=sections[:1] and [Section(text=say("sessions.plan_heading"))] + sections,
        choices=[]
        if facts["first"]
        else [Choice(label=say("sessions.swap_label"), action=SWAP_ACTION, value=AgendaSwapValue(session.id).encode())],
        programme_id=circle.programme.id,
    )
    for mentee in circle.mentees:
        person = circle.person(mentee)
        turn.message(
            Address.person(person.id),
            say("sessions.prep", mentor=mentor.name, when=local_moment(session.starts_at, person.time_zone), **facts),
            programme_id=circle.programme.id,
        )


def swap_choices(turn: Turn, circle: Circle, session: Session) -> list[Choice]:
    """Three other topics the mentor can pick instead."""
    library = library_for(circle)
    options = [
        t for t in ranked_topics(circle, turn.uow.sessions.of_circle(circle.key), library) if t.id != session.topic_id
    ][:3]
    return [
        Choice(label=t.title, action=TOPIC_ACTION, value=AgendaTopicValue(session.id, t.id).encode()) for t in options
    ]

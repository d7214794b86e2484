"""Every topic and framework of the library, as an agenda and a preparation, on every platform."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.console.render import plain, render
from adapters.slack.render import MAX_BLOCKS, render_message
from adapters.teams import cards
from bot.library import load_library
from bot.model import Address, Choice, OutgoingMessage, Section
from bot.sessions.model import Resource, Session
from bot.wording import say
from test_teams_harness import assert_valid_card

LIBRARY = load_library()
FRAMEWORKS = sorted(LIBRARY.frameworks)


def agenda_messages(topic_id: str, framework_id: str) -> list[OutgoingMessage]:
    topic, framework = LIBRARY.topics[topic_id], LIBRARY.frameworks[framework_id]
    session = Session(
        id=1,
        programme_id=1,
        circle="1:2",
        mentor_id=1,
        mentee_ids=[2],
        sequence=3,
        minutes=45,
        starts_at=datetime(2030, 3, 4, 15, 0, tzinfo=UTC),
        anchor_time_zone="Europe/London",
        uid="u@rmbot",
        topic_id=topic_id,
        framework_id=framework_id,
        agenda_items=[{"text": "How do I check an <!channel> summary?", "by": "Lee *Chen*"}],
    )
    facts = {
        "session": session,
        "topic": topic,
        "framework": framework,
        "plan": framework.time_plan(45),
        "actions": ["Lee: try the meeting summary feature"],
        "items": session.agenda_items,
        "goals": [{"text": "Draft every weekly update with an AI assistant by May", "done": False}],
        "resources": [Resource(id=1, programme_id=1, title="Prompt guide", url="https://intranet.example.com/ai")],
        "first": False,
        "total": 12,
    }
    programme = type("P", (), {"name": "Digital 2030"})()
    agenda = say(
        "sessions.agenda", mentees=["Lee Chen"], when="Mon 04 Mar, 15:00 (Europe/London)", programme=programme, **facts
    )
    prep = say("sessions.prep", mentor="Sam Lee", when="Mon 04 Mar, 15:00 (Europe/London)", **facts)
    plan_sections = [Section(text=say("sessions.plan_line", minutes=m, step=name)) for name, m in facts["plan"]]
    return [
        OutgoingMessage(
            tenant_id=1,
            to=Address.person(1),
            idempotency_key=f"a-{topic_id}",
            text=agenda,
            sections=plan_sections,
            choices=[Choice(label=say("sessions.swap_label"), action="agenda.swap", value="1")],
        ),
        OutgoingMessage(tenant_id=1, to=Address.person(2), idempotency_key=f"p-{topic_id}", text=prep),
    ]


@pytest.mark.parametrize("number,topic_id", list(enumerate(sorted(LIBRARY.topics))))
def test_every_topic_and_framework_renders_on_every_platform(number: int, topic_id: str) -> None:
    framework_id = FRAMEWORKS[number % len(FRAMEWORKS)]
    topic, framework = LIBRARY.topics[topic_id], LIBRARY.frameworks[framework_id]
    for message in agenda_messages(topic_id, framework_id):
        console = plain("\n".join(render(message)))
        assert topic.title in console
        for page in render_message(message):  # Block Kit models check every limit in to_dict()
            assert len(page.blocks) <= MAX_BLOCKS
        for card in cards.render(message):
            assert_valid_card(card)
    agenda = plain("\n".join(render(agenda_messages(topic_id, framework_id)[0])))
    assert framework.name in agenda and topic.questions[0] in agenda and topic.activity in agenda
    for name, _minutes in framework.time_plan(45):
        assert name in agenda
    assert "<!channel>" in agenda and "Lee *Chen*" in agenda  # typed text, shown as typed

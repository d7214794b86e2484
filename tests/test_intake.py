"""The intake questionnaire and onboarding, on the sample organisation, through the chat harness."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import OffsetClock
from bot.engine import Engine
from bot.flows.definition import load_flow, parse_flow
from bot.model import Action
from chat import Chat

COORD = "amara.okafor@example.com"
MENTOR = "arjun.mehta@example.com"  # seniority 2, Asia/Kolkata, 10:00-18:30
MENTEE = "daniel.okonkwo@example.com"  # seniority 7, Europe/London
# Sunday 2030-01-06 12:00 UTC: reminders must wait for working hours on Monday.
START = datetime(2030, 1, 6, 12, 0, tzinfo=UTC)

MENTOR_ANSWERS = [
    "yes",
    "1, 3, 11",
    "skip",
    "I want to practise explaining tools",
    "2, 1, 4",
    "3",
    "1",
    "skip",
    "1",
    "1",
    "1",
    "English, Hindi",
    "no",
    "yes",
]
MENTEE_ANSWERS = [
    "yes",
    "1, 2",
    "How to use AI in board papers",
    "Use AI assistants with confidence",
    "1, 2, 3",
    "1",
    "3",
    "2030-03-01",
    "2",
    "2",
    "2",
    "English",
    "yes",
    "2",
    "3",
    "yes",
]


@pytest.fixture
def chat(store) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(store, OffsetClock(start=START))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-01-15", "2030-07-15")
    return chat


def join(chat: Chat, email: str, role: str) -> list[str]:
    chat.send(COORD, f"invite {email} as {role}")
    return chat.press(email, "Yes, I'm in")


def answer_all(chat: Chat, email: str, answers: list[str]) -> list[str]:
    replies: list[str] = []
    for answer in answers:
        replies = chat.send(email, answer)
    return replies


def participant(chat: Chat, email: str):  # type: ignore[no-untyped-def]
    person = chat.person(email)
    with chat.store.unit_of_work() as uow:
        return uow.participants.of_person(person.id)[0]


def test_a_mentor_completes_intake_and_onboarding(chat: Chat) -> None:
    replies = join(chat, MENTOR, "mentor")
    assert "Your intake" in replies[1] and "Software Engineer, Engineering, Bengaluru" in replies[1]
    assert "What could you teach" in chat.send(MENTOR, "yes")[0]
    replies = answer_all(chat, MENTOR, MENTOR_ANSWERS[1:])
    assert "your intake for **Digital 2030** is in" in replies[0]
    assert "Getting ready to mentor" in replies[1]
    stored = participant(chat, MENTOR)
    assert stored.intake["teach_topics"] == ["ai_tools", "collaboration_tools", "content_creation"]
    assert stored.intake["priorities"] == ["perspective", "skills", "feedback"]
    assert "learn_topics" not in stored.intake and "gender" not in stored.intake
    assert stored.intake_completed_at is not None and stored.onboarded_at is None
    for _ in range(4):
        chat.press(MENTOR, chat.received(MENTOR)[-1].choices[0].label)
    assert "You're ready" in chat.press(MENTOR, "I've read this")[0]
    assert participant(chat, MENTOR).onboarded_at is not None
    status = chat.send(COORD, "status")[0]
    assert "intake done 1/1, onboarded 1/1" in status


def test_a_mentee_is_asked_what_to_learn_and_may_answer_the_diversity_questions(chat: Chat) -> None:
    join(chat, MENTEE, "mentee")
    assert "What would you like to learn" in chat.send(MENTEE, "yes")[0]
    chat.send(MENTEE, "1, 2")
    replies = answer_all(chat, MENTEE, MENTEE_ANSWERS[2:])
    assert "is in" in replies[0]
    stored = participant(chat, MENTEE)
    assert stored.intake["learn_topics"] == ["ai_tools", "generative_ai"]
    assert stored.intake["available_from"] == "2030-03-01"
    assert stored.intake["gender"] == "man" and stored.intake["generation"] == "gen_x"
    assert chat.person(MENTEE).gender == "man"


def test_directory_facts_are_confirmed_and_corrections_saved(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    assert "Which time zone" in chat.send(MENTOR, "no")[0]
    assert "'Mars/Base' is not a time zone" in chat.send(MENTOR, "Mars/Base")[0]
    chat.send(MENTOR, "Singapore")
    assert "end comes before the start" in chat.send(MENTOR, "18:00-09:00")[0]
    chat.send(MENTOR, "8:30 to 17:00")
    answer_all(chat, MENTOR, MENTOR_ANSWERS[1:])
    person = chat.person(MENTOR)
    assert (person.time_zone, person.working_hours) == ("Asia/Singapore", "08:30-17:00")


def test_invalid_answers_get_specific_reprompts(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    chat.send(MENTOR, "yes")
    assert "'50' is not one of the options" in chat.send(MENTOR, "1, 50")[0]
    assert "at most 5" in chat.send(MENTOR, "1, 2, 3, 4, 5, 6")[0]
    chat.send(MENTOR, "1")
    chat.send(MENTOR, "skip")
    assert "at least 10 characters" in chat.send(MENTOR, "short")[0]
    assert "keep it to 800 or fewer" in chat.send(MENTOR, "x" * 900)[0]
    chat.send(MENTOR, "   I want to learn to teach   ")
    assert "rank exactly 3" in chat.send(MENTOR, "1, 1, 2")[0]
    chat.send(MENTOR, "1, 2, 3")
    assert "not one of the options" in chat.send(MENTOR, "fortnightly-ish")[0]
    chat.send(MENTOR, "Weekly")
    chat.send(MENTOR, "either")
    assert "not in the future" in chat.send(MENTOR, "2029-12-31")[0]
    assert "not a date I can read" in chat.send(MENTOR, "soon")[0]
    chat.send(MENTOR, "31 Mar 2030")
    assert participant(chat, MENTOR).intake == {}  # nothing is stored on the participant before submit
    with chat.store.unit_of_work() as uow:
        state = uow.conversations.load(chat.person(MENTOR).tenant_id, chat.person(MENTOR).id)
    assert state.answers["goals"] == "I want to learn to teach"  # trimmed
    assert state.answers["available_from"] == "2030-03-31"


def test_cancel_keeps_the_intake_and_another_flow_makes_it_wait_then_it_resumes(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    answer_all(chat, MENTOR, MENTOR_ANSWERS[:4])
    assert "**Your intake**: stopped" in chat.send(MENTOR, "cancel")[0]
    assert "for programme coordinators" in chat.send(MENTOR, "status")[0]  # commands work again
    replies = chat.send(MENTOR, "intake")
    assert "4 answers kept" in replies[0] and "Rank your top 3" in replies[1]
    # A coordinator who is also a participant starts another flow part-way: the intake waits its turn.
    join(chat, "grace.mensah@example.com", "mentee")
    chat.make_tenant_coordinator("grace.mensah@example.com")
    chat.send("grace.mensah@example.com", "yes")
    replies = chat.send("grace.mensah@example.com", "mentoring program new")
    assert "**Your intake**: waits" in replies[0] and "New programme" in replies[1]
    replies = chat.send("grace.mensah@example.com", "cancel")
    assert "1 more short questionnaire waiting: Your intake" in replies[1]
    assert "What would you like to learn" in replies[-1]  # it comes back by itself


def test_a_submitted_intake_can_be_reviewed_and_one_answer_changed(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    answer_all(chat, MENTOR, MENTOR_ANSWERS)
    for _ in range(5):
        chat.press(MENTOR, chat.received(MENTOR)[-1].choices[0].label)
    replies = chat.send(MENTOR, "intake")
    assert "Tap one to change it" in replies[0]
    assert "Change: Languages" in [c.label for c in chat.last[MENTOR][0].choices]
    assert "Which languages" in chat.press(MENTOR, "Change: Languages")[0]
    assert "is updated" in chat.send(MENTOR, "English, Tamil")[0]
    assert participant(chat, MENTOR).intake["languages"] == "English, Tamil"


def test_unfinished_intakes_are_reminded_twice_inside_working_hours_then_listed(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    chat.send(MENTOR, "yes")
    for _ in range(12):
        chat.advance(timedelta(days=1))
    sent = [m for m in chat.received(MENTOR) if "friendly reminder" in m.text]
    assert len(sent) == 2
    with chat.store.unit_of_work() as uow:
        from sqlalchemy import select

        from storage.tables import ScheduledJobRow

        due = (
            uow.session.execute(select(ScheduledJobRow.due_at).where(ScheduledJobRow.kind == "intake_reminder"))
            .scalars()
            .all()
        )
    assert len(due) == 2
    for moment in due:
        local = moment.astimezone(ZoneInfo("Asia/Kolkata"))
        assert local.weekday() < 5 and "10:00" <= local.strftime("%H:%M") <= "18:30", local
    assert "Intake incomplete: Arjun Mehta" in chat.send(COORD, "status")[0]
    assert "Continue my intake" in [c.label for c in sent[-1].choices]
    assert "What could you teach" in chat.press(MENTOR, "Continue my intake")[-1]


def test_remind_intake_nudges_everyone_unfinished_at_once(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    join(chat, MENTEE, "mentee")
    answer_all(chat, MENTEE, MENTEE_ANSWERS)
    assert "Reminded 1 person" in chat.send(COORD, "remind intake")[0]
    assert "asked me to remind" not in chat.received(MENTOR)[-1].text  # Sunday: it waits for working hours
    chat.advance(timedelta(hours=17))  # Monday 10:30 in Kolkata
    assert "Your coordinator asked me to remind you" in chat.received(MENTOR)[-1].text
    assert not any("asked me to remind" in m.text for m in chat.received(MENTEE))
    assert "Nobody owes a pulse" in chat.send(COORD, "remind pulse")[0]  # no session held yet
    assert "for programme coordinators" in chat.send(MENTOR, "mentoring remind intake")[0]


def test_coordinators_add_questions_shown_literally_and_to_the_right_role(chat: Chat) -> None:
    reply = chat.send(
        COORD,
        'program question add "Which tool do you use most? {{ 7*7 }}" --type choice '
        '--choices "Teams; Slack; Email" --role mentee',
    )[0]
    assert "Added question 1" in reply
    assert "2 to 12 choices" in chat.send(COORD, 'program question add "Pick one please" --type choice')[0]
    assert "not a question type" in chat.send(COORD, 'program question add "How many?" --type colour')[0]
    assert "5 to 300 characters" in chat.send(COORD, 'program question add "Hm?"')[0]
    assert "Which tool" in chat.send(COORD, "program question list")[0]
    join(chat, MENTEE, "mentee")
    replies = answer_all(chat, MENTEE, MENTEE_ANSWERS[:-1])
    assert replies[0] == "Which tool do you use most? {{ 7*7 }}"  # shown as typed, never evaluated
    chat.send(MENTEE, "2")
    answer_all(chat, MENTEE, ["yes"])
    assert participant(chat, MENTEE).intake["extra_1"] == "c2"
    join(chat, MENTOR, "mentor")
    replies = answer_all(chat, MENTOR, MENTOR_ANSWERS)
    assert "is in" in replies[0]  # the mentee-only question was not asked
    assert "Removed question 1" in chat.send(COORD, "program question remove 1")[0]


def test_two_people_answering_at_the_same_time_never_see_each_others_state(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    join(chat, MENTEE, "mentee")
    errors: list[BaseException] = []

    def answer(email: str, answers: list[str]) -> None:
        try:
            for n, text in enumerate(answers):
                chat.runtime.accept(chat_event(chat, email, text, f"{email}-{n}"))
                chat.runtime.process_pending()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [
        threading.Thread(target=answer, args=(MENTOR, MENTOR_ANSWERS)),
        threading.Thread(target=answer, args=(MENTEE, MENTEE_ANSWERS)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert participant(chat, MENTOR).intake["teach_topics"] == ["ai_tools", "collaboration_tools", "content_creation"]
    assert participant(chat, MENTEE).intake["learn_topics"] == ["ai_tools", "generative_ai"]
    assert "teach_topics" not in participant(chat, MENTEE).intake


def chat_event(chat: Chat, email: str, text: str, event_id: str):  # type: ignore[no-untyped-def]
    from bot.model import InboundEvent, Platform

    return InboundEvent(
        platform=Platform.CONSOLE,
        tenant="console",
        event_id=event_id,
        user=email,
        user_email=email,
        text=text,
        occurred_at=chat.clock.now(),
    )


def test_a_flow_version_change_part_way_keeps_what_still_fits(chat: Chat) -> None:
    join(chat, MENTOR, "mentor")
    answer_all(chat, MENTOR, MENTOR_ANSWERS[:4])  # up to the goals
    base = load_flow("intake")
    raw = {
        "id": "intake",
        "version": base.version + 1,
        "title": base.title,
        "steps": [step_dict(s) for s in base.steps if s.id != "topics_detail"],
    }
    raw["steps"].insert(
        1, {"id": "team_size", "kind": "integer", "prompt": "How big is your team?", "minimum": 1, "maximum": 500}
    )
    changed = parse_flow(raw)
    chat.runtime.engine.flows.load = lambda flow_id: changed if flow_id == "intake" else load_flow(flow_id)
    replies = chat.send(MENTOR, "2, 1, 4")
    assert "**Your intake**: the questions changed" in replies[0] and "1 of your answers" in replies[0]
    assert "How big is your team?" in replies[1]  # the new question is asked first
    assert "How often would you like to meet" in chat.send(MENTOR, "8")[0]  # then it carries on
    answer_all(chat, MENTOR, MENTOR_ANSWERS[5:])
    stored = participant(chat, MENTOR).intake
    assert stored["team_size"] == 8 and stored["goals"] == MENTOR_ANSWERS[3]  # earlier answers kept
    assert "topics_detail" not in stored


def step_dict(step) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "id": step.id,
        "kind": step.kind,
        "prompt": step.prompt,
        "label": step.label,
        "required": step.required,
        "when": step.when,
        "min_length": step.min_length,
        "max_length": step.max_length,
    }
    for name in ("minimum", "maximum", "max_selected", "after", "choices_from"):
        if getattr(step, name) is not None:
            data[name] = getattr(step, name)
    if step.choices:
        data["choices"] = [{"value": c.value, "label": c.label} for c in step.choices]
    return data


def test_the_whole_intake_as_one_form(chat: Chat) -> None:
    """Platforms with dialogs get every open question at once; a bad value is re-asked specifically."""
    join(chat, MENTOR, "mentor")
    engine: Engine = chat.runtime.engine
    with chat.store.unit_of_work() as uow:
        from bot.context import Turn

        person = chat.person(MENTOR)
        tenant = uow.tenants.find("console", "console")
        turn = Turn(
            event=chat_event(chat, MENTOR, "", "form-probe"),
            uow=uow,
            tenant=tenant,
            now=chat.clock.now(),
            flows=engine.flows,
            person=person,
            state=uow.conversations.load(tenant.id, person.id),
        )
        form = engine.flows.as_form(turn)
        uow.session.rollback()
    fields = {f.id: f for f in form.fields}
    assert fields["teach_topics"].kind == "multi_choice" and fields["teach_topics"].max_selected == 5
    assert len(fields["teach_topics"].choices) == 20 and fields["goals"].minimum is None
    values = {"profile_ok": "yes", "teach_topics": ["ai_tools", "generative_ai"], "goals": "tiny"}
    replies = chat.send(MENTOR, action=Action(id="flow.form", value="intake", values=values))
    assert "at least 10 characters" in replies[0]
    assert participant_state(chat, MENTOR)["teach_topics"] == ["ai_tools", "generative_ai"]


def participant_state(chat: Chat, email: str) -> dict:
    person = chat.person(email)
    with chat.store.unit_of_work() as uow:
        return uow.conversations.load(person.tenant_id, person.id).answers


def test_announce_posts_a_call_whose_buttons_start_consent(chat: Chat) -> None:
    assert "Posted the call" in chat.send(COORD, "program announce #general")[0]
    [call] = chat.deliverer.channels["#general"]
    assert "volunteers wanted" in call.text
    mentee_button = call.choices[1]
    replies = chat.send(MENTEE, action=Action(id=mentee_button.action, value=mentee_button.value))
    assert "You asked to join **Digital 2030**" in replies[0]
    assert "Usage: `program announce" in chat.send(COORD, "program announce general")[0]

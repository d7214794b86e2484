"""Programme settings as coordinators see them: `program show`, `program edit` checks, the goal's direction,
`remind pulse`, and wording that reads as sentences."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.commands.programmes import setting_names
from bot.domain import ProgrammeSettings
from bot.reports.evaluation import evaluate
from bot.reports.health import programme_health
from bot.sessions.model import NewFeedback, SessionStatus
from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, pair_up


def programme(chat: Chat) -> Any:
    with chat.store.unit_of_work() as uow:
        return uow.programmes.in_tenant(1)[0]


def hold_first_session(chat: Chat) -> int:
    pair_up(chat)
    confirm_first(chat)
    with chat.store.unit_of_work() as uow:
        session = uow.sessions.of_programme(programme(chat).id)[0]
        session.status = SessionStatus.HELD
        uow.sessions.save(session)
        return session.id


# -- a. remind pulse -----------------------------------------------------------------------------------


def test_remind_pulse_nudges_everyone_who_owes_a_pulse_and_says_how_many(chat: Chat) -> None:
    assert "Nobody owes a pulse" in unescape(chat.send(COORD, "remind pulse")[0])
    session_id = hold_first_session(chat)
    with chat.store.unit_of_work() as uow:
        uow.feedback.add(
            NewFeedback(
                programme_id=programme(chat).id,
                person_id=chat.person(MENTOR).id,
                role="mentor",
                kind="pulse",
                subject=f"session:{session_id}",
                session_id=session_id,
                answers={"session": "4"},
            )
        )
    reply = unescape(chat.send(COORD, "remind pulse")[0])
    assert "not switched on" not in reply
    assert "Reminded 1 person to give feedback on a session of **Digital 2030**" in reply
    chat.advance(timedelta(hours=8))  # a nudge waits for Los Angeles working hours
    [reminder] = [m for m in chat.received(MENTEE) if "how was your last session" in m.text]
    assert [c.label for c in reminder.choices] == ["Give feedback"]
    assert not [m for m in chat.received(MENTOR) if "how was your last session" in m.text]
    opened = unescape("\n".join(chat.press(MENTEE, "Give feedback")))
    assert "Quick feedback" in opened


# -- b. program show -----------------------------------------------------------------------------------


def test_program_show_lists_every_setting_with_its_value_and_default(chat: Chat) -> None:
    chat.send(COORD, "program edit mentor-capacity 3")
    shown = unescape("\n".join(chat.send(COORD, "program show")))
    names = setting_names()
    assert set(names) == set(ProgrammeSettings.model_fields)
    for name in names.values():
        assert f"• {name}: " in shown, name
    assert re.search(r"mentor-capacity: 3 \(default 1\)", shown)
    assert re.search(r"daily-message-cap: 3 \(default\)", shown)
    assert re.search(r"sponsor: not set \(default\)", shown)
    assert "Coordinators: Amara Okafor" in shown


# -- c. sponsor ----------------------------------------------------------------------------------------


def test_a_sponsor_outside_the_directory_is_refused(chat: Chat) -> None:
    reply = unescape(chat.send(COORD, "program edit sponsor someone@elsewhere.org")[0])
    assert "someone@elsewhere.org is not in the directory" in reply and "nothing was changed" in reply.lower()
    assert programme(chat).settings.sponsor_email == ""
    reply = unescape(chat.send(COORD, "program edit sponsor Helena.Varga@example.com")[0])
    assert "sponsor is now helena.varga@example.com" in reply
    assert programme(chat).settings.sponsor_email == "helena.varga@example.com"


# -- d. the goal's direction ----------------------------------------------------------------------------


def test_program_new_asks_whether_lower_is_better_when_the_target_is_below_the_baseline(chat: Chat) -> None:
    chat.send(COORD, "program new")
    for answer in ["Fewer Meetings 2030", "1", "hours in meetings per week"]:
        chat.send(COORD, answer)
    chat.send(COORD, "12")
    asked = unescape(chat.send(COORD, "8")[-1])
    assert "8 is below the baseline 12" in asked and "lower" in asked
    refused = unescape(chat.send(COORD, "no")[0])
    assert "`back`" in refused
    chat.send(COORD, "yes")
    for answer in ["2030-12-31", "2030-03-02", "2030-05-31", "2w", "45", "skip"]:
        chat.send(COORD, answer)
    confirm = unescape(chat.received(COORD)[-1].text)
    assert "lower is better" in confirm
    chat.send(COORD, "yes")
    with chat.store.unit_of_work() as uow:
        created = next(p for p in uow.programmes.in_tenant(1) if p.name == "Fewer Meetings 2030")
    assert (created.goal_baseline, created.goal_target, created.settings.goal_direction) == (12, 8, "lower")


def test_program_new_does_not_ask_when_the_target_is_above_the_baseline(chat: Chat) -> None:
    chat.send(COORD, "program new")
    for answer in ["More Confidence 2030", "1", "self-rated digital confidence", "5"]:
        chat.send(COORD, answer)
    asked = unescape(chat.send(COORD, "7")[-1])
    assert "below the baseline" not in asked and "lower" not in asked  # straight on to the goal's date
    for answer in ["2030-12-31", "2030-03-02", "2030-05-31", "2w", "45", "skip"]:
        chat.send(COORD, answer)
    assert "lower is better" not in unescape(chat.received(COORD)[-1].text)
    chat.send(COORD, "yes")
    with chat.store.unit_of_work() as uow:
        created = next(p for p in uow.programmes.in_tenant(1) if p.name == "More Confidence 2030")
    assert (created.goal_baseline, created.goal_target, created.settings.goal_direction) == (5, 7, "higher")


def test_program_edit_asks_before_a_target_below_the_baseline_and_the_evaluation_uses_the_direction(
    chat: Chat,
) -> None:
    asked = chat.send(COORD, "program edit target 3")
    assert "3 is below the baseline 5" in unescape(asked[0])
    assert programme(chat).goal_target == 7  # nothing changed yet
    chat.press(COORD, "No, keep the target")
    assert programme(chat).goal_target == 7
    chat.send(COORD, "program edit target 3")
    done = unescape(chat.press(COORD, "Yes, lower is better")[0])
    assert "target is now 3" in done and "lower is better" in done
    stored = programme(chat)
    assert (stored.goal_target, stored.settings.goal_direction) == (3, "lower")
    refused = unescape(chat.send(COORD, "program edit goal-direction higher")[0])
    assert "the target 3 is below the baseline 5" in refused
    # the evaluation reads the direction: with the target at the baseline, a mean of 2.5 is better than both
    assert "target is now 5" in unescape(chat.send(COORD, "program edit target 5")[0])
    stored = programme(chat)
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        for n, person in enumerate(uow.people.in_tenant(1)[:6]):
            uow.feedback.add(
                NewFeedback(
                    programme_id=stored.id,
                    person_id=person.id,
                    role="mentee",
                    kind="final",
                    subject="final",
                    answers={"goal_self": 2 + n % 2},
                )
            )
    chat.clock.advance(timedelta(days=1))  # the answers are released at the start of the term
    with chat.store.unit_of_work() as uow:
        health = programme_health(uow, stored, chat.clock.now())
    assert evaluate(health).verdict == "met"


# -- e. wording ----------------------------------------------------------------------------------------


def test_flow_titles_are_never_capitalised_mid_sentence(chat: Chat) -> None:
    chat.send(COORD, "program new")
    stopped = unescape(chat.send(COORD, "cancel")[0])
    assert "Stopped New programme" not in stopped and stopped.startswith("**New programme**: stopped")


@pytest.mark.parametrize("key", ["reports.evaluation", "reports.summary"])
def test_joined_parts_of_a_report_keep_their_line_breaks(chat: Chat, key: str) -> None:
    from bot.wording import wording

    text = wording()._env.from_string(wording()._sources[key]).render(**_sample_values(key))
    assert not re.search(r"[^\s.\d]\.\**[A-Z][a-z]", unescape(text)), text


class _Sample(float):
    """A value that fits every template: a number, an object with any attribute, an empty list."""

    def __new__(cls, value: float = 2.0) -> _Sample:
        return super().__new__(cls, value)

    def __getattr__(self, name: str) -> _Sample:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Sample(float(self))

    def __getitem__(self, key: object) -> _Sample:
        return _Sample(float(self))

    def __call__(self, *args: object, **kwargs: object) -> _Sample:
        return _Sample(float(self))

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __str__(self) -> str:
        return "sample"


def _sample_values(key: str, value: float = 2.0) -> dict[str, Any]:
    """Values for every variable of template ``key``: non-zero ones take the ``if`` branches, zero the others."""
    from jinja2 import meta

    from bot.wording import wording

    catalogue = wording()
    source = catalogue._sources[key]
    names = meta.find_undeclared_variables(catalogue._env.parse(source))
    return {name: ("Your intake" if name == "title" else _Sample(value)) for name in names}


def test_every_message_reads_as_sentences() -> None:
    """Every template, rendered with sample values: no sentence runs into the next, and an inserted
    title (which starts with a capital) never follows a lower-case word."""
    from bot.wording import wording

    problems = []
    for key in wording().keys():
        for value in (2.0, 0.0):
            template = wording()._env.from_string(wording()._sources[key])
            problems.extend(_reading_problems(key, unescape(template.render(**_sample_values(key, value)))))
    assert problems == []


def _reading_problems(key: str, text: str) -> list[tuple[str, str, str]]:
    problems = []
    prose = re.sub(r"\S+@\S+|https?://\S+|`[^`]*`|\b[\w-]+\.(?:com|org|csv|json|yml|ics|png|py|md)\b", "", text)
    if re.search(r"[^\s.\d]\.\**[A-Z][a-z]", prose):
        problems.append((key, "sentences run together", text))
    if key.startswith("flow.") and re.search(r"\w \**Your intake", text):  # a flow's title starts a sentence
        problems.append((key, "title capitalised mid-sentence", text))
    return problems

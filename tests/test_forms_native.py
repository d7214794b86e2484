"""Questionnaires as native forms: the intake and ``program new`` as a Slack modal and as a Teams card form.

Driven over HTTP against the fake platforms: the "Fill in the form" button, the modal opened with the fresh
trigger (or the card form sent), a submission with mistakes answered inline with nothing stored, a good one
stored whole and exactly once, and an intake completed through the form ending where the chat intake ends.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from adapters.slack.forms import form_view
from adapters.slack.modals import modal_errors
from bot.flows.definition import Step, StepChoice
from bot.flows.form_rules import rule_of
from bot.model import Choice, Form, FormField
from fake_slack import FakeSlack, payload
from fake_teams import FakeTeams
from storage.store import SqlStore
from storage.tables import InboxEventRow
from test_slack_harness import COORDINATOR, MENTOR, TEAM, SlackBot, blocks_text, buttons, fake_users, seed
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import TeamsBot, card_text, person_id, walk
from test_teams_harness import buttons as card_buttons
from test_teams_harness import seed as teams_seed

FORM_BUTTON = "Fill in the form"
MENTOR_ANSWERS: dict[str, Any] = {
    "profile_ok": "yes",
    "teach_topics": ["ai_tools", "generative_ai"],
    "goals": "Help senior colleagues use AI assistants with confidence",
    "priorities": ["perspective", "skills", "feedback"],
    "cadence": "14",
    "format": "video",
    "style_structure": "mix",
    "style_feedback": "direct",
    "style_pace": "deep",
    "languages": "English, Hindi",
    "diversity_ok": "no",
}
TYPED_IN_CHAT = [  # the same answers, one question at a time
    "yes",
    "ai_tools, generative_ai",
    "skip",
    "Help senior colleagues use AI assistants with confidence",
    "perspective, skills, feedback",
    "Every 2 weeks",
    "video",
    "skip",
    "mix",
    "direct",
    "deep",
    "English, Hindi",
    "no",
    "yes",
]


# -- Slack ---------------------------------------------------------------------------------------------


def element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """What Slack reports in ``view.state.values`` for an element holding ``value`` (None: left empty)."""
    kind = element["type"]
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": {"value": value} if value is not None else None}
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": [{"value": v} for v in value or []]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": value}


def initial(element: dict[str, Any]) -> Any:
    """What an element shows when the modal opens (answers given earlier are filled in)."""
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    return element.get("initial_value") or element.get("initial_date")


def modal_state(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The state of every input of ``view``: ``answers`` typed over what it showed when it opened."""
    state = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            value = answers[block["block_id"]] if block["block_id"] in answers else initial(element)
            state[block["block_id"]] = {element["action_id"]: element_state(element, value)}
    return state


def inbox_count(store: SqlStore) -> int:
    with store.unit_of_work() as uow:
        return int(uow.session.execute(select(func.count()).select_from(InboxEventRow)).scalar_one())


def participant(store: SqlStore, platform: str, team: str, user: str) -> Any:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find(platform, team)
        assert tenant is not None
        person = uow.people.by_identity(tenant.id, platform, user)
        assert person is not None
        [place] = uow.participants.of_person(person.id)
        state = uow.conversations.load(tenant.id, person.id)
        return place, state


async def slack_join(bot: SlackBot, user: str = MENTOR) -> None:
    """Invited as a mentor, and accepted with the consent button."""
    await bot.command(f"invite <@{user}> as mentor")
    await bot.work()
    await bot.press(user, *buttons(bot.fake.posts(bot.fake.dm_channel(user))[-1]["blocks"])["Yes, I'm in"])
    await bot.work()


def slack_form_button(fake: FakeSlack, user: str = MENTOR) -> tuple[str, str]:
    for post in reversed(fake.posts(fake.dm_channel(user))):
        found = buttons(post["blocks"])
        if FORM_BUTTON in found:
            return found[FORM_BUTTON]
    raise AssertionError("no form was offered")


async def slack_open_modal(bot: SlackBot, trigger: str, user: str = MENTOR) -> dict[str, Any]:
    """Press "Fill in the form": the modal opens with this press's trigger."""
    opened = len(bot.fake.calls_to("views.open"))
    status, _ = await bot.press(user, *slack_form_button(bot.fake, user), trigger=trigger)
    assert status == 200
    await bot.work()
    calls = bot.fake.calls_to("views.open")
    assert len(calls) == opened + 1 and calls[-1].args["trigger_id"] == trigger
    view = calls[-1].args["view"]
    opened_view: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
    return opened_view


async def test_an_invalid_modal_gets_inline_errors_and_nothing_is_stored(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await slack_join(bot)
            view = await slack_open_modal(bot, "trig.form.1")
            labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
            assert {"profile_ok", "teach_topics", "goals", "priorities", "languages"} <= set(labels)
            assert "learn_topics" not in labels and "submit" not in labels  # a mentor's form; submitting submits
            hints = {b["block_id"]: b.get("hint", {}).get("text", "") for b in view["blocks"] if b["type"] == "input"}
            assert "Are your time zone and working hours right?" in hints["profile_ok"]  # what the directory says
            assert "never shown to your partner" in hints["diversity_ok"]  # and what the answers are used for
            before = inbox_count(sqlite_store)
            place, state = participant(sqlite_store, "slack", TEAM, MENTOR)
            bad = {**MENTOR_ANSWERS, "goals": "tiny", "languages": None, "profile_ok": "no"}
            status, text = await bot.submit(MENTOR, view, modal_state(view, bad))
            assert status == 200
            answer = json.loads(text)
            assert answer["response_action"] == "errors"
            assert answer["errors"] == {
                "goals": "That's a bit short: at least 10 characters, please.",
                "languages": "This one needs an answer.",
                "time_zone": "Your answers above make this one needed.",
                "working_hours": "Your answers above make this one needed.",
            }
            assert inbox_count(sqlite_store) == before  # not committed, not acknowledged as taken
            await bot.work()
            after, state_after = participant(sqlite_store, "slack", TEAM, MENTOR)
            assert after.intake == {} and after.intake_completed_at is None
            assert state_after.answers == state.answers and state_after.flow == "intake"


async def test_a_valid_modal_stores_every_answer_once(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await slack_join(bot)
            await bot.dm("yes", MENTOR)  # the first question answered in chat: the form shows it filled in
            await bot.work()
            view = await slack_open_modal(bot, "trig.form.2")
            [profile] = [b for b in view["blocks"] if b.get("block_id") == "profile_ok"]
            assert profile["element"]["initial_option"]["value"] == "yes"
            answers = {k: v for k, v in MENTOR_ANSWERS.items() if k != "profile_ok"}
            body = submission(bot, MENTOR, view, modal_state(view, answers))
            before = inbox_count(sqlite_store)
            assert await bot.interact(body) == (200, "")  # accepted: the modal closes
            assert inbox_count(sqlite_store) == before + 1
            assert await bot.interact(body) == (200, "")  # Slack sends the very same submission again
            assert inbox_count(sqlite_store) == before + 1  # one effect
            await bot.work()
            place, state = participant(sqlite_store, "slack", TEAM, MENTOR)
            assert place.intake_completed_at is not None
            assert place.intake["teach_topics"] == ["ai_tools", "generative_ai"]
            assert place.intake["priorities"] == ["perspective", "skills", "feedback"]
            assert place.intake["goals"] == MENTOR_ANSWERS["goals"] and place.intake["cadence"] == "14"
            texts = blocks_text([b for p in fake.posts(fake.dm_channel(MENTOR)) for b in p["blocks"]])
            assert texts.count("got your form") == 1
            # a second submission of the same modal changes nothing and completes nothing again
            again = await bot.submit(MENTOR, view, modal_state(view, {**answers, "goals": "Something else entirely"}))
            assert again[0] == 200
            await bot.work()
            place_again, _ = participant(sqlite_store, "slack", TEAM, MENTOR)
            assert place_again.intake == place.intake
            texts = blocks_text([b for p in fake.posts(fake.dm_channel(MENTOR)) for b in p["blocks"]])
            assert texts.count("got your form") == 1 and texts.count("your intake for") == 1


def submission(bot: SlackBot, user: str, view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The ``view_submission`` body that ``SlackBot.submit`` sends, kept to be sent again."""
    body: dict[str, Any] = copy.deepcopy(payload("view_submission.json"))
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = bot.next_id("view.")
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view.get("private_metadata", ""),
        blocks=view["blocks"],
        state={"values": state},
        id=bot.next_id("V"),
    )
    return body


async def test_the_intake_through_the_modal_ends_where_the_chat_intake_ends(tmp_path: Path) -> None:
    by_form = SqlStore.open(f"sqlite:///{tmp_path / 'form.db'}")
    by_chat = SqlStore.open(f"sqlite:///{tmp_path / 'chat.db'}")
    try:
        outcomes = []
        for store, use_form in ((by_form, True), (by_chat, False)):
            seed(store)
            with FakeSlack(users=fake_users()) as fake:
                async with SlackBot(store, fake) as bot:
                    await slack_join(bot)
                    if use_form:
                        view = await slack_open_modal(bot, "trig.form.3")
                        assert (await bot.submit(MENTOR, view, modal_state(view, MENTOR_ANSWERS)))[1] == ""
                        await bot.work()
                    else:
                        for typed in TYPED_IN_CHAT:
                            await bot.dm(typed, MENTOR)
                            await bot.work()
                    place, state = participant(store, "slack", TEAM, MENTOR)
                    last = fake.posts(fake.dm_channel(MENTOR))[-1]
                    outcomes.append((place.intake, place.intake_version, state.flow, blocks_text(last["blocks"])))
                    assert place.intake_completed_at is not None
        form, chat = outcomes
        assert form == chat
        assert form[2] == "onboarding_mentor"  # the onboarding follows, as after the chat intake
    finally:
        by_form.close()
        by_chat.close()


async def test_program_new_as_a_modal(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command("program new", COORDINATOR)
            await bot.work()
            view = await slack_open_modal(bot, "trig.form.4", COORDINATOR)
            fields = {
                "name": "Digital 2031",
                "focus": "digital",
                "goal_metric": "team-rated digital confidence",
                "goal_baseline": "5",
                "goal_target": "7",
                "goal_date": "2031-12-31",
                "starts_on": "2031-01-15",
                "ends_on": "2031-01-10",  # before the start
                "cadence": "every 2 weeks",
                "session_minutes": "45",
            }
            status, text = await bot.submit(COORDINATOR, view, modal_state(view, fields))
            assert json.loads(text)["errors"] == {
                "ends_on": "2031-01-10 must come after 2031-01-15; pick a later date."
            }
            # the name is taken: only the engine can tell (it needs the store), so the modal closes and the
            # chat takes over at that answer, keeping the others
            taken = {**fields, "ends_on": "2031-07-15", "name": "Digital 2030"}
            assert await bot.submit(COORDINATOR, view, modal_state(view, taken)) == (200, "")
            await bot.work()
            last = blocks_text(fake.posts(fake.dm_channel(COORDINATOR))[-1]["blocks"])
            assert "A programme called 'Digital 2030' already exists here" in last
            await bot.dm("Digital 2031", COORDINATOR)
            await bot.work()
            assert "Create *Digital 2031*" in blocks_text(fake.posts(fake.dm_channel(COORDINATOR))[-1]["blocks"])
            await bot.dm("yes", COORDINATOR)
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                assert tenant is not None
                names = {p.name: p for p in uow.programmes.in_tenant(tenant.id)}
            created = names["Digital 2031"]
            assert created.cadence_days == 14 and created.session_minutes == 45
            assert str(created.ends_on) == "2031-07-15"


# -- Teams ---------------------------------------------------------------------------------------------


def card_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in walk(card.get("body", [])) if str(e.get("type", "")).startswith("Input.")}


def card_data(card: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends when the form's submit button is pressed: its data and every input's value."""
    data = dict(card_buttons(card)["Submit"])
    for input_id, element in card_inputs(card).items():
        field = input_id.removeprefix("rmbot_f_")
        base, _, place = field.partition("__")
        if base in answers:
            value = answers[base]
            if place:
                value = value[int(place) - 1] if value and len(value) >= int(place) else ""
            elif isinstance(value, list):
                value = ",".join(value)
        else:
            value = element.get("value", "")
        data[input_id] = "" if value is None else str(value)
    return data


async def teams_join(bot: TeamsBot) -> dict[str, Any]:
    """The mentor invited and in; returns the card that offers the form."""
    await bot.install(T_COORDINATOR, T_MENTOR)
    await bot.work()
    await bot.say(T_COORDINATOR, f"invite {T_MENTOR.email} as mentor")
    await bot.work()
    consent = bot.cards_for(T_MENTOR)[-1]
    await bot.post(bot.execute(T_MENTOR, card_buttons(consent)["Yes, I'm in"]))
    await bot.work()
    return next(c for c in reversed(bot.cards_for(T_MENTOR)) if FORM_BUTTON in card_buttons(c))


async def test_teams_card_form_errors_inline_then_stores_once(sqlite_store: SqlStore) -> None:
    teams_seed(sqlite_store)
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            offer = await teams_join(bot)
            await bot.post(bot.execute(T_MENTOR, card_buttons(offer)[FORM_BUTTON]))
            await bot.work()
            form = bot.cards_for(T_MENTOR)[-1]
            assert "rmbot_f_goals" in card_inputs(form) and "rmbot_f_submit" not in card_inputs(form)
            before = inbox_count(sqlite_store)
            bad = card_data(form, {**MENTOR_ANSWERS, "goals": "tiny"})
            status, answer = await bot.post(bot.execute(T_MENTOR, bad))
            assert status == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
            shown = answer["value"]
            assert "That's a bit short: at least 10 characters, please." in card_text(shown)
            assert card_inputs(shown)["rmbot_f_languages"]["value"] == "English, Hindi"  # what was typed stays
            assert inbox_count(sqlite_store) == before
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                [place] = uow.participants.of_person(person_id(sqlite_store, T_MENTOR))
                assert place.intake == {}
            good = bot.execute(T_MENTOR, card_data(form, MENTOR_ANSWERS))
            status, answer = await bot.post(good)
            assert status == 200
            assert (await bot.post(good))[0] == 200  # the same activity again: one effect
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                [place] = uow.participants.of_person(person_id(sqlite_store, T_MENTOR))
            assert place.intake_completed_at is not None
            assert place.intake["priorities"] == ["perspective", "skills", "feedback"]
            texts = "\n".join(card_text(c) for c in bot.cards_for(T_MENTOR))
            assert texts.count("got your form") == 1


async def test_program_edit_as_a_modal_sets_every_field_at_once(sqlite_store: SqlStore) -> None:
    programme_id = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            assert (await bot.command("program edit", COORDINATOR, trigger="trig.edit.1"))[0] == 200
            await bot.work()
            [opened] = fake.calls_to("views.open")
            assert opened.args["trigger_id"] == "trig.edit.1"  # the slash command's own trigger
            view = opened.args["view"]
            view = json.loads(view) if isinstance(view, str) else view
            [name] = [b for b in view["blocks"] if b.get("block_id") == "name"]
            assert name["element"]["initial_value"] == "Digital 2030"  # the programme as it is, filled in
            changes = {
                "goal_metric": "team-rated digital confidence",
                "goal_baseline": "6",
                "goal_target": "4",  # lower is better now: that question becomes needed
                "goal_date": "2031-12-31",
                "starts_on": "2031-01-15",
                "ends_on": "2031-07-15",
                "cadence": "monthly",
                "session_minutes": "60",
            }
            status, text = await bot.submit(COORDINATOR, view, modal_state(view, changes))
            assert json.loads(text)["errors"] == {"goal_lower_better": "Your answers above make this one needed."}
            assert await bot.submit(COORDINATOR, view, modal_state(view, {**changes, "goal_lower_better": "yes"})) == (
                200,
                "",
            )
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                programme = uow.programmes.get(programme_id)
            assert programme is not None
            assert (programme.cadence_days, programme.session_minutes) == (28, 60)
            assert (programme.goal_baseline, programme.goal_target) == (6, 4)
            assert programme.settings.goal_direction == "lower" and programme.name == "Digital 2030"
            said = blocks_text(fake.posts(fake.dm_channel(COORDINATOR))[-1]["blocks"])
            assert said.startswith("Updated *Digital 2030*:") and "Session length (minutes)" in said


def test_a_modal_carries_its_rules_and_gets_choices_back_from_its_options() -> None:
    """The rules travel in ``private_metadata`` without the choices the view already lists (so a long intake
    fits Slack's 3,000 characters); checked on submission, the options count again."""
    colours = Step(
        id="colour",
        kind="choice",
        prompt="",
        choices=tuple(StepChoice(f"c{n}", f"Colour {n}") for n in range(40)),
    )
    field = FormField(
        id="colour",
        label="Colour",
        kind="choice",
        choices=[Choice(label=c.label, action="flow.answer", value=c.value) for c in colours.choices],
    )
    view = form_view(Form(action="flow.form", title="Colours", fields=[field], value="f@1", rules=[rule_of(colours)]))
    assert "c39" not in view["private_metadata"] and '"rules"' in view["private_metadata"]
    body = {"view": {**view, "state": {"values": modal_state(view, {"colour": "c7"})}}}
    assert modal_errors(body) == {}
    body = {"view": {**view, "state": {"values": modal_state(view, {"colour": "c99"})}}}
    assert modal_errors(body) == {"colour": "Please pick one of the options."}

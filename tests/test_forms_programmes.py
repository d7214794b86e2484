"""``program new`` and ``program edit`` as Slack modals, and the answer rules a modal carries with it."""

from __future__ import annotations

import json

from adapters.slack.forms import form_view
from adapters.slack.modals import modal_errors
from bot.flows.definition import Step, StepChoice
from bot.flows.form_rules import rule_of
from bot.model import Choice, Form, FormField
from fake_slack import FakeSlack
from form_support import modal_state, slack_open_modal
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, TEAM, SlackBot, blocks_text, fake_users, seed


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

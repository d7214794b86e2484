"""Whole conversations through Slack: invitation and consent buttons, selects feeding the intake, modals,
people filled in from ``users.info``, and the App Home."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import ParticipantStatus
from bot.model import Action, Address, Choice, Form, FormField, OutgoingMessage
from fake_slack import FakeSlack, payload, slack_user
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, blocks_text, buttons, fake_users, seed


def participant_status(store: SqlStore, programme_id: int, user: str) -> str | None:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        person = uow.people.by_identity(tenant.id, "slack", user)  # type: ignore[union-attr]
        found = person and uow.participants.find(programme_id, person.id)
        return found.status.value if found else None


async def test_invite_then_accept_with_the_button_in_the_consent_dm(store: SqlStore) -> None:
    programme = seed(store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(store, fake) as bot:
            assert (await bot.command(f"invite <@{MENTOR}|arjun> as mentor"))[0] == 200
            await bot.work()
            [consent] = fake.posts(fake.dm_channel(MENTOR))
            assert "invited you to *Digital 2030*" in blocks_text(consent["blocks"])
            assert consent["metadata"]["event_payload"]["key"].endswith("#0")
            choices = buttons(consent["blocks"])
            assert set(choices) == {"Yes, I'm in", "No, thanks"}
            action_id, value = choices["Yes, I'm in"]
            assert participant_status(store, programme, MENTOR) == "invited"
            assert (await bot.press(MENTOR, action_id, value))[0] == 200
            await bot.work()
            assert participant_status(store, programme, MENTOR) == ParticipantStatus.ACTIVE.value
            texts = [p["text"] for p in fake.posts(fake.dm_channel(MENTOR))]
            assert any("you're in" in t for t in texts)


async def test_selects_and_buttons_answer_the_intake_like_typed_answers(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command(f"invite <@{MENTOR}> as mentor")
            await bot.work()
            await bot.press(MENTOR, *buttons(fake.posts(fake.dm_channel(MENTOR))[-1]["blocks"])["Yes, I'm in"])
            await bot.work()
            question = fake.posts(fake.dm_channel(MENTOR))[-1]
            await bot.press(MENTOR, *buttons(question["blocks"])["Yes"])  # a yes/no question, by button
            await bot.work()
            topics = fake.posts(fake.dm_channel(MENTOR))[-1]
            [picker] = [b for b in topics["blocks"] if b.get("block_id") == "slack:pick"]
            select, send = picker["elements"]
            assert select["type"] == "multi_static_select" and send["action_id"].startswith("slack:submit")
            chosen = [o["value"] for o in select["options"][:2]]
            # choosing in the multi-select alone does nothing; Send carries the selection
            await bot.press(MENTOR, select["action_id"], selected=chosen[0])
            await bot.work()
            assert fake.posts(fake.dm_channel(MENTOR))[-1] == topics
            state = {
                "slack:pick": {
                    select["action_id"]: {
                        "type": "multi_static_select",
                        "selected_options": [{"value": v} for v in chosen],
                    }
                }
            }
            await bot.press(MENTOR, send["action_id"], send["value"], state=state)
            await bot.work()
            following = fake.posts(fake.dm_channel(MENTOR))[-1]
            assert following != topics and "Question 3 of" in blocks_text(following["blocks"])
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                person = uow.people.by_identity(tenant.id, "slack", MENTOR)  # type: ignore[union-attr]
                state_now = uow.conversations.load(tenant.id, person.id)  # type: ignore[union-attr]
            assert list(state_now.answers.values())[-1] == chosen


async def test_a_form_opens_as_a_modal_and_its_submission_reaches_the_engine(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    received: list[Action] = []
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            bot.runtime.engine.actions["test.form"] = lambda turn, action: received.append(action)  # noqa: ARG005
            form = Form(
                action="test.form",
                title="Programme setup",
                submit_label="Create",
                fields=[
                    FormField(id="name", label="Name", kind="text"),
                    FormField(id="minutes", label="Session length", kind="integer", minimum=15, maximum=180),
                    FormField(id="starts", label="Starts", kind="date"),
                    FormField(
                        id="focus",
                        label="Focus",
                        kind="choice",
                        choices=[Choice(label=f"Focus {n}", action="flow.answer", value=f"f{n}") for n in range(7)],
                    ),
                    FormField(
                        id="topics",
                        label="Topics",
                        kind="multi_choice",
                        max_selected=3,
                        choices=[Choice(label=f"Topic {n}", action="flow.answer", value=f"t{n}") for n in range(9)],
                    ),
                    FormField(id="peer", label="Allow peers", kind="yes_no", required=False),
                ],
            )
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                coordinator = uow.people.by_identity(tenant.id, "slack", COORDINATOR)  # type: ignore[union-attr]
                uow.outbox.add(
                    OutgoingMessage(
                        tenant_id=tenant.id,
                        to=Address.person(coordinator.id),  # type: ignore[union-attr]
                        idempotency_key="form-1",
                        text="Let's set up the programme.",
                        form=form,
                        trigger_id="trig.fresh",
                    ),
                    platform="slack",
                )
            await bot.work()
            [opened] = fake.calls_to("views.open")
            assert opened.args["trigger_id"] == "trig.fresh"
            view = opened.args["view"]
            assert [b["element"]["type"] for b in view["blocks"]] == [
                "plain_text_input",
                "number_input",
                "datepicker",
                "static_select",
                "multi_static_select",
                "radio_buttons",
            ]
            [message] = fake.posts()
            action_id, value = buttons(message["blocks"])["Open: Programme setup"]
            await bot.press(COORDINATOR, action_id, value, trigger="trig.again")  # reopen from the message
            assert fake.calls_to("views.open")[-1].args["trigger_id"] == "trig.again"
            values = {
                "name": {"name": {"type": "plain_text_input", "value": "Digital 2031"}},
                "minutes": {"minutes": {"type": "number_input", "value": "45"}},
                "starts": {"starts": {"type": "datepicker", "selected_date": "2031-01-15"}},
                "focus": {"focus": {"type": "static_select", "selected_option": {"value": "f2"}}},
                "topics": {
                    "topics": {"type": "multi_static_select", "selected_options": [{"value": "t1"}, {"value": "t4"}]}
                },
                "peer": {"peer": {"type": "radio_buttons", "selected_option": None}},
            }
            status, text = await bot.submit(COORDINATOR, view, values)
            assert status == 200 and text == ""  # the modal closes
            await bot.work()
            assert [a.values for a in received] == [
                {"name": "Digital 2031", "minutes": "45", "starts": "2031-01-15", "focus": "f2", "topics": ["t1", "t4"]}
            ]


async def test_an_expired_trigger_leaves_the_button_to_open_the_form(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                person = uow.people.by_identity(tenant.id, "slack", COORDINATOR)  # type: ignore[union-attr]
                uow.outbox.add(
                    OutgoingMessage(
                        tenant_id=tenant.id,
                        to=Address.person(person.id),
                        idempotency_key="form-2",
                        text="Setup",  # type: ignore[union-attr]
                        form=Form(action="x", title="Setup", fields=[FormField(id="a", label="A")]),
                        trigger_id="expired.1",
                    ),
                    platform="slack",
                )
            await bot.work()
            assert fake.calls_to("views.open") == [] and len(fake.posts()) == 1
            assert "Open: Setup" in buttons(fake.posts()[0]["blocks"])
            # someone else cannot open it
            await bot.press(MENTOR, *buttons(fake.posts()[0]["blocks"])["Open: Setup"])
            assert fake.calls_to("views.open") == []


async def test_a_new_slack_user_is_filled_in_from_users_info(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    users = {"W444": slack_user("W444", "Lena Fischer", "Lena@Example.com", title="Data analyst", tz="Europe/Berlin")}
    with FakeSlack(users=users) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.dm("help", "W444")
            await bot.dm("my-data", "W444")
            await bot.work()
            assert len(fake.calls_to("users.info")) == 1  # known after the first time
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                person = uow.people.by_identity(tenant.id, "slack", "W444")  # type: ignore[union-attr]
            assert (person.name, person.email, person.title, person.time_zone) == (  # type: ignore[union-attr]
                "Lena Fischer",
                "lena@example.com",
                "Data analyst",
                "Europe/Berlin",
            )


async def test_what_the_hr_import_set_wins_over_the_slack_profile(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store, link=False)  # only the coordinator is linked to Slack
    with sqlite_store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        daniel = uow.people.by_email(tenant.id, "daniel@example.com")  # type: ignore[union-attr]
        daniel.title = "Chief Operating Officer"  # type: ignore[union-attr]
        uow.people.save(daniel)  # type: ignore[arg-type]
    users = fake_users()
    users[MENTEE] = slack_user(MENTEE, "Dan O.", "daniel@example.com", title="COO (Slack)", tz="America/New_York")
    with FakeSlack(users=users) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command(f"invite <@{MENTEE}|dan> as mentee")  # never wrote to the bot: found by email
            await bot.work()
            assert fake.dm_channel(MENTEE) and "invited you" in fake.posts(fake.dm_channel(MENTEE))[0]["text"]
            assert participant_status(sqlite_store, programme, MENTEE) == "invited"
            with sqlite_store.unit_of_work() as uow:
                person = uow.people.by_identity(tenant.id, "slack", MENTEE)  # type: ignore[union-attr]
                assert len(uow.people.in_tenant(tenant.id)) == 3  # linked, not duplicated  # type: ignore[union-attr]
            assert (person.name, person.title, person.time_zone) == (  # type: ignore[union-attr]
                "Daniel Okonkwo",
                "Chief Operating Officer",
                "America/New_York",
            )


async def test_the_app_home_shows_programmes_and_their_health(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command(f"invite <@{MENTOR}> <@{MENTEE}> as mentee")
            await bot.work()

            async def open_home(user: str) -> dict[str, Any]:
                body = payload("event_callback_app_home_opened__home_tab.json")
                body.update(team_id=TEAM, event_id=bot.next_id("EvHome"))
                body["event"]["user"] = user
                assert (await bot.event(body))[0] == 200
                await bot.service.drain()
                published = fake.calls_to("views.publish")[-1].args
                assert published["user_id"] == user and published["view"]["type"] == "home"
                assert len(published["view"]["blocks"]) <= 100
                return published["view"]

            coordinator_home = blocks_text(open_home_view := (await open_home(COORDINATOR))["blocks"])
            assert "Programmes you coordinate" in coordinator_home
            assert "mentees 0 in, 1 invited" in coordinator_home and "not enough responses to show" in coordinator_home
            buttons = [e for b in open_home_view if b["type"] == "actions" for e in b["elements"]]
            status = next(e for e in buttons if e["value"] == "status --program digital-2030")
            mentee_home = blocks_text((await open_home(MENTEE))["blocks"])
            assert "Digital 2030" in mentee_home and "invited, waiting for your answer" in mentee_home
            # a button on the home tab runs its command, and the answer arrives in the DM
            await bot.press(COORDINATOR, status["action_id"], value=status["value"])
            await bot.work()
            assert "Digital 2030" in fake.posts(fake.dm_channel(COORDINATOR))[-1]["text"]
            assert sqlite_store.inbox.pending_count() == 0


async def test_user_typed_mrkdwn_is_shown_literally(sqlite_store: SqlStore) -> None:
    """``<!channel>`` typed into a programme name reaches Slack as ``&lt;!channel&gt;``, never as a ping."""
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command("program edit name &lt;!channel&gt; &amp; friends")
            await bot.work()
            posted = json.dumps([p["blocks"] for p in fake.posts()]) + json.dumps([p["text"] for p in fake.posts()])
            assert "<!channel>" not in posted and "&lt;!channel&gt; &amp; friends" in posted


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_call_the_bot_cannot_post_in_a_channel_is_reported_to_the_coordinator_who_asked(
    sqlite_store: SqlStore, error: str
) -> None:
    """A private channel the bot was never invited to: the coordinator who asked hears so by DM, once, with the
    channel as they named it (never Slack's raw ``<#C…|…>`` token) and how to invite the bot."""
    seed(sqlite_store)
    with FakeSlack(users=fake_users(), unreachable={"C0PRIVATE": error}) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command("program announce <#C0PRIVATE|mentoring-team>")
            await bot.work()
            await bot.work()
            await bot.work()
            assert fake.posts("C0PRIVATE") == []  # refused, and not tried again
            texts = [p["text"] for p in fake.posts(fake.dm_channel(COORDINATOR))]
            [notice] = [t for t in texts if "couldn't post" in t]
            assert "#mentoring-team" in notice and "Digital 2030" in notice
            assert "C0PRIVATE" not in notice and "&lt;#" not in notice and "\\" not in notice
            if error == "is_archived":
                assert "archived" in notice and "/invite" not in notice
            else:
                assert "/invite @mentoring" in notice
            assert [fake.dm_channel(COORDINATOR)] == list({p["channel"] for p in fake.posts()})  # nobody else
            with sqlite_store.unit_of_work() as uow:
                rows = uow.session.execute(select(OutboxMessageRow)).scalars().all()
            [post] = [r for r in rows if r.payload["to"]["kind"] == "conversation"]
            assert post.status == "failed" and post.last_error == f"slack: {error}"

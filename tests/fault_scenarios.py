"""Every inbound event type delivered four times (the original and three retries) against once.

Two bots on two fresh stores play the same scenario, step by step: the "once" bot gets each event
once; the "four times" bot gets the original, a retry before the worker has run, and then two
retries at the same moment after it has run (``X-Slack-Retry-Num`` 1 to 3 on Slack, the same activity
id on Teams, the same ``due:<job id>`` for scheduled work). After every step both stores must hold the
same state (every table's row count and content, without ids and timestamps) and both fakes must
have received the same messages. The steps build on each other: a coordinator's command, a consent
button, intake answers typed, picked and submitted in a modal, so a double effect would show.

Views are not messages: Slack's App Home is published again on every delivery of ``app_home_opened``
(the same view, replacing itself), so views are compared as the distinct views published or opened.
"""

from __future__ import annotations

import asyncio
import copy
import json
import urllib.parse
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from adapters.slack.forms import FORM_CALLBACK, form_view
from bot.clock import OffsetClock
from bot.domain import NewMatchPair, NewParticipant, ParticipantStatus, Role
from bot.feedback import CHECKIN_JOB, SURVEY_JOB
from bot.flows.runner import FORM_ACTION
from bot.model import Form, FormField
from fake_slack import FakeSlack, form_body, interactive_body, payload
from fake_teams import FakeTeams
from fault_state import differences, dump, plain
from fault_support import HOURS
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, buttons, fake_users
from test_slack_harness import seed as seed_slack
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import TeamsBot, card_text
from test_teams_harness import buttons as card_buttons
from test_teams_harness import seed as seed_teams

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
Send = Callable[[int | None], Awaitable[tuple[int, Any]]]
"""Deliver a step's event: ``None`` the original, 1 to 3 a retry; returns (status, answer)."""
EVENT_TIME = 1_800_000_000
BOT_USER = "UBOT"


@dataclass
class StepResult:
    name: str
    messages: int
    """Messages the platform received for this step (the same on both sides when it passed)."""
    problems: list[str] = field(default_factory=list)


# -- Slack ---------------------------------------------------------------------------------------------------


class SlackSide:
    """A Slack bot on a store, with its own fake Slack."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def __aenter__(self) -> SlackSide:
        self.programme = seed_slack(self.store)
        self.fake = FakeSlack(users=fake_users()).__enter__()
        self.bot = await SlackBot(self.store, self.fake).__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.__aexit__(*exc)
        self.fake.__exit__(*exc)

    async def settle(self) -> None:
        await self.bot.work()
        await self.bot.service.drain()

    def messages(self) -> list[Any]:
        views = [
            (
                "views." + c.method.split(".")[1],
                c.args.get("user_id") or c.args.get("trigger_id"),
                plain(c.args.get("view")),
            )
            for c in self.fake.calls
            if c.method in ("views.open", "views.publish")
        ]
        # A re-published home tab or a re-opened modal is the same view: count what differs, not repeats.
        distinct = [v for n, v in enumerate(views) if v not in views[:n]]
        return [(p["channel"], plain(p.get("text"))) for p in self.fake.posts()] + distinct

    def sender(self, body: str, content_type: str) -> Send:
        return lambda retry: self.bot.post(body, content_type, retry=retry)

    def last_post(self, user: str) -> dict[str, Any]:
        return self.fake.posts(self.fake.dm_channel(user))[-1]


def event_body(event: dict[str, Any], event_id: str) -> str:
    body = copy.deepcopy(payload("event_callback_message_im__top_level_dm.json"))
    body.update(team_id=TEAM, event_id=event_id, event_time=EVENT_TIME, event=event)
    body["authorizations"][0]["team_id"] = TEAM
    return json.dumps(body)


def action_body(
    user: str,
    action_id: str,
    value: str = "",
    *,
    trigger: str,
    selected: str | None = None,
    state: dict[str, Any] | None = None,
) -> str:
    """A ``block_actions`` payload: ``user`` pressed a button (or chose ``selected`` in a select)."""
    body = copy.deepcopy(payload("block_actions.json"))
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = trigger
    body["container"].update(channel_id=f"D{user}", is_ephemeral=False)
    body["channel"]["id"] = f"D{user}"
    action = body["actions"][0]
    action.update(action_id=action_id, value=value, action_ts=f"{EVENT_TIME}.000100")
    if selected is not None:
        action.pop("value")
        action.update(
            type="static_select", selected_option={"value": selected, "text": {"type": "plain_text", "text": selected}}
        )
    if state is not None:
        body["state"] = {"values": state}
    return interactive_body(body)


async def slash_command(side: SlackSide) -> Send:
    fields = dict(urllib.parse.parse_qsl(payload("slash_command.form.txt"), keep_blank_values=True))
    fields.update(
        command="/mentoring",
        text=f"invite <@{MENTOR}|arjun> as mentor",
        user_id=COORDINATOR,
        user_name="amara",
        channel_id="D0COORD",
        team_id=TEAM,
        trigger_id="trig.command",
    )
    return side.sender(form_body(fields), FORM)


async def consent_button(side: SlackSide) -> Send:
    action_id, value = buttons(side.last_post(MENTOR)["blocks"])["Yes, I'm in"]
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.consent"), FORM)


async def typed_answer(side: SlackSide) -> Send:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": MENTOR,
        "text": "yes",
        "channel": f"D{MENTOR}",
        "ts": f"{EVENT_TIME}.000200",
        "event_ts": f"{EVENT_TIME}.000200",
    }
    return side.sender(event_body(event, "EvTyped"), JSON)


def _picks(post: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A question's selects filled in (two topics of a multi-select, or places in a ranking) and its Send."""
    [picker] = [b for b in post["blocks"] if b.get("block_id") == "slack:pick"]
    *selects, send = picker["elements"]
    assert send["type"] == "button"
    state: dict[str, Any] = {}
    for place, select in enumerate(selects):
        if select["type"] == "multi_static_select":
            state[select["action_id"]] = {
                "type": select["type"],
                "selected_options": [{"value": o["value"]} for o in select["options"][:2]],
            }
        else:
            state[select["action_id"]] = {
                "type": select["type"],
                "selected_option": {"value": select["options"][place]["value"]},
            }
    return send["action_id"], send["value"], {"slack:pick": state}


async def pick_list(side: SlackSide) -> Send:
    action_id, value, state = _picks(side.last_post(MENTOR))
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.topics", state=state), FORM)


async def rank_select(side: SlackSide) -> Send:
    [picker] = [b for b in side.last_post(MENTOR)["blocks"] if b.get("block_id") == "slack:pick"]
    first = picker["elements"][0]
    return side.sender(
        action_body(MENTOR, first["action_id"], selected=first["options"][1]["value"], trigger="trig.place"), FORM
    )


async def rank_send(side: SlackSide) -> Send:
    action_id, value, state = _picks(side.last_post(MENTOR))
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.rank", state=state), FORM)


async def answer_button(side: SlackSide) -> Send:
    action_id, value = buttons(side.last_post(MENTOR)["blocks"])["Every 2 weeks"]
    return side.sender(action_body(MENTOR, action_id, value, trigger="trig.cadence"), FORM)


async def modal(side: SlackSide) -> Send:
    fields = [
        FormField(id="topics_detail", label="In your own words", kind="long_text"),
        FormField(id="goals", label="Goals", kind="long_text"),
    ]
    view = form_view(Form(action=FORM_ACTION, title="Your intake", fields=fields))
    body = copy.deepcopy(payload("view_submission.json"))
    body["user"].update(id=MENTOR, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = "trig.view"
    assert view["callback_id"] == FORM_CALLBACK
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        id="V-intake",
        blocks=view["blocks"],
        state={
            "values": {
                "topics_detail": {
                    "topics_detail": {"type": "plain_text_input", "value": "Prompt libraries and checking AI answers"}
                },
                "goals": {"goals": {"type": "plain_text_input", "value": "Learn how strategy decisions are made"}},
            }
        },
    )
    return side.sender(interactive_body(body), FORM)


async def mention(side: SlackSide) -> Send:
    event = {
        "type": "app_mention",
        "user": COORDINATOR,
        "text": f"<@{BOT_USER}> status",
        "channel": "C111",
        "ts": f"{EVENT_TIME}.000300",
        "event_ts": f"{EVENT_TIME}.000300",
    }
    return side.sender(event_body(event, "EvMention"), JSON)


async def home_opened(side: SlackSide) -> Send:
    event = {
        "type": "app_home_opened",
        "user": COORDINATOR,
        "channel": "D0COORD",
        "tab": "home",
        "event_ts": f"{EVENT_TIME}.000400",
    }
    return side.sender(event_body(event, "EvHome"), JSON)


async def home_button(side: SlackSide) -> Send:
    home = [c.args["view"] for c in side.fake.calls_to("views.publish") if c.args["user_id"] == COORDINATOR][-1]
    [status, *_] = [
        (action_id, value) for action_id, value in buttons(home["blocks"]).values() if value.startswith("status")
    ]
    return side.sender(action_body(COORDINATOR, *status, trigger="trig.home"), FORM)


async def edited_message(side: SlackSide) -> Send:
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel_type": "im",
        "channel": f"D{MENTOR}",
        "message": {"user": MENTOR, "text": "no", "ts": f"{EVENT_TIME}.000200"},
        "ts": f"{EVENT_TIME}.000500",
        "event_ts": f"{EVENT_TIME}.000500",
    }
    return side.sender(event_body(event, "EvEdited"), JSON)


SLACK_STEPS = [
    ("slash command (/mentoring invite)", slash_command),
    ("block_actions button (consent)", consent_button),
    ("DM message (typed intake answer)", typed_answer),
    ("block_actions multi-select with Send (topics)", pick_list),
    ("view_submission (intake modal)", modal),
    ("block_actions select alone (waits for Send)", rank_select),
    ("block_actions selects with Send (ranking)", rank_send),
    ("block_actions answer button (cadence)", answer_button),
    ("app_mention (status in a channel)", mention),
    ("app_home_opened (App Home published)", home_opened),
    ("block_actions App Home button (status)", home_button),
    ("message_changed (acknowledged, ignored)", edited_message),
]


# -- Teams ---------------------------------------------------------------------------------------------------


class TeamsSide:
    """A Teams bot on a store, with its own fake connector."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def __aenter__(self) -> TeamsSide:
        seed_teams(self.store)
        self.fake = FakeTeams().__enter__()
        self.bot = await TeamsBot(self.store, self.fake).__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.__aexit__(*exc)
        self.fake.__exit__(*exc)

    async def settle(self) -> None:
        await self.bot.work()

    def messages(self) -> list[Any]:
        return [
            (
                a["conversation"]["id"] if isinstance(a.get("conversation"), dict) else "",
                plain(a.get("text")),
                [plain(card_text(c["content"])) for c in a.get("attachments", [])],
            )
            for a in self.fake.activities()
        ]

    def sender(self, activity: dict[str, Any]) -> Send:
        return lambda _retry: self.bot.post(activity)


async def teams_install(side: TeamsSide) -> Send:
    return side.sender(side.bot.installed(T_COORDINATOR))


async def teams_installation_update(side: TeamsSide) -> Send:
    return side.sender(side.bot.installed(T_MENTOR, "installationUpdate"))


async def teams_message(side: TeamsSide) -> Send:
    return side.sender(side.bot.personal(T_COORDINATOR, "invite arjun@example.com as mentor"))


async def teams_submit(side: TeamsSide) -> Send:
    consent = side.bot.cards_for(T_MENTOR)[-1]
    accept = next(data for title, data in card_buttons(consent).items() if "in" in title.lower())
    return side.sender(side.bot.submit(T_MENTOR, accept))


async def teams_execute(side: TeamsSide) -> Send:
    question = side.bot.cards_for(T_MENTOR)[-1]
    return side.sender(side.bot.execute(T_MENTOR, card_buttons(question)["Yes"]))


async def teams_typed(side: TeamsSide) -> Send:
    return side.sender(side.bot.personal(T_MENTOR, "1, 3"))


TEAMS_STEPS = [
    ("conversationUpdate (personal install: welcome)", teams_install),
    ("installationUpdate (personal install: welcome)", teams_installation_update),
    ("message (invite)", teams_message),
    ("message with value (Action.Submit: consent)", teams_submit),
    ("invoke adaptiveCard/action (Action.Execute: intake answer)", teams_execute),
    ("message (typed intake answer)", teams_typed),
]


# -- scheduled work ------------------------------------------------------------------------------------------


class DueSide(SlackSide):
    """The Slack side with a live pair, everyone in working hours (by ``working_moment``) on its clock."""

    def __init__(self, store: SqlStore, shift: timedelta, zone: str) -> None:
        super().__init__(store)
        self.clock = OffsetClock(offset=shift)
        self.zone = zone

    async def __aenter__(self) -> DueSide:
        await super().__aenter__()
        self.bot.runtime.clock = self.clock
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.find("slack", TEAM)
            self.tenant_id = tenant.id  # type: ignore[union-attr]
            joined = []
            for user, role in ((MENTOR, Role.MENTOR), (MENTEE, Role.MENTEE), (COORDINATOR, None)):
                person = uow.people.by_identity(tenant.id, "slack", user)  # type: ignore[union-attr]
                person.time_zone, person.working_hours = self.zone, HOURS  # type: ignore[union-attr]
                uow.people.save(person)  # type: ignore[arg-type]
                if role is not None:
                    joined.append(
                        uow.participants.add(
                            NewParticipant(
                                programme_id=self.programme,
                                person_id=person.id,  # type: ignore[union-attr]
                                role=role,
                                status=ParticipantStatus.ACTIVE,
                            )
                        ).id
                    )
            uow.matching.add_pair(NewMatchPair(programme_id=self.programme, mentor_id=joined[0], mentee_id=joined[1]))
        return self

    def due_sender(self, kind: str, payload_: dict[str, Any], key: str) -> Send:
        with self.store.unit_of_work() as uow:
            uow.schedule.add(self.tenant_id, kind, self.clock.now() - timedelta(minutes=1), payload_, key=key)

        def fire(retry: int | None) -> tuple[int, Any]:
            if retry:  # the job fires again, as if its "enqueued" mark had been lost: same due:<job id>
                with self.store.engine.begin() as connection:
                    connection.execute(
                        text("UPDATE scheduled_job SET status = 'scheduled' WHERE key = :key"), {"key": key}
                    )
            self.store.schedule.enqueue_due(self.clock.now())
            return 200, None

        return lambda retry: asyncio.to_thread(fire, retry)


async def due_checkin(side: DueSide) -> Send:
    return side.due_sender(CHECKIN_JOB, {"programme_id": side.programme, "number": 1}, f"checkin:{side.programme}:1")


async def due_survey(side: DueSide) -> Send:
    return side.due_sender(
        SURVEY_JOB, {"programme_id": side.programme, "subject": "midpoint"}, f"survey:{side.programme}:midpoint"
    )


DUE_STEPS = [("due check-in (programme_checkin)", due_checkin), ("due midpoint survey (programme_survey)", due_survey)]


# -- running a scenario --------------------------------------------------------------------------------------


async def _play(side: Any, send: Send, times: int) -> list[tuple[int, Any]]:
    answers = [await send(None)]
    if times > 1:
        answers.append(await send(1))  # a retry before the worker has handled the original
    await side.settle()
    if times > 1:
        answers += await asyncio.gather(send(2), send(3))  # two more, together, after it was handled
        await side.settle()
    return answers


async def four_times(platform: str, once_store: SqlStore, four_store: SqlStore) -> list[StepResult]:
    """Play ``platform``'s scenario (slack, teams or due) once and four times over; one result per step."""
    from fault_runs import working_moment

    shift, zone = working_moment(datetime.now(UTC))
    make, steps = {
        "slack": (SlackSide, SLACK_STEPS),
        "teams": (TeamsSide, TEAMS_STEPS),
        "due": (lambda store: DueSide(store, shift, zone), DUE_STEPS),
    }[platform]
    results = []
    async with AsyncExitStack() as stack:
        once = await stack.enter_async_context(make(once_store))
        four = await stack.enter_async_context(make(four_store))
        for name, step in steps:
            before = len(once.messages())
            answers_once = await _play(once, await step(once), 1)
            try:
                answers_four = await _play(four, await step(four), 4)
            except Exception as exc:  # noqa: BLE001 - the four-times side went elsewhere: stop there
                results.append(
                    StepResult(
                        name,
                        len(once.messages()) - before,
                        [
                            f"the step cannot be played after four deliveries ({type(exc).__name__}: {exc}); "
                            f"the messages so far differ by {len(four.messages()) - len(once.messages())}"
                        ],
                    )
                )
                break
            result = StepResult(name, len(once.messages()) - before)
            if once.messages() != four.messages():
                result.problems.append(
                    f"messages differ:\n  once: {once.messages()[before:]}\n  four: {four.messages()[before:]}"
                )
            if any(status != 200 for status, _ in answers_once + answers_four):
                result.problems.append(f"not acknowledged with 200: {answers_once + answers_four}")
            if any(plain(answer) != plain(answers_once[0][1]) for _, answer in answers_four):
                result.problems.append(f"a retry was answered differently: {answers_four}")
            result.problems += differences(dump(once_store), dump(four_store))
            results.append(result)
    return results

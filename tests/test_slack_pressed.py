"""Pressed messages change: after a press in a DM, the message shows the choice without its buttons
(``chat.update``, through the outbox), and a press on an outdated message is refused kindly and changes
nothing. Driven over HTTP with signed ``block_actions`` payloads against the fake Slack."""

from __future__ import annotations

import copy
import itertools
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from adapters.console.session import console_event
from adapters.slack.pressed import NOTE_BLOCK
from bot.model import Action, Choice, OutgoingMessage, Pressed
from bot.wording import say, unescape
from chat import Chat
from fake_slack import FakeSlack, payload
from storage.store import SqlStore
from storage.tables import OutboxMessageRow
from test_sessions import MENTEE as SESSION_MENTEE
from test_sessions import MENTOR as SESSION_MENTOR
from test_sessions import offer
from test_sessions_over_time import pair_up, sessions
from test_slack_harness import MENTOR, TEAM, SlackBot, blocks_text, buttons, fake_users, seed

INVITED = "invited you to *Digital 2030*"
PRESSES = itertools.count(1)


def posted(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    """The messages in ``user``'s DM with the bot, as the fake keeps them now (updates applied): ts, text, blocks."""
    return fake.messages[fake.dm_channel(user)]


def state_of(store: SqlStore, programme_id: int, user: str) -> tuple[str, dict[str, Any], str | None]:
    """The person's status in the programme, their questionnaire answers so far, and the question they are at."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None
        person = uow.people.by_identity(tenant.id, "slack", user)
        assert person is not None
        participant = uow.participants.find(programme_id, person.id)
        assert participant is not None
        conversation = uow.conversations.load(tenant.id, person.id)
        return participant.status.value, dict(conversation.answers), conversation.step


async def press_in(
    bot: SlackBot,
    user: str,
    message: dict[str, Any],
    label: str,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``user`` presses the button ``label`` of ``message`` (in their DM), as Slack sends it: the container
    names the message's channel and ``ts``. ``blocks``: the message as the person's screen still shows it (an
    older copy, before an update reached them). Returns the payload, after checking that it was acknowledged."""
    shown = blocks if blocks is not None else message["blocks"]
    block = next(
        b
        for b in shown
        if b.get("type") == "actions" and any(e.get("text", {}).get("text") == label for e in b["elements"])
    )
    element = next(e for e in block["elements"] if e.get("text", {}).get("text") == label)
    channel = bot.fake.dm_channel(user)
    body: dict[str, Any] = copy.deepcopy(payload("block_actions.json"))
    body["user"].update(id=user, team_id=TEAM)
    body["team"]["id"] = TEAM
    body["trigger_id"] = bot.next_id("act.")
    body["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False}
    body["channel"] = {"id": channel, "name": "directmessage"}
    body["message"] = {"type": "message", "ts": message["ts"], "text": message["text"], "blocks": shown}
    body["actions"] = [
        {
            "action_id": element["action_id"],
            "block_id": block.get("block_id", "b"),
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": element.get("value", ""),
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
    ]
    assert (await bot.interact(body))[0] == 200
    return body


def updates_of(fake: FakeSlack, message: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``chat.update`` calls the bot made for ``message``."""
    return [c.args for c in fake.calls_to("chat.update") if c.args.get("ts") == message["ts"]]


def note(blocks: list[dict[str, Any]]) -> str:
    """The note shown in place of a pressed message's buttons."""
    return blocks_text([b for b in blocks if b.get("block_id") == NOTE_BLOCK])


async def invited(bot: SlackBot, fake: FakeSlack) -> dict[str, Any]:
    """Arjun is invited as a mentor; the invitation as it reached his DM."""
    assert (await bot.command(f"invite <@{MENTOR}|arjun> as mentor"))[0] == 200
    await bot.work()
    invitation = posted(fake, MENTOR)[-1]
    assert INVITED in blocks_text(invitation["blocks"])
    return invitation


async def test_a_pressed_invitation_shows_the_choice_without_its_buttons(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            assert set(buttons(invitation["blocks"])) == {"Yes, I'm in", "No, thanks"}
            key = invitation["metadata"]["event_payload"]["key"]
            await press_in(bot, MENTOR, invitation, "Yes, I'm in")
            await bot.work()

            assert state_of(sqlite_store, programme, MENTOR)[0] == "active"
            [update] = updates_of(fake, invitation)
            assert update["channel"] == fake.dm_channel(MENTOR)
            assert buttons(update["blocks"]) == {} and not [b for b in update["blocks"] if b["type"] == "actions"]
            assert note(update["blocks"]) == "✓ Yes, I'm in"
            assert INVITED in blocks_text(update["blocks"])  # the invitation itself is still there to read
            # what the person now sees: the same message, answered, no buttons, its idempotency key kept
            now = posted(fake, MENTOR)[0]
            assert now["ts"] == invitation["ts"] and buttons(now["blocks"]) == {}
            assert now["metadata"]["event_payload"]["key"] == key
            # the answer itself comes as a new message, as before
            assert "you're in" in posted(fake, MENTOR)[1]["text"]


async def test_no_thanks_on_an_old_invitation_after_accepting_and_answering_does_not_withdraw(
    sqlite_store: SqlStore,
) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            old_screen = copy.deepcopy(invitation["blocks"])  # a phone that has not refreshed still shows these
            await press_in(bot, MENTOR, invitation, "Yes, I'm in")
            await bot.work()
            question = posted(fake, MENTOR)[-1]
            await press_in(bot, MENTOR, question, "Yes")  # the first question of the intake, answered
            await bot.work()
            status, answers, step = state_of(sqlite_store, programme, MENTOR)
            assert status == "active" and len(answers) == 1
            before = len(fake.posts(fake.dm_channel(MENTOR)))

            await press_in(bot, MENTOR, invitation, "No, thanks", blocks=old_screen)
            await bot.work()

            # not withdrawn, nothing of the intake lost, still at the same question
            assert state_of(sqlite_store, programme, MENTOR) == (status, answers, step)
            # one kind sentence, and nothing else
            [told] = fake.posts(fake.dm_channel(MENTOR))[before:]
            assert told["text"] == (
                "You already answered the invitation to Digital 2030, so that button changed nothing: "
                "you're in as a mentor."
            )
            # the invitation keeps showing what was chosen in it, and still has no buttons
            shown = posted(fake, MENTOR)[0]
            assert note(shown["blocks"]) == "✓ Yes, I'm in" and buttons(shown["blocks"]) == {}


async def test_an_answer_pressed_on_a_question_that_has_moved_on_is_refused(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            await press_in(bot, MENTOR, invitation, "Yes, I'm in")
            await bot.work()
            question = copy.deepcopy(posted(fake, MENTOR)[-1])
            await press_in(bot, MENTOR, question, "Yes")
            await bot.work()
            assert note(posted(fake, MENTOR)[-2]["blocks"]) == "✓ Yes"  # the question, answered
            status, answers, step = state_of(sqlite_store, programme, MENTOR)
            before = len(fake.posts(fake.dm_channel(MENTOR)))

            await press_in(bot, MENTOR, question, "No")  # the old question's other button, on a stale screen
            await bot.work()

            assert state_of(sqlite_store, programme, MENTOR) == (status, answers, step)  # not taken for another
            stale, asked_again = fake.posts(fake.dm_channel(MENTOR))[before:]
            assert stale["text"] == unescape(say("flow.stale_answer"))
            assert "Question 2 of" in blocks_text(asked_again["blocks"])
            # the old question keeps its answer
            shown = next(m for m in posted(fake, MENTOR) if m["ts"] == question["ts"])
            assert note(shown["blocks"]) == "✓ Yes" and buttons(shown["blocks"]) == {}


async def test_an_outdated_press_on_a_message_still_showing_buttons_says_it_no_longer_applies(
    sqlite_store: SqlStore,
) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            first = await invited(bot, fake)
            await bot.command(f"invite <@{MENTOR}|arjun> as mentor")  # already invited: no second question
            await bot.work()
            # Arjun volunteers: the same question again, in a new message (the first one still has its buttons)
            await bot.dm("join as mentor", user=MENTOR)
            await bot.work()
            again = posted(fake, MENTOR)[-1]
            assert again["ts"] != first["ts"] and set(buttons(again["blocks"])) == {"Yes, I'm in", "No, thanks"}
            await press_in(bot, MENTOR, again, "Yes, I'm in")
            await bot.work()
            before = len(fake.posts(fake.dm_channel(MENTOR)))

            await press_in(bot, MENTOR, first, "No, thanks")
            await bot.work()

            assert state_of(sqlite_store, programme, MENTOR)[0] == "active"
            [told] = fake.posts(fake.dm_channel(MENTOR))[before:]
            assert "changed nothing" in told["text"]
            shown = next(m for m in posted(fake, MENTOR) if m["ts"] == first["ts"])
            assert buttons(shown["blocks"]) == {}
            assert note(shown["blocks"]) == unescape(say("pressed.closed"))


async def test_the_update_is_exactly_once_in_effect_and_survives_a_slack_error(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            fake.fail("chat.update", "internal_error")  # Slack stumbles on the first try
            body = await press_in(bot, MENTOR, invitation, "No, thanks")
            await bot.work()
            assert state_of(sqlite_store, programme, MENTOR)[0] == "declined"
            assert buttons(posted(fake, MENTOR)[0]["blocks"]) != {}  # not changed yet: the update waits its retry
            _outbox_due_now(sqlite_store)
            await bot.work()
            shown = posted(fake, MENTOR)[0]
            assert note(shown["blocks"]) == "✓ No, thanks" and buttons(shown["blocks"]) == {}
            assert len(updates_of(fake, invitation)) == 1  # the failed try changed nothing at Slack

            # the sender dies after updating, before recording it: the update is offered again, changes nothing
            _outbox_due_now(sqlite_store, as_if_the_sender_died=True)
            await bot.work()
            assert len(updates_of(fake, invitation)) == 1 and posted(fake, MENTOR)[0] == shown

            # Slack delivers the same press again (a retry): the inbox refuses it, nothing more happens
            calls = len(fake.calls)
            assert (await bot.interact(body, retry=1))[0] == 200
            await bot.work()
            assert len(fake.calls) == calls and state_of(sqlite_store, programme, MENTOR)[0] == "declined"


async def test_presses_outside_a_dm_message_leave_the_message_alone(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            invitation = await invited(bot, fake)
            action_id, value = buttons(invitation["blocks"])["Yes, I'm in"]
            # the harness's press names no message of the fake's: a channel post is never updated
            assert (await bot.press(MENTOR, action_id, value, channel="C0GENERAL"))[0] == 200
            await bot.work()
            assert fake.calls_to("chat.update") == [] and fake.calls_to("conversations.history") == []


def _outbox_due_now(store: SqlStore, as_if_the_sender_died: bool = False) -> None:
    """Make the outbox messages waiting for a retry due now (the deliverer's back-off, skipped); with
    ``as_if_the_sender_died``, the updates of pressed messages also become unsettled again, as when a sender
    dies after its Web API calls and before recording them (its lease then runs out)."""
    with store.unit_of_work() as uow:
        rows: list[OutboxMessageRow] = list(uow.session.execute(select(OutboxMessageRow)).scalars())
        for row in rows:
            if as_if_the_sender_died and row.payload.get("replaces"):
                row.status, row.pending, row.sent_at = "sending", list(row.recipients), None
            row.not_before = datetime(2000, 1, 1, tzinfo=UTC)


# -- the engine's side: "outdated" is decided for every platform, the update only where a message was named ----


def press_named(chat: Chat, email: str, choice: Choice, ref: str) -> list[OutgoingMessage]:
    """``email`` presses ``choice`` in the message the platform calls ``ref`` (as the Slack adapter names a DM
    message); returns what the engine sent that person in answer."""
    action = Action(id=choice.action, value=choice.value)
    event = console_event(email, "", action, chat.clock.now(), f"press:{next(PRESSES)}")
    before = len(chat.received(email))
    chat.runtime.accept(event.model_copy(update={"pressed": Pressed(ref=ref, label=choice.label)}))
    chat.pump(email)
    return chat.received(email)[before:]


def test_a_time_pressed_after_the_session_was_confirmed_changes_nothing(chat: Chat) -> None:
    pair_up(chat)
    times = offer(chat, SESSION_MENTOR)
    chosen, other = times.choices[0], times.choices[1]
    assert [m.replaces for m in press_named(chat, SESSION_MENTOR, chosen, "D1 1.1")][-1] == "D1 1.1"
    chat.press(SESSION_MENTEE, "Yes, that works")
    booked = [(s.id, s.starts_at, s.status) for s in sessions(chat)]
    assert booked

    answer = press_named(chat, SESSION_MENTOR, other, "D1 1.1")  # the old offer, another time

    assert [(s.id, s.starts_at, s.status) for s in sessions(chat)] == booked
    [told] = [m for m in answer if not m.replaces]
    assert unescape(told.text) == unescape(say("sessions.nothing_to_pick"))
    [update] = [m for m in answer if m.replaces]
    assert update.replaces == "D1 1.1" and update.outdated  # the message keeps the time chosen in it
    # a refusal for another reason leaves the buttons: nothing is updated
    damaged = Choice(label="Tue 10:00", action="slot.pick", value="v1:nonsense")
    assert [m.replaces for m in press_named(chat, SESSION_MENTOR, damaged, "D1 1.2")] == [""]

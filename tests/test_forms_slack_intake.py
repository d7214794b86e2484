"""The intake as a Slack modal, driven over HTTP against the fake Slack.

The "Fill in the form" button opens the modal with the fresh trigger; a submission with mistakes is answered
inline with nothing stored, a good one is stored whole and exactly once, and an intake completed through the
modal ends where the chat intake ends.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fake_slack import FakeSlack, payload
from form_support import MENTOR_ANSWERS, inbox_count, modal_state, slack_open_modal
from storage.store import SqlStore
from test_slack_harness import MENTOR, TEAM, SlackBot, blocks_text, buttons, fake_users, seed

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

"""A Teams text input stops where the questionnaire does (issue #18): every ``Input.Text`` of a question or
a card form carries its own question's ``max_length`` from ``prompts/flows``, so the card never takes an
answer the engine would refuse. Driven over HTTP with activities against the fake connector; every card
delivered is checked against the Adaptive Card 1.5 schema."""

from __future__ import annotations

from typing import Any

from bot.flows.definition import load_flow
from bot.wording import say
from fake_teams import FakeTeams
from storage.store import SqlStore
from test_teams_harness import COORDINATOR, MENTOR, TENANT, TeamsBot, buttons, card_text, person_id, seed, walk

FORM_BUTTON = "Fill in the form"


def text_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in walk(card.get("body", [])) if e.get("type") == "Input.Text"}


def typed_limits(flow: str) -> dict[str, int]:
    """Step id -> the most characters its answer may have, for the flow's text questions, as declared."""
    return {s.id: s.max_length for s in load_flow(flow).steps if s.kind in ("text", "long_text")}


async def consented(bot: TeamsBot) -> dict[str, Any]:
    """The mentor is invited and presses "Yes, I'm in"; returns the card of the intake's first question."""
    await bot.install(COORDINATOR, MENTOR)
    await bot.say(COORDINATOR, f"invite {MENTOR.email} as mentor")
    await bot.work()
    assert (await bot.post(bot.submit(MENTOR, buttons(bot.cards_for(MENTOR)[-1])["Yes, I'm in"])))[0] == 200
    await bot.work()
    return bot.cards_for(MENTOR)[-1]


async def test_a_text_question_takes_as_many_characters_as_the_engine_does(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    limit = typed_limits("intake")["topics_detail"]
    assert limit == 600  # what prompts/flows/intake.yml declares: the card must follow it, never 3,000
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            first = await consented(bot)
            assert (await bot.post(bot.submit(MENTOR, buttons(first)["Yes"])))[0] == 200
            await bot.work()
            topics = bot.cards_for(MENTOR)[-1]
            assert "What could you teach" in card_text(topics)
            send = buttons(topics)["Send"]
            [picks] = [e for e in walk(topics["body"]) if e.get("type") == "Input.ChoiceSet"]
            two = ",".join(c["value"] for c in picks["choices"][:2])
            assert (await bot.post(bot.submit(MENTOR, {**send, "rmbot_answer": two})))[0] == 200
            await bot.work()
            detail = bot.cards_for(MENTOR)[-1]
            assert "Anything specific you know well" in card_text(detail)
            [answer] = text_inputs(detail).values()
            assert answer["maxLength"] == limit and answer["isMultiline"] is True

            send = buttons(detail)["Send"]
            before = len(bot.cards_for(MENTOR))
            assert (await bot.post(bot.submit(MENTOR, {**send, "rmbot_answer": "x" * (limit + 1)})))[0] == 200
            await bot.work()
            answers = "\n".join(card_text(c) for c in bot.cards_for(MENTOR)[before:])
            assert say("input.too_long", length=limit + 1, maximum=limit) in answers  # one more is the engine's "no"
            assert (await bot.post(bot.submit(MENTOR, {**send, "rmbot_answer": "y" * limit})))[0] == 200
            await bot.work()
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.ensure("teams", TENANT)
                state = uow.conversations.load(tenant.id, person_id(sqlite_store, MENTOR))
            assert state.answers["topics_detail"] == "y" * limit  # the most the card takes is taken whole


async def test_every_text_input_of_a_card_form_has_its_questions_own_limit(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    limits = typed_limits("intake")
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            await consented(bot)
            offer = next(c for c in reversed(bot.cards_for(MENTOR)) if FORM_BUTTON in buttons(c))
            assert (await bot.post(bot.submit(MENTOR, buttons(offer)[FORM_BUTTON])))[0] == 200
            await bot.work()
            form = bot.cards_for(MENTOR)[-1]  # checked against the schema by cards_for
            shown = {key.removeprefix("rmbot_f_"): e for key, e in text_inputs(form).items()}
            typed = {step: e["maxLength"] for step, e in shown.items() if step in limits}
            assert typed and typed == {step: limits[step] for step in typed}
            assert typed["goals"] == 800 and typed["topics_detail"] == 600
            assert all(e["maxLength"] <= 3000 for e in shown.values())

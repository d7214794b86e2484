"""The intake as a Teams card form, driven over HTTP against the fake Teams: mistakes are answered inline with
nothing stored, a good submission is stored whole and exactly once."""

from __future__ import annotations

from typing import Any

from fake_teams import FakeTeams
from form_support import FORM_BUTTON, MENTOR_ANSWERS, inbox_count
from storage.store import SqlStore
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import TeamsBot, card_text, person_id, walk
from test_teams_harness import buttons as card_buttons
from test_teams_harness import seed as teams_seed


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

"""Adaptive Cards from neutral messages: valid against the 1.5 schema at their largest, within Teams' size,
people's text never turned into markup, and every input read back into what the engine expects."""

from __future__ import annotations

import base64
import json
from typing import Any, get_args

import pytest

from adapters.teams import cards
from adapters.teams.markdown import escape, to_markdown
from adapters.teams.translate import event_of
from bot.model import Action, Address, Attachment, Choice, FieldKind, Form, FormField, OutgoingMessage, Section
from bot.wording import escape as typed
from bot.wording import say
from test_teams_harness import BOT, TENANT, assert_valid_card, buttons, card_validator, walk

KINDS = list(get_args(FieldKind))


def message(**fields: Any) -> OutgoingMessage:
    return OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="k", **{"text": "Hello", **fields})


def options(count: int, action: str = "pick") -> list[Choice]:
    return [
        Choice(
            label=f"Option {n} with a fairly long label to fill the card",
            action=action,
            value=f"v{n}",
            description="a description",
        )
        for n in range(count)
    ]


def field(kind: str, number: int = 0, current: Any = None) -> FormField:
    choices = options(12) if kind in ("choice", "multi_choice", "rank") else []
    return FormField(
        id=f"{kind}_{number}",
        label=f"Question about {kind}?",
        kind=kind,
        hint="for example: this",  # type: ignore[arg-type]
        choices=choices,
        minimum=1 if kind in ("integer", "number") else None,
        maximum=10 if kind in ("integer", "number") else None,
        max_selected=3,
        current=current,
        required=number % 2 == 0,
    )


def image(size: int) -> Attachment:
    return Attachment(
        filename="chart.png", media_type="image/png", content_b64=base64.b64encode(b"\x89PNG" + b"x" * size).decode()
    )


def largest() -> list[OutgoingMessage]:
    """Messages at (and past) every limit a message can reach."""
    long_text = "\n\n".join(
        f"Paragraph {n}: **bold** _italic_ `code` [a link](https://example.com/{n}) and "
        f"{typed('what someone typed: **stars** <at>x</at> [y](https://evil.example)')} " * 8
        for n in range(40)
    )
    sections = [
        Section(text=f"**Section {n}**", fields=[(f"Label {m}", f"Value {m} " * 30) for m in range(25)])
        for n in range(30)
    ]
    files = [
        image(2_000),
        image(60_000),
        Attachment(filename="report.csv", media_type="text/csv", content_b64=base64.b64encode(b"a,b\n1,2\n").decode()),
        Attachment(
            filename="session.ics",
            media_type="text/calendar",
            content_b64=base64.b64encode(b"BEGIN:VCALENDAR").decode(),
        ),
    ]
    return [
        message(
            text=long_text,
            sections=sections,
            context=["small print " * 50] * 10,
            attachments=files,
            choices=options(5, "consent"),
        ),
        message(text="Pick one", choices=options(40)),
        message(
            text="Pick any", choices=[Choice(label=f"Button {n}", action=f"a{n}", value=str(n)) for n in range(23)]
        ),
        message(
            text="The whole form",
            form=Form(action="flow.form", title="Intake", fields=[field(kind, n) for n, kind in enumerate(KINDS * 3)]),
        ),
        *[
            message(text=f"A {kind} question", question=field(kind, current=current), context=["Question 3 of 9"])
            for kind, current in zip(
                KINDS,
                ["x", "y", 3, 2.5, "2031-01-01", "v1", ["v1", "v2"], True, "UTC", "09:00-17:00", ["v2", "v1"]],
                strict=True,
            )
        ],
    ]


@pytest.mark.parametrize("number", range(len(largest())))
def test_every_card_is_valid_and_fits_in_a_teams_message(number: int) -> None:
    out = largest()[number]
    rendered = cards.render(out, "123", lambda index: f"https://mentoring.example.com/teams/files/t{index}")
    for card in rendered:
        assert_valid_card(card)
        assert cards.size(card) <= cards.CARD_BUDGET + 2_000
        activity = {
            "type": "message",
            "summary": cards.summary(out),
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
        assert len(json.dumps(activity).encode()) < 28 * 1024
    controls = [e for card in rendered for e in card["body"] if str(e.get("id", "")).startswith(cards.CONTROLS_ID)]
    assert bool(controls) == bool(out.choices or out.question or out.form)
    assert len(controls) == 1 or out.form is not None


def test_the_schema_check_is_not_toothless() -> None:
    card = cards.render(message())[0]
    card["body"][0]["inlines"][0]["colour"] = "Good"
    assert list(card_validator().iter_errors(card))


def test_a_long_message_splits_between_blocks_and_keeps_all_its_text() -> None:
    out = largest()[0]
    rendered = cards.render(out, "1")
    assert len(rendered) > 3
    shown = "".join(
        run["text"] for card in rendered for e in walk(card["body"]) if e.get("type") == "TextRun" for run in [e]
    )
    assert shown.count("Paragraph") == 40 * 8 and shown.count("what someone typed") == 40 * 8
    assert rendered[1]["fallbackText"] == "(continued)"


def test_what_people_typed_is_never_markup() -> None:
    text = "Hi " + typed("**Eve** <at>Boss</at> [click](https://evil.example) _x_ - item\n1. one")
    [card] = cards.render(message(text=text, sections=[Section(fields=[(typed("**k**"), typed("[v](https://e.x)"))])]))
    runs = [e for e in walk(card["body"]) if e.get("type") == "TextRun"]
    assert (
        "".join(r["text"] for r in runs) == "Hi **Eve** <at>Boss</at> [click](https://evil.example) _x_ - item\n1. one"
    )
    assert not [r for r in runs if "selectAction" in r or "weight" in r or "italic" in r]
    [facts] = [e for e in card["body"] if e.get("type") == "FactSet"]
    assert facts["facts"] == [{"title": r"\*\*k\*\*", "value": r"\[v\]\(https://e.x\)"}]
    assert escape("- a\n2. b") == "\\- a\n2\\. b"
    assert to_markdown("**bold** " + typed("*not*")) == r"**bold** \*not\*"


def test_the_products_own_markup_becomes_styles() -> None:
    [card] = cards.render(message(text="**Bold** _italic_ `code` [link](https://example.com)"))
    styled = {r["text"]: r for r in walk(card["body"]) if r.get("type") == "TextRun"}
    assert styled["Bold"]["weight"] == "Bolder" and styled["italic"]["italic"] is True
    assert styled["code"]["fontType"] == "Monospace"
    assert styled["link"]["selectAction"] == {"type": "Action.OpenUrl", "url": "https://example.com"}


def test_images_inline_or_linked_and_files_linked() -> None:
    out = message(attachments=largest()[0].attachments)
    [card] = cards.render(out, "9", lambda index: f"https://m.example/teams/files/{index}")
    images = [e["url"] for e in walk(card["body"]) if e.get("type") == "Image"]
    assert images[0].startswith("data:image/png;base64,") and images[1] == "https://m.example/teams/files/1"
    downloads = {e["title"]: e["url"] for e in walk(card["body"]) if e.get("type") == "Action.OpenUrl"}
    assert downloads == {
        "Download report.csv": "https://m.example/teams/files/2",
        "Download session.ics": "https://m.example/teams/files/3",
    }


def _pressed(data: dict[str, Any], via: str) -> Any:
    base = {
        "id": "a1",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "timestamp": "2030-01-01T09:00:00Z",
        "from": {"id": "29:u", "aadObjectId": "aad-u", "name": "U"},
        "recipient": {"id": BOT},
        "conversation": {"id": "a:chat", "conversationType": "personal", "tenantId": TENANT},
    }
    if via == "submit":
        return event_of({**base, "type": "message", "value": data})
    return event_of(
        {
            **base,
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": "rmbot", "data": data}},
        }
    )


def _send_data(card: dict[str, Any]) -> dict[str, Any]:
    return next(iter(buttons(card).values()))


@pytest.mark.parametrize("via", ["submit", "execute"])
@pytest.mark.parametrize(
    "kind, inputs, typed_answer",
    [
        ("text", {"rmbot_answer": "Hello there"}, "Hello there"),
        ("integer", {"rmbot_answer": "7"}, "7"),
        ("date", {"rmbot_answer": "2031-02-03"}, "2031-02-03"),
        ("multi_choice", {"rmbot_answer": "v1,v3"}, "v1, v3"),
        ("rank", {"rmbot_answer__1": "v2", "rmbot_answer__2": "v1", "rmbot_answer__3": "v5"}, "v2, v1, v5"),
        ("choice", {"rmbot_answer": "v4"}, "v4"),
        ("working_hours", {"rmbot_answer": "08:00-16:00"}, "08:00-16:00"),
    ],
)
def test_a_questions_inputs_come_back_as_the_typed_answer(
    via: str, kind: str, inputs: dict[str, str], typed_answer: str
) -> None:
    [card] = cards.render(message(question=field(kind)))
    event = _pressed({**_send_data(card), **inputs}, via)
    assert event.action is None and event.kind == "message" and event.text == typed_answer


def test_short_choice_questions_are_buttons_that_answer() -> None:
    [card] = cards.render(message(question=FormField(id="ok", label="OK?", kind="yes_no")))
    data = buttons(card)["Yes"]
    assert _pressed(data, "submit").text == "yes"


@pytest.mark.parametrize("via", ["submit", "execute"])
def test_buttons_and_drop_downs_come_back_as_the_engines_actions(via: str) -> None:
    [card] = cards.render(message(choices=[Choice(label="Yes, I'm in", action="consent", value="7:accept")]), "42")
    data = buttons(card)["Yes, I'm in"]
    assert data[cards.REF] == "42"
    assert _pressed(data, via).action == Action(id="consent", value="7:accept")
    [card] = cards.render(message(choices=options(20, action="flow.edit")))
    assert _pressed({**_send_data(card), "rmbot_pick": "v13"}, via).action == Action(id="flow.edit", value="v13")


@pytest.mark.parametrize("via", ["submit", "execute"])
def test_a_forms_inputs_come_back_as_values(via: str) -> None:
    form = Form(action="flow.form", title="Intake", fields=[field(k) for k in KINDS])
    [card] = cards.render(message(form=form))
    inputs = {
        "rmbot_f_text_0": "Words",
        "rmbot_f_integer_0": "4",
        "rmbot_f_multi_choice_0": "v1,v2",
        "rmbot_f_rank_0__1": "v3",
        "rmbot_f_rank_0__2": "v1",
        "rmbot_f_yes_no_0": "no",
        "rmbot_f_date_0": "",
        "rmbot_f_choice_0": "v0",
    }
    event = _pressed({**buttons(card)["Submit"], **inputs}, via)
    assert event.action == Action(
        id="flow.form",
        values={
            "text_0": "Words",
            "integer_0": "4",
            "multi_choice_0": ["v1", "v2"],
            "rank_0": ["v3", "v1"],
            "yes_no_0": "no",
            "choice_0": "v0",
        },
    )


def test_current_answers_are_filled_in() -> None:
    values = {
        e["id"]: e.get("value")
        for m in largest()[4:]
        for card in cards.render(m)
        for e in walk(card["body"])
        if str(e.get("type", "")).startswith("Input.")
    }
    assert values["rmbot_answer"] is not None
    [card] = cards.render(message(question=field("multi_choice", current=["v1", "v2"])))
    [choice_set] = [e for e in walk(card["body"]) if e.get("type") == "Input.ChoiceSet"]
    assert choice_set["value"] == "v1,v2" and choice_set["isMultiSelect"] is True


def test_the_answered_card_shows_the_choice_without_controls() -> None:
    out = message(text="Will you take part?", choices=[Choice(label="Yes, I'm in", action="consent", value="1:accept")])
    card = cards.answered(out, say("pressed.chosen", label="Yes, I'm in"))
    assert_valid_card(card)
    assert not buttons(card) and "✓ Yes, I'm in" in json.dumps(card, ensure_ascii=False)


def test_a_form_too_big_for_one_card_is_sent_in_parts_each_with_its_submit() -> None:
    form = Form(action="flow.form", title="Intake", fields=[field(kind, n) for n, kind in enumerate(KINDS * 4)])
    rendered = cards.render(message(form=form))
    submits = [data for card in rendered for title, data in buttons(card).items() if title == "Submit"]
    assert len(rendered) > 1 and len(submits) == len(rendered)
    assert [data[cards.PART] for data in submits] == list(range(len(rendered)))  # the card pressed is updated
    first_inputs = [e["id"] for e in walk(rendered[0]["body"]) if str(e.get("type", "")).startswith("Input.")]
    event = _pressed({**submits[0], **{i: "v1" for i in first_inputs if "__" not in i}}, "submit")
    assert event.action is not None and 0 < len(event.action.values) < len(form.fields)

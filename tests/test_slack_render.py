"""Block Kit rendering: escaping, splitting, paging, round-tripping actions, and Slack's limits at the largest."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from adapters.slack import forms, home, render
from adapters.slack.mrkdwn import chunks, to_mrkdwn, to_plain
from adapters.slack.render import engine_action, render_message, text_size
from bot.domain import Programme
from bot.flows.definition import load_flow
from bot.flows.runner import FlowRunner
from bot.model import Address, Choice, FieldKind, Form, FormField, OutgoingMessage, Section
from bot.reports.dashboard import Dashboard, Running, Taking, dashboard_message
from bot.wording import escape
from chat import Chat
from fake_slack import SPECS
from storage.store import SqlStore

LIMITS = {
    (item["class"], item["constant"]): item["value"]
    for item in json.loads((SPECS / "block_kit_limits.json").read_text())["limits"]
}
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def message(**fields: Any) -> OutgoingMessage:
    return OutgoingMessage(tenant_id=1, to=Address.person(1), idempotency_key="k", **{"text": "Hello", **fields})


def check_page(blocks: list[dict[str, Any]], limit: int = render.MAX_BLOCKS) -> None:
    """Every block re-parsed and validated by slack_sdk, plus what Slack documents and slack_sdk does not check."""
    assert 0 < len(blocks) <= limit
    assert text_size(blocks) <= render.PAGE_TEXT_BUDGET
    for raw in blocks:
        Block.parse(raw).to_dict()  # type: ignore[union-attr]  # raises SlackObjectFormationError
        for field in raw.get("fields", []):
            assert len(field["text"]) <= 2000
        for element in raw.get("elements", []) + ([raw["element"]] if "element" in raw else []):
            assert element.get("max_length", 0) <= 3000
            if element.get("type") == "mrkdwn":
                assert len(element["text"]) <= render.CONTEXT_TEXT
        ids = [e["action_id"] for e in raw.get("elements", []) if "action_id" in e]
        assert len(ids) == len(set(ids)), "action ids must be unique within a block"
        if raw.get("text", {}).get("type") == "mrkdwn":
            assert not ENTITY.search(raw["text"]["text"]), "a bare & would start an entity"


def test_our_limits_are_slacks_limits() -> None:
    assert LIMITS[("SectionBlock", "text_max_length")] == render.SECTION_TEXT
    assert LIMITS[("SectionBlock", "fields_max_length")] == render.FIELDS_PER_SECTION
    assert LIMITS[("ContextBlock", "elements_max_length")] == render.CONTEXT_ELEMENTS
    assert LIMITS[("ActionsBlock", "elements_max_length")] == render.ACTIONS_ELEMENTS
    assert LIMITS[("ButtonElement", "text_max_length")] == render.BUTTON_TEXT
    assert LIMITS[("ButtonElement", "value_max_length")] == render.BUTTON_VALUE
    assert LIMITS[("Option", "label_max_length")] == render.OPTION_TEXT
    assert LIMITS[("Option", "value_max_length")] == render.OPTION_VALUE
    assert LIMITS[("StaticSelectElement", "options_max_length")] == render.OPTIONS_PER_SELECT
    assert LIMITS[("InputInteractiveElement", "placeholder_max_length")] == render.PLACEHOLDER
    assert LIMITS[("View", "blocks_max_length")] == render.MAX_MODAL_BLOCKS
    assert LIMITS[("View", "title_max_length")] == forms.VIEW_TITLE
    assert LIMITS[("InputBlock", "label_max_length")] == forms.INPUT_LABEL
    assert LIMITS[("View", "private_metadata_max_length")] == forms.METADATA


def test_user_typed_control_sequences_are_escaped() -> None:
    typed = escape("<!channel> <@U123> & <https://evil.example|click> *bold*")
    assert to_mrkdwn(f"Hi **{escape('A&B')}**: {typed}") == (
        "Hi *A&amp;B*: &lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt; *bold*"
    )
    assert (
        to_mrkdwn("[the guide](https://x.example/a?b=1&c=<2>|3)")
        == "<https://x.example/a?b=1&amp;c=%3C2%3E%7C3|the guide>"
    )
    assert to_mrkdwn("** spaced **") == " *spaced* " and to_mrkdwn("`a<b`") == "`a&lt;b`"
    assert to_plain("**Hi** <!here>", 100) == "Hi &lt;!here&gt;"
    [page] = render_message(message(text=escape("<!channel> please join")))
    assert page.text == "&lt;!channel&gt; please join"
    assert page.blocks[0]["text"]["text"] == "&lt;!channel&gt; please join"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab <>&*_`\n[]()", max_size=600), st.integers(min_value=20, max_value=200))
def test_chunks_fit_and_never_break_an_entity(text: str, limit: int) -> None:
    pieces = chunks(escape(text), limit)
    for piece in pieces:
        assert len(piece) <= limit and not ENTITY.search(piece)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == to_mrkdwn(escape(text)).replace(" ", "").replace(
        "\n", ""
    )


def test_choices_round_trip_into_the_engines_actions() -> None:
    few = [
        Choice(label="Yes, I'm in", action="consent", value="7:accept", style="primary"),
        Choice(label="No, thanks", action="consent", value="7:decline"),
    ]
    [page] = render_message(message(choices=few))
    [actions] = [b for b in page.blocks if b["type"] == "actions"]
    assert [(engine_action(e["action_id"]), e["value"]) for e in actions["elements"]] == [
        ("consent", "7:accept"),
        ("consent", "7:decline"),
    ]
    many = [Choice(label=f"Programme {n}", action="join.pick", value=f"{n}:mentor") for n in range(12)]
    [page] = render_message(message(choices=many))
    [select] = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]]
    assert select["type"] == "static_select" and engine_action(select["action_id"]) == "join.pick"
    assert [o["value"] for o in select["options"]] == [c.value for c in many]
    mixed = [Choice(label=f"Do {n}", action=f"a{n % 3}", value=str(n)) for n in range(12)]
    [page] = render_message(message(choices=mixed))
    pressed = [
        (engine_action(e["action_id"]), e["value"])
        for b in page.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert pressed == [(c.action, c.value) for c in mixed]


def largest_message() -> OutgoingMessage:
    long = "**Agenda** " + " ".join(f"_item {n}_ & <notes> [link](https://example.com/{n})" for n in range(3000))
    return message(
        text=long,
        sections=[
            Section(
                text="notes " * 700, fields=[(f"Label {n} " * 10, "value " * (50 if n % 5 else 400)) for n in range(15)]
            )
            for _ in range(12)
        ],
        choices=[
            Choice(label="A very long button label " * 8, action=f"act{n % 2}", value="v" * 1900, description="d" * 200)
            for n in range(60)
        ],
        question=FormField(
            id="topics",
            label="Topics",
            kind="multi_choice",
            max_selected=200,
            hint="e.g. AI",
            choices=[Choice(label="Topic " * 30, action="flow.answer", value=f"t{n}") for n in range(150)],
        ),
        context=["context " * 900] * 25,
        form=Form(action="flow.form", title="A form", fields=[FormField(id="a", label="A")]),
    )


def test_the_largest_message_is_split_into_valid_posts() -> None:
    pages = render_message(largest_message(), form_ref="123")
    assert len(pages) > 1
    for page in pages:
        check_page(page.blocks)
        assert 0 < len(page.text) <= render.FALLBACK_TEXT


def test_every_question_kind_renders_within_limits() -> None:
    for kind in get_args(FieldKind):
        choices = [Choice(label=f"Option {n} " * 9, action="flow.answer", value=f"o{n}") for n in range(120)]
        field = FormField(
            id="q",
            label="Question " * 300,
            kind=kind,
            choices=choices if "choice" in kind or kind == "rank" else [],
            hint="Hint " * 600,
            minimum=1,
            maximum=10,
            max_selected=3,
            current="o3",
        )
        for page in render_message(message(question=field)):
            check_page(page.blocks)
        view = forms.form_view(
            Form(action="f", title="T" * 40, fields=[field] * 100, submit_label="Send it now please")
        )
        assert len(view["blocks"]) == 100 and len(view["title"]["text"]) <= 24
    with pytest.raises(render.RenderError):
        forms.form_view(Form(action="f", title="T", fields=[FormField(id=f"f{n}", label="F") for n in range(101)]))


def test_every_message_of_a_realistic_conversation_renders_within_limits(sqlite_store: SqlStore) -> None:
    """The engine's own templates with realistic data: a large sample organisation, every intake question."""
    chat = Chat(sqlite_store)
    chat.load_sample()
    coordinator = "amara.okafor@example.com"
    chat.make_tenant_coordinator(coordinator)
    chat.send(coordinator, "program new")
    for answer in [
        "Digital 2030",
        "1",
        "team-rated digital confidence",
        "5",
        "7",
        "2099-12-31",
        "2099-01-15",
        "2099-07-15",
        "2w",
        "45",
        "skip",
        "yes",
    ]:
        chat.send(coordinator, answer)
    with sqlite_store.unit_of_work() as uow:
        everyone = [p.email for p in uow.people.in_tenant(uow.tenants.find("console", "console").id)]  # type: ignore[union-attr]
    chat.send(coordinator, "invite " + " ".join(e for e in everyone if e != coordinator) + " as mentee")
    for text in ("status", "help", "help invite", "program show", "program list", "my-data", "nonsense"):
        chat.send(coordinator, text)
    mentor = "arjun.mehta@example.com"
    chat.send(coordinator, f"invite {mentor} as mentor")
    chat.press(mentor, "Yes, I'm in")
    for answer in ["yes", "1, 3, 11", "skip", "I want to practise explaining tools", "2, 1, 4", "review", "3", "1"]:
        chat.send(mentor, answer)
    messages = [m for received in chat.deliverer.inbox.values() for m in received]
    assert len(messages) > 20
    kinds = {m.question.kind for m in messages if m.question}
    assert {"yes_no", "multi_choice", "rank"} <= kinds
    for sent in messages:
        for page in render_message(sent, form_ref="1"):
            check_page(page.blocks)
    runner = FlowRunner()
    intake = load_flow("intake")
    view = forms.form_view(
        Form(action="flow.form", title=intake.title, fields=[runner._question(step, {}) for step in intake.steps])
    )
    assert 0 < len(view["blocks"]) <= 100


def test_the_home_tab_at_its_largest_stays_within_a_view() -> None:
    programmes = [
        Programme(id=n, tenant_id=1, name=f"Programme {n} " * 8, slug=f"p{n}", goal_metric="goal " * 200)
        for n in range(40)
    ]
    health = SimpleNamespace(
        people={"mentor": {"active": 30, "invited": 12}, "mentee": {"active": 30}},
        intake_done={"mentor": 1, "mentee": 2},
        mentees_paired=3,
        mentees_active=30,
        pairs_live=3,
        pairs_at_risk=0,
        sessions_held=2,
        sessions_due=4,
        cancellations={},
        pulse=None,
        k=5,
        answered={"pulse": 3},
        released={},
        next_release=None,
    )
    board = Dashboard(
        name="Amara " * 40,
        time_zone="UTC",
        taking=[
            Taking(
                programme=p,
                role="mentor",
                status="active",
                partners=["Someone " * 20],
                next_session="Mon 03 Mar, 10:00 (UTC)",
                topic="Topic " * 30,
            )
            for p in programmes
        ],
        running=[Running(programme=p, health=health) for p in programmes],  # type: ignore[arg-type]
        quick=["next", "agenda", "goals", "feedback", "support", "intake", "join", "help"],
    )
    view = home.home_view(dashboard_message(board, 1, 1, "k"), datetime(2030, 1, 1, tzinfo=UTC))
    assert len(view["blocks"]) <= 100
    for raw in view["blocks"]:
        Block.parse(raw).to_dict()  # type: ignore[union-attr]
    assert home.home_view(None, datetime(2030, 1, 1, tzinfo=UTC))["blocks"]

"""Neutral markdown (bot/markup.py) and the wording catalogue that escapes what people type (bot/wording.py)."""

from __future__ import annotations

import jinja2
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.markup import Span, plain_text, spans
from bot.wording import MissingWording, Trusted, escape, say, unescape, wording


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in spans(text) if not (s.kind == "text" and s.text == "")]


# --- spans ------------------------------------------------------------------------------------------


def test_plain_text_is_one_span() -> None:
    assert spans("hello there") == [Span("text", "hello there")]


def test_bold_italic_code_and_link() -> None:
    assert kinds("**Digital 2027** is _on_ `program show` [guide](https://example.org/guide?a=1) now") == [
        ("bold", "Digital 2027"),
        ("text", " is "),
        ("italic", "on"),
        ("text", " "),
        ("code", "program show"),
        ("text", " "),
        ("link", "guide"),
        ("text", " now"),
    ]
    link = [s for s in spans("[guide](https://example.org/x)") if s.kind == "link"]
    assert link == [Span("link", "guide", "https://example.org/x")]


def test_markup_inside_words_is_not_italic() -> None:
    assert kinds("snake_case_name and my_var") == [("text", "snake_case_name and my_var")]


def test_link_needs_an_http_url() -> None:
    assert [s.kind for s in spans("[x](javascript:alert(1))")] == ["text"]
    assert [s.kind for s in spans("[x](ftp://host/file)")] == ["text"]


def test_escaped_characters_inside_markup_are_unescaped() -> None:
    assert kinds(r"**a\*b** `c\`d`") == [("bold", "a*b"), ("text", " "), ("code", "c`d")]


def test_unclosed_markup_is_plain_text() -> None:
    assert spans("**not closed") == [Span("text", "**not closed")]
    assert spans("`tick") == [Span("text", "`tick")]


def test_plain_text_flattens_markup() -> None:
    assert (
        plain_text("**Hi** _there_, see [the guide](https://example.org)")
        == "Hi there, see the guide (https://example.org)"
    )


def test_spans_has_no_empty_text_spans() -> None:
    assert spans("**bold** tail") == [Span("bold", "bold"), Span("text", " tail")]
    assert spans("**a**`b`") == [Span("bold", "a"), Span("code", "b")]


# --- escaping what people typed ---------------------------------------------------------------------

_TRICKY = st.sampled_from(
    [
        "*",
        "**",
        "_",
        "`",
        "[",
        "]",
        "(",
        ")",
        "\\",
        "<!channel>",
        "<@U123>",
        "&",
        "<",
        ">",
        "#",
        "~",
        "|",
        "https://x.y",
        "](https://evil.example)",
        " ",
        "\n",
        "a",
        "é",
        "😀",
    ]
)


@given(st.one_of(st.text(), st.lists(_TRICKY, max_size=30).map("".join)))
@example("**bold** _it_ `code` [l](https://x.y) \\*")
@example("[click](https://evil.example) <!channel> <@U123> &amp; &<>")
@example("\\")
@example("a\\_b_")
@example("")
def test_escaped_text_is_always_one_plain_span(typed: str) -> None:
    escaped = escape(typed)
    assert spans(escaped) == ([Span("text", typed)] if typed else [])
    assert unescape(escaped) == typed
    assert plain_text(escaped) == typed


@given(st.text(), st.text())
def test_escaped_values_never_change_the_surrounding_markup(before: str, after: str) -> None:
    text = f"**{escape(before)}!** then _{escape(after)}!_"
    assert kinds(text) == [("bold", before + "!"), ("text", " then "), ("italic", after + "!")]


# --- say() ------------------------------------------------------------------------------------------


def test_say_escapes_values() -> None:
    message = say("programme.name_taken", name="**x**")
    assert "bold" not in [s.kind for s in spans(message)]
    assert "**x**" in plain_text(message)
    assert all(s.kind == "text" for s in spans(message))


def test_say_leaves_trusted_values_alone() -> None:
    message = say("programme.name_taken", name=Trusted("**x**"))
    assert ("bold", "x") in kinds(message)


def test_trusted_filter_in_templates() -> None:
    assert kinds(wording().render_source("{{ v | trusted }} {{ v }}", v="**x**")) == [("bold", "x"), ("text", " **x**")]


def test_say_places_numbers_and_none() -> None:
    assert say("input.too_long", length=12, maximum=10) == "That's 12 characters; please keep it to 10 or fewer."
    assert wording().render_source("[{{ v }}]", v=None) == "[]"


def test_say_returns_trusted_text() -> None:
    assert isinstance(say("input.yes"), Trusted)


def test_say_unknown_key() -> None:
    with pytest.raises(MissingWording):
        say("no.such.key")


def test_render_source_escapes_answers() -> None:
    rendered = wording().render_source("Create **{{ answers.name }}**?", answers={"name": "_x_ [a](https://b.c)"})
    assert kinds(rendered) == [("text", "Create "), ("bold", "_x_ [a](https://b.c)"), ("text", "?")]


def test_render_source_does_not_collide_with_message_keys() -> None:
    from bot.wording import Wording

    catalogue = Wording()
    assert catalogue("input.yes") == "Yes"
    assert catalogue.render_source("input.yes") == "input.yes"


# --- the catalogue ----------------------------------------------------------------------------------


def test_catalogue_is_loaded_with_dotted_keys() -> None:
    keys = wording().keys()
    assert len(keys) > 50
    assert "programme.name_taken" in keys and "input.bad_date" in keys
    assert all("." in key for key in keys)
    assert wording().has("input.yes") and not wording().has("input.nope")


@pytest.mark.parametrize("key", wording().keys())
def test_every_template_compiles_and_fails_only_for_missing_values(key: str) -> None:
    try:
        rendered = say(key)
    except jinja2.UndefinedError:
        return
    assert isinstance(rendered, str)

"""Splitting and matching command text (bot/commands/registry.py) against prompts/commands.yml."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.registry import Args, CommandSyntaxError, Registry, address, parse_args, split_words

PRODUCT_VERBS = [
    "help",
    "join",
    "intake",
    "goals",
    "next",
    "agenda",
    "resources",
    "reschedule",
    "feedback",
    "support",
    "pause",
    "my-data",
    "forget-me",
    "program new",
    "program list",
    "program show",
    "program edit",
    "program close",
    "program clone",
    "program announce",
    "invite",
    "coordinators add",
    "match preview",
    "match weights",
    "match pin",
    "match forbid",
    "match rerun",
    "match publish",
    "rematch",
    "pair pause",
    "pair resume",
    "pair end",
    "status",
    "report",
    "remind",
]
ANYONE = PRODUCT_VERBS[:13]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


# --- split_words ------------------------------------------------------------------------------------


def test_split_words_keeps_quoted_phrases() -> None:
    assert split_words('program edit name "Digital 2027"') == ["program", "edit", "name", "Digital 2027"]
    assert split_words('join --program "Digital 2027" as mentor') == [
        "join",
        "--program",
        "Digital 2027",
        "as",
        "mentor",
    ]
    assert split_words('--program="Digital 2027"') == ["--program=Digital 2027"]


def test_split_words_keeps_apostrophes() -> None:
    assert split_words("agenda add don't forget Ana's demo") == ["agenda", "add", "don't", "forget", "Ana's", "demo"]
    assert split_words('agenda add "it\'s fine"') == ["agenda", "add", "it's fine"]


def test_split_words_whitespace() -> None:
    assert split_words("  help \t program\nnew  ") == ["help", "program", "new"]
    assert split_words("") == []
    assert split_words('""') == [""]


@pytest.mark.parametrize("text", ['program edit name "Digital 2027', '"', 'say "a" "b'])
def test_split_words_unclosed_quote(text: str) -> None:
    with pytest.raises(CommandSyntaxError):
        split_words(text)


def test_split_words_keeps_mentions_and_punctuation() -> None:
    assert split_words("invite <@U123> <@U456|ana> as mentor") == ["invite", "<@U123>", "<@U456|ana>", "as", "mentor"]
    assert split_words("rematch @ana.b!") == ["rematch", "@ana.b!"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("program announce in #general", ["program", "announce", "in", "#general"]),
        ("program edit name Team#1 now", ["program", "edit", "name", "Team#1", "now"]),
    ],
)
def test_split_words_keeps_hash_signs(text: str, words: list[str]) -> None:
    assert split_words(text) == words


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters='"\\#', blacklist_categories=("Cs",)), min_size=1)
        .map(str.split)
        .filter(lambda w: len(w) == 1)
        .map(lambda w: w[0]),
        max_size=8,
    )
)
def test_split_words_of_plain_words_is_str_split(words: list[str]) -> None:
    assert split_words(" ".join(words)) == words


# --- address: the leading word an adapter strips ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("/mentoring help", "help"),
        ("mentoring help", "help"),
        ("Mentoring program new", "program new"),
        ("/MENTORING   join as mentor ", "join as mentor"),
        ("mentoring", ""),
        ("/mentoring", ""),
        ("  MENTORING  ", ""),
        ("help", "help"),
        ("mentoringfoo", "mentoringfoo"),
        ("mentoringfoo help", "mentoringfoo help"),
        ("/mentoringfoo", "/mentoringfoo"),
        ("program show mentoring", "program show mentoring"),
        ("", ""),
    ],
)
def test_address_strips_the_leading_words_an_adapter_accepts(text: str, stripped: str) -> None:
    assert address(text, ("/mentoring", "mentoring")) == (stripped, stripped != text.strip())


def test_address_strips_only_the_neutral_word_by_default() -> None:
    assert address("mentoring help") == ("help", True)
    assert address("/mentoring help") == ("/mentoring help", False)


# --- parse_args -------------------------------------------------------------------------------------


def test_parse_args_options_and_words() -> None:
    args = parse_args(["as", "mentor", "--program", "Digital 2027", "--Days=3", "extra"], "raw text")
    assert args == Args(
        words=["as", "mentor", "extra"], options={"program": "Digital 2027", "days": "3"}, raw="raw text"
    )


def test_parse_args_equals_form_keeps_everything_after_the_first_equals() -> None:
    assert parse_args(["--note=a=b"], "").options == {"note": "a=b"}
    assert parse_args(["--empty="], "").options == {"empty": ""}


def test_parse_args_flag_without_value() -> None:
    assert parse_args(["--csv"], "").options == {"csv": ""}
    args = parse_args(["--csv", "--program", "X"], "")
    assert args.options == {"csv": "", "program": "X"}
    assert args.words == []


def test_parse_args_lone_dashes_are_words() -> None:
    assert parse_args(["--", "-x", "a"], "").words == ["--", "-x", "a"]


def test_parse_args_value_repeated_as_word_is_kept() -> None:
    args = parse_args(["--program", "x", "x"], "")
    assert args.options == {"program": "x"}
    assert args.words == ["x"]


# --- the registry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRODUCT_VERBS)
def test_every_product_verb_is_declared_with_usage_and_summary(registry: Registry, name: str) -> None:
    verb = registry.lookup(name)
    assert verb is not None, name
    assert verb.name == name
    assert verb.usage.strip() and verb.usage.split()[0] == name.split()[0]
    assert verb.summary.strip()
    assert verb.who == ("anyone" if name in ANYONE else "coordinator")


def test_registry_has_no_undeclared_extras_or_bad_fields(registry: Registry) -> None:
    assert set(registry.verbs) >= {tuple(name.split()) for name in PRODUCT_VERBS}
    for verb in registry.verbs.values():
        assert verb.who in ("anyone", "coordinator")
        assert verb.scope in ("programme", "tenant", "none")
    assert {"program", "match", "pair", "coordinators"} <= registry.groups()
    assert {v.name for v in registry.sub_verbs("pair")} == {"pair pause", "pair resume", "pair end"}


def test_match_prefers_the_two_word_verb(registry: Registry) -> None:
    verb, rest = registry.match(["Program", "NEW", "Digital", "2027"])
    assert (verb.name, rest) == ("program new", ["Digital", "2027"])
    verb, rest = registry.match(["pair", "pause", "@ana"])
    assert (verb.name, rest) == ("pair pause", ["@ana"])
    verb, rest = registry.match(["pause"])
    assert (verb.name, rest) == ("pause", [])
    verb, rest = registry.match(["help", "program", "new"])
    assert (verb.name, rest) == ("help", ["program", "new"])


def test_match_unknown(registry: Registry) -> None:
    assert registry.match([]) is None
    assert registry.match(["hlep"]) is None
    assert registry.match(["program"]) is None
    assert registry.match(["program", "destroy"]) is None


def test_suggest(registry: Registry) -> None:
    assert registry.suggest("hlep") == "help"
    assert registry.suggest("HELP") == "help"
    assert registry.suggest("progam") == "program"
    assert registry.suggest("remnd") == "remind"
    assert registry.suggest("xyzzy") is None


def test_handles_registers_only_declared_verbs() -> None:
    registry = Registry()

    @registry.handles("status")
    def status(turn, args, programme) -> None:  # pragma: no cover - never called
        pass

    assert registry.lookup("status").handler is status
    with pytest.raises(KeyError):
        registry.handles("program destroy")

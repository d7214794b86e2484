"""The session library (bot/library.py) read and checked: lookups, extra items merged, other directories, and
each validation problem with a specific message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.library import Library, LibraryError, load_library, parse_library, read_extra
from library_support import TAGS, good_framework, good_topic

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "docs" / "examples" / "library_extra.yml"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def rejected(topics: list[Any] | None = None, frameworks: list[Any] | None = None) -> str:
    with pytest.raises(LibraryError) as caught:
        parse_library(topics or [], frameworks or [], "test.yml")
    return str(caught.value)


# --- lookups and merging -------------------------------------------------------------------------------


def test_lookups_name_what_is_missing(library: Library) -> None:
    assert library.topic("ai_assistants_everyday").title == "AI assistants in everyday work"
    assert library.framework("grow").name == "GROW"
    with pytest.raises(LibraryError, match="no topic with id 'nope'"):
        library.topic("nope")
    with pytest.raises(LibraryError, match="no framework with id 'nope'"):
        library.framework("nope")
    with pytest.raises(LibraryError, match="unknown focus 'cooking'"):
        library.topics_for("cooking")


def test_merged_adds_and_overrides(library: Library) -> None:
    override = good_topic(id="ai_assistants_everyday", title="Our own take on AI assistants")
    merged = library.merged(
        {"topics": [good_topic(), override], "frameworks": [good_framework(id="grow"), good_framework()]}
    )
    assert merged is not library
    assert set(merged.topics) == set(library.topics) | {"test_topic"}
    assert set(merged.frameworks) == set(library.frameworks) | {"test_framework"}
    assert merged.topic("ai_assistants_everyday").title == "Our own take on AI assistants"
    assert merged.framework("grow").name == "Test framework"
    assert list(merged.topics)[: len(library.topics)] == list(library.topics)  # an override keeps its place
    # The shipped library is untouched.
    assert library.topic("ai_assistants_everyday").title == "AI assistants in everyday work"
    assert library.framework("grow").name == "GROW"
    assert "test_topic" not in library.topics
    assert library.merged({}) == library
    assert library.merged({"topics": [good_topic()]}).frameworks == library.frameworks


def test_merged_validates_the_extra_items(library: Library) -> None:
    with pytest.raises(LibraryError, match=r"^our programme: topic 'test_topic': unknown tag 'knitting'"):
        library.merged({"topics": [good_topic(tags=["knitting"])]}, source="our programme")
    with pytest.raises(LibraryError, match="unknown key"):
        library.merged({"topic": [good_topic()]})
    with pytest.raises(LibraryError, match="duplicate id"):
        library.merged({"topics": [good_topic(), good_topic()]})


def test_the_example_extra_file_validates_when_merged(library: Library) -> None:
    extra = read_extra(EXTRA)
    assert set(extra) == {"topics", "frameworks"}
    assert len(extra["topics"]) == 1 and len(extra["frameworks"]) == 1
    merged = library.merged(extra, source=str(EXTRA))
    assert len(merged.topics) == len(library.topics) + 1
    assert len(merged.frameworks) == len(library.frameworks) + 1
    parse_library(extra["topics"], extra["frameworks"], str(EXTRA))
    for framework in merged.frameworks.values():
        assert sum(minutes for _, minutes in framework.time_plan(45)) == 45


def test_load_library_from_another_directory(tmp_path: Path) -> None:
    (tmp_path / "topics.yml").write_text(yaml.safe_dump([good_topic(tags=["baking"])]), encoding="utf-8")
    (tmp_path / "frameworks.yml").write_text(yaml.safe_dump([good_framework()]), encoding="utf-8")
    (tmp_path / "topic_tags.yml").write_text(yaml.safe_dump([{"value": "baking", "label": "Baking"}]), encoding="utf-8")
    library = load_library(tmp_path)
    assert list(library.topics) == ["test_topic"] and list(library.frameworks) == ["test_framework"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "topics.yml").write_text(yaml.safe_dump([good_topic()]), encoding="utf-8")
    (broken / "frameworks.yml").write_text("- id: [broken", encoding="utf-8")
    with pytest.raises(LibraryError, match="frameworks.yml: not valid YAML"):
        load_library(broken)


# --- each validation problem, with a specific message --------------------------------------------------


def test_a_missing_field_is_named() -> None:
    topic = good_topic()
    del topic["activity"]
    assert rejected([topic]) == "test.yml: topic 'test_topic': missing field 'activity'"
    framework = good_framework()
    del framework["steps"][1]["guide"]
    assert rejected(frameworks=[framework]) == "test.yml: framework 'test_framework': step 2: missing field 'guide'"
    topic = good_topic()
    del topic["id"]
    assert rejected([good_topic(id="first"), topic]) == "test.yml: topic #2: missing field 'id'"


def test_an_unknown_focus_is_named() -> None:
    message = rejected([good_topic(focus=["digital", "gardening"])])
    assert message.startswith("test.yml: topic 'test_topic': unknown focus 'gardening' in focus (known: ")


def test_an_unknown_tag_is_named() -> None:
    message = rejected([good_topic(tags=["ai_tools", "knitting"])])
    assert message.startswith("test.yml: topic 'test_topic': unknown tag 'knitting' in tags")
    message = rejected([good_topic(resources_tags=["knitting"])])
    assert message.startswith("test.yml: topic 'test_topic': unknown tag 'knitting' in resources_tags")


def test_a_duplicate_id_is_named() -> None:
    assert rejected([good_topic(), good_topic()]) == "test.yml: topic 'test_topic': duplicate id (also topic #1)"
    assert rejected(frameworks=[good_framework(), good_framework()]) == (
        "test.yml: framework 'test_framework': duplicate id (also framework #1)"
    )


def test_shares_that_do_not_add_up_to_one_are_refused() -> None:
    framework = good_framework()
    framework["steps"][1]["share"] = 0.4
    assert rejected(frameworks=[framework]) == (
        "test.yml: framework 'test_framework': step shares add up to 0.900, not 1.0 (allowed: 1.0 ± 0.01)"
    )
    framework["steps"][1]["share"] = 0.505  # within the tolerance
    parse_library([], [framework], "test.yml")


def test_a_bad_share_is_refused() -> None:
    framework = good_framework()
    framework["steps"][0]["share"] = "a quarter"
    assert "step 1: share must be a number" in rejected(frameworks=[framework])
    framework["steps"][0]["share"] = 0
    assert "step 1: share must be more than 0" in rejected(frameworks=[framework])


@pytest.mark.parametrize(
    ("field", "count", "expected"),
    [
        ("outcomes", 1, "outcomes needs 2 to 4 items, got 1"),
        ("outcomes", 5, "outcomes needs 2 to 4 items, got 5"),
        ("questions", 2, "questions needs 3 to 5 items, got 2"),
        ("questions", 6, "questions needs 3 to 5 items, got 6"),
        ("tags", 0, "tags needs 1 to 3 items, got 0"),
        ("tags", 4, "tags needs 1 to 3 items, got 4"),
    ],
)
def test_too_few_or_too_many_topic_items_are_refused(field: str, count: int, expected: str) -> None:
    values = {
        "outcomes": [f"Do thing {n}." for n in range(count)],
        "questions": [f"Question {n}?" for n in range(count)],
        "tags": sorted(TAGS)[:count],
    }
    assert rejected([good_topic(**{field: values[field]})]) == f"test.yml: topic 'test_topic': {expected}"


@pytest.mark.parametrize("count", [2, 7])
def test_too_few_or_too_many_steps_are_refused(count: int) -> None:
    steps = [{"name": f"Step {n}", "share": 1 / count, "guide": "Go."} for n in range(count)]
    assert rejected(frameworks=[good_framework(steps=steps)]) == (
        f"test.yml: framework 'test_framework': steps needs 3 to 6 items, got {count}"
    )


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (good_topic(title="   "), "title is empty"),
        (good_topic(activity=""), "activity is empty"),
        (good_topic(activity=None), "activity is empty"),
        (good_topic(outcomes=["Do this.", ""]), "outcomes item 2 is empty"),
        (good_topic(questions=["One?", " ", "Three?"]), "questions item 2 is empty"),
    ],
)
def test_empty_topic_texts_are_refused(topic: dict[str, Any], expected: str) -> None:
    assert rejected([topic]) == f"test.yml: topic 'test_topic': {expected}"


def test_empty_framework_texts_are_refused() -> None:
    assert rejected(frameworks=[good_framework(summary="")]) == (
        "test.yml: framework 'test_framework': summary is empty"
    )
    framework = good_framework()
    framework["steps"][2]["guide"] = " "
    assert rejected(frameworks=[framework]) == "test.yml: framework 'test_framework': step 3 guide is empty"


def test_template_syntax_is_refused() -> None:
    assert rejected([good_topic(title="Hello {{ name }}")]) == (
        "test.yml: topic 'test_topic': title contains template syntax '{{'; library text must be plain"
    )
    framework = good_framework()
    framework["steps"][0]["guide"] = "{% if x %}Do it{% endif %}"
    assert "step 1 guide contains template syntax '{%'" in rejected(frameworks=[framework])


def test_other_shape_problems_are_named() -> None:
    assert "id 'Not Snake' is not snake_case" in rejected([good_topic(id="Not Snake")])
    assert "unknown field(s) colour" in rejected([good_topic(colour="blue")])
    assert "outcomes must be a list" in rejected([good_topic(outcomes="Do this.")])
    assert "title must be text" in rejected([good_topic(title=42)])
    assert "focus lists 'digital' twice" in rejected([good_topic(focus=["digital", "digital"])])
    assert "topic #1: must be a mapping" in rejected(["just text"])
    assert "topics must be a list" in rejected({"id": "x"})  # type: ignore[arg-type]
    framework = good_framework()
    framework["steps"][2]["name"] = "One"
    assert "step 3: step name 'One' is used twice" in rejected(frameworks=[framework])


def test_a_valid_item_is_parsed_into_frozen_data() -> None:
    library = parse_library([good_topic(resources_tags=["ai_tools"])], [good_framework()], "test.yml")
    topic = library.topic("test_topic")
    assert topic.focus == ("digital",) and topic.resources_tags == ("ai_tools",)
    assert isinstance(topic.outcomes, tuple) and isinstance(library.framework("test_framework").steps, tuple)
    with pytest.raises(AttributeError):
        topic.title = "changed"  # type: ignore[misc]
    assert copy.deepcopy(topic) == topic

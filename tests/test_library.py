"""The session library (bot/library.py): the shipped topics and frameworks, their validation, time plans."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.library import (
    FOCUSES,
    Framework,
    FrameworkStep,
    Library,
    LibraryError,
    Topic,
    known_tags,
    load_library,
    parse_library,
    read_extra,
)
from bot.wording import PROMPTS, escape, wording

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "docs" / "examples" / "library_extra.yml"
TAGS = {tag["value"] for tag in yaml.safe_load((PROMPTS / "library" / "topic_tags.yml").read_text("utf-8"))}

# The programme areas the library must cover, each recognised by its topic tags.
AREAS: dict[str, set[str]] = {
    "digital tools": {"collaboration_tools", "automation", "data_literacy", "cybersecurity"},
    "social media": {"social_platforms", "personal_brand", "content_creation", "online_communities"},
    "AI at work": {"ai_tools", "generative_ai"},
    "remote and hybrid work": {"remote_work"},
    "accessibility": {"accessibility"},
    "inclusion and lived experience": {"lived_experience", "inclusive_language"},
    "generational perspectives": {"generations"},
    "leadership from the front line": {"front_line_view", "feedback_culture"},
    "customers and market trends": {"customers_trends"},
    "wellbeing": {"wellbeing"},
}
REQUIRED_FRAMEWORKS = {
    "grow",
    "sbi_feedback",
    "start_stop_continue",
    "show_me_how",
    "reverse_shadowing",
    "ask_me_anything",
    "plan_30_60_90",
    "reflective_listening",
    "first_session",
}
NOT_VERBS = {"a", "an", "the", "this", "that", "you", "your", "i", "we", "how", "what", "why", "when", "it"}
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def sentences(text: str) -> int:
    return len(SENTENCE_END.findall(text))


def all_texts(library: Library) -> list[str]:
    texts: list[str] = []
    for topic in library.topics.values():
        texts += [topic.id, topic.title, topic.activity, *topic.outcomes, *topic.questions]
    for framework in library.frameworks.values():
        texts += [framework.id, framework.name, framework.summary, *framework.good_for]
        for step in framework.steps:
            texts += [step.name, step.guide]
    return texts


# --- a valid item to break, one problem at a time ----------------------------------------------------


def good_topic(**changes: Any) -> dict[str, Any]:
    topic = {
        "id": "test_topic",
        "title": "A test topic",
        "focus": ["digital"],
        "tags": ["ai_tools"],
        "outcomes": ["Try one thing.", "Explain another thing."],
        "questions": ["What is one?", "What is two?", "What is three?"],
        "activity": "Do something together.",
    }
    topic.update(changes)
    return topic


def good_framework(**changes: Any) -> dict[str, Any]:
    framework = {
        "id": "test_framework",
        "name": "Test framework",
        "summary": "For testing.",
        "good_for": ["testing"],
        "steps": [
            {"name": "One", "share": 0.25, "guide": "Do the first thing."},
            {"name": "Two", "share": 0.5, "guide": "Do the second thing."},
            {"name": "Three", "share": 0.25, "guide": "Do the third thing."},
        ],
    }
    framework.update(changes)
    return framework


def rejected(topics: list[Any] | None = None, frameworks: list[Any] | None = None) -> str:
    with pytest.raises(LibraryError) as caught:
        parse_library(topics or [], frameworks or [], "test.yml")
    return str(caught.value)


# --- the shipped library -------------------------------------------------------------------------------


def test_the_shipped_library_loads_once(library: Library) -> None:
    assert load_library() is library
    assert len(library.topics) >= 25
    assert len(library.frameworks) >= 8
    assert REQUIRED_FRAMEWORKS <= set(library.frameworks)
    assert all(isinstance(topic, Topic) for topic in library.topics.values())
    assert all(isinstance(framework, Framework) for framework in library.frameworks.values())


def test_every_topic_has_all_its_parts(library: Library) -> None:
    for topic in library.topics.values():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", topic.id), topic.id
        assert topic.title.strip(), topic.id
        assert topic.focus and set(topic.focus) <= set(FOCUSES), topic.id
        assert 1 <= len(topic.tags) <= 3, topic.id
        assert 2 <= len(topic.outcomes) <= 4, topic.id
        assert 3 <= len(topic.questions) <= 5, topic.id
        for outcome in topic.outcomes:
            first = outcome.split()[0]
            assert first[0].isupper() and first.lower() not in NOT_VERBS, (topic.id, outcome)
            assert sentences(outcome) == 1 and outcome.endswith("."), (topic.id, outcome)
        for question in topic.questions:
            assert question.endswith("?"), (topic.id, question)
        assert 1 <= sentences(topic.activity) <= 3, (topic.id, topic.activity)


def test_every_framework_has_all_its_parts(library: Library) -> None:
    for framework in library.frameworks.values():
        assert framework.name.strip() and framework.summary.strip(), framework.id
        assert sentences(framework.summary) == 1, framework.id
        assert 1 <= len(framework.good_for) <= 3, framework.id
        assert 3 <= len(framework.steps) <= 6, framework.id
        assert abs(sum(step.share for step in framework.steps) - 1.0) <= 0.01, framework.id
        for step in framework.steps:
            assert isinstance(step, FrameworkStep)
            assert step.name.strip() and 0 < step.share <= 1, framework.id
            assert 1 <= sentences(step.guide) <= 2, (framework.id, step.name)


def test_the_first_session_covers_getting_to_know_working_together_and_smart_goals(library: Library) -> None:
    first = library.framework("first_session")
    text = " ".join(f"{step.name} {step.guide}" for step in first.steps).lower()
    assert "getting to know each other" in text
    assert "confidential" in text
    assert "both drive" in text
    assert "smart" in text and "goal" in text


@pytest.mark.parametrize("area", sorted(AREAS))
def test_every_programme_area_has_at_least_two_topics(library: Library, area: str) -> None:
    covering = [topic.id for topic in library.topics.values() if AREAS[area].intersection(topic.tags)]
    assert len(covering) >= 2, (area, covering)


@pytest.mark.parametrize("focus", ["digital", "social_media", "inclusion", "leadership", "custom"])
def test_every_focus_has_topics(library: Library, focus: str) -> None:
    topics = library.topics_for(focus)
    assert len(topics) >= 2
    assert all(focus in topic.focus for topic in topics)


def test_every_tag_used_exists_in_topic_tags(library: Library) -> None:
    assert known_tags() == TAGS
    for topic in library.topics.values():
        assert set(topic.tags) <= TAGS, topic.id
        assert set(topic.resources_tags) <= TAGS, topic.id


def test_ids_and_titles_are_unique(library: Library) -> None:
    titles = [topic.title for topic in library.topics.values()]
    assert len(titles) == len(set(titles))
    names = [framework.name for framework in library.frameworks.values()]
    assert len(names) == len(set(names))


def test_every_text_is_plain_and_renders_as_written(library: Library) -> None:
    catalogue = wording()
    for text in all_texts(library):
        assert "{{" not in text and "{%" not in text and "{#" not in text, text
        assert catalogue.render_source("{{ text }}", text=text) == escape(text).strip()


@pytest.mark.parametrize("minutes", [30, 45, 60, 90])
def test_time_plans_fill_the_session(library: Library, minutes: int) -> None:
    for framework in library.frameworks.values():
        plan = framework.time_plan(minutes)
        assert [name for name, _ in plan] == [step.name for step in framework.steps]
        assert sum(share for _, share in plan) == minutes, framework.id
        assert all(share >= 1 for _, share in plan), (framework.id, plan)
        for (_, given_minutes), step in zip(plan, framework.steps, strict=True):
            assert abs(given_minutes - step.share * minutes) < 1.5, (framework.id, plan)


def test_time_plan_uses_largest_remainders() -> None:
    framework = parse_library(
        [],
        [
            good_framework(
                steps=[
                    {"name": "A", "share": 0.45, "guide": "A."},
                    {"name": "B", "share": 0.35, "guide": "B."},
                    {"name": "C", "share": 0.2, "guide": "C."},
                ]
            )
        ],
        "test",
    ).framework("test_framework")
    # 10 minutes: 4.5, 3.5, 2 -> floors 4, 3, 2 and one minute left for the earlier tie.
    assert framework.time_plan(10) == [("A", 5), ("B", 3), ("C", 2)]
    assert framework.time_plan(0) == [("A", 0), ("B", 0), ("C", 0)]
    with pytest.raises(ValueError):
        framework.time_plan(-1)


def test_time_plan_gives_every_step_a_minute_when_there_are_enough() -> None:
    framework = parse_library(
        [],
        [
            good_framework(
                steps=[
                    {"name": "Long", "share": 0.9, "guide": "Long."},
                    {"name": "Short", "share": 0.05, "guide": "Short."},
                    {"name": "Shorter", "share": 0.05, "guide": "Shorter."},
                ]
            )
        ],
        "test",
    ).framework("test_framework")
    assert framework.time_plan(3) == [("Long", 1), ("Short", 1), ("Shorter", 1)]
    assert framework.time_plan(5) == [("Long", 3), ("Short", 1), ("Shorter", 1)]
    assert framework.time_plan(2) == [("Long", 2), ("Short", 0), ("Shorter", 0)]


@st.composite
def frameworks(draw: st.DrawFn) -> Framework:
    weights = draw(st.lists(st.integers(min_value=1, max_value=100), min_size=3, max_size=6))
    total = sum(weights)
    steps = tuple(
        FrameworkStep(name=f"step {n}", share=weight / total, guide="Guide.") for n, weight in enumerate(weights)
    )
    return Framework(id="drawn", name="Drawn", summary="Drawn.", good_for=("test",), steps=steps)


@settings(max_examples=300, deadline=None)
@given(framework=frameworks(), minutes=st.integers(min_value=1, max_value=240))
def test_time_plan_always_sums_to_the_session_length(framework: Framework, minutes: int) -> None:
    plan = framework.time_plan(minutes)
    assert sum(share for _, share in plan) == minutes
    assert all(share >= 0 for _, share in plan)
    if minutes >= len(framework.steps):
        assert all(share >= 1 for _, share in plan)


@settings(max_examples=100, deadline=None)
@given(minutes=st.integers(min_value=1, max_value=240))
def test_shipped_time_plans_always_sum_to_the_session_length(minutes: int) -> None:
    for framework in load_library().frameworks.values():
        plan = framework.time_plan(minutes)
        assert sum(share for _, share in plan) == minutes
        assert all(share >= 0 for _, share in plan)


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

"""The shipped session library (bot/library.py): its topics and frameworks, complete, covering every area, plain."""

from __future__ import annotations

import re

import pytest

from bot.library import FOCUSES, Framework, FrameworkStep, Library, Topic, known_tags, load_library
from bot.wording import escape, wording
from library_support import TAGS

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

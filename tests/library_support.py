"""Session library test data: the known topic tags, and a valid topic and framework to change one field at a time."""

from __future__ import annotations

from typing import Any

import yaml

from bot.wording import PROMPTS

TAGS = {tag["value"] for tag in yaml.safe_load((PROMPTS / "library" / "topic_tags.yml").read_text("utf-8"))}


def good_topic(**changes: Any) -> dict[str, Any]:
    """A topic that passes validation, with ``changes`` made to it."""
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
    """A framework that passes validation, with ``changes`` made to it."""
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

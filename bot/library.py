"""The session library: topics a pair can talk about, and frameworks to run a session with.

The shipped library is data in ``prompts/library/topics.yml`` and ``prompts/library/frameworks.yml``;
a programme can add its own topics and frameworks (same shapes, e.g. ``docs/examples/library_extra.yml``)
with :meth:`Library.merged`, which adds new ids and overrides existing ones.

Everything is validated on load. A problem raises :class:`LibraryError` naming the source, the item and
what is wrong, so a broken file is reported once, clearly, instead of producing a broken agenda later.
Every text must be plain: template syntax (``{{``, ``{%``, ``{#``) is refused, so library text can be
placed into a message without ever being evaluated.

Platform-neutral: standard library and PyYAML only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.wording import PROMPTS

FOCUSES: tuple[str, ...] = ("digital", "social_media", "inclusion", "leadership", "custom")
"""The programme focuses a topic can be listed under."""

TOPIC_FIELDS = ("id", "title", "focus", "tags", "outcomes", "questions", "activity")
TOPIC_OPTIONAL = ("resources_tags",)
FRAMEWORK_FIELDS = ("id", "name", "summary", "good_for", "steps")
STEP_FIELDS = ("name", "share", "guide")
EXTRA_KEYS = ("topics", "frameworks")

COUNTS: dict[str, tuple[int, int]] = {
    "focus": (1, len(FOCUSES)),
    "tags": (1, 3),
    "outcomes": (2, 4),
    "questions": (3, 5),
    "resources_tags": (0, 10),
    "good_for": (1, 3),
    "steps": (3, 6),
}
"""How many items each list field must have (inclusive bounds)."""

SHARE_TOLERANCE = 0.01
"""How far the step shares of a framework may add up away from 1.0."""

_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_TEMPLATE_MARKS = ("{{", "{%", "{#", "}}", "%}", "#}")


class LibraryError(ValueError):
    """A topic or framework that is missing a part, or has one that is not allowed."""


# --- data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """Something a pair can take up in a session, written for the mentee learning from the mentor."""

    id: str
    title: str
    focus: tuple[str, ...]
    tags: tuple[str, ...]
    outcomes: tuple[str, ...]
    questions: tuple[str, ...]
    activity: str
    resources_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameworkStep:
    """One part of a framework: a name, its share of the session time, and a guide for the mentor."""

    name: str
    share: float
    guide: str


@dataclass(frozen=True)
class Framework:
    """A structure for a session (GROW, situation-behaviour-impact feedback, ...)."""

    id: str
    name: str
    summary: str
    good_for: tuple[str, ...]
    steps: tuple[FrameworkStep, ...]

    def time_plan(self, minutes: int) -> list[tuple[str, int]]:
        """Whole minutes per step, in order, adding up to exactly ``minutes``.

        Minutes follow the shares with largest-remainder rounding (ties go to the earlier step). When
        there are at least as many minutes as steps, every step gets at least one minute: a step rounded
        down to zero takes a minute from the step that is furthest above its exact share.
        """
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise TypeError(f"minutes must be a whole number, not {minutes!r}")
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        steps = self.steps
        if not steps:
            return []
        shares = [Fraction(repr(float(step.share))) for step in steps]  # the decimal as written: 0.15 is 3/20
        total = sum(shares)
        exact = [share * minutes / total for share in shares]
        counts = [int(quota) for quota in exact]  # floor: quotas are never negative
        left = minutes - sum(counts)
        by_remainder = sorted(range(len(steps)), key=lambda i: (-(exact[i] - counts[i]), i))
        for i in by_remainder[:left]:
            counts[i] += 1
        if minutes >= len(steps):
            for i in range(len(steps)):
                if counts[i] == 0:
                    # Some other step has 2 or more minutes (minutes >= steps), so a donor exists.
                    donor = max(
                        (j for j in range(len(steps)) if counts[j] > 1), key=lambda j: (counts[j] - exact[j], -j)
                    )
                    counts[donor] -= 1
                    counts[i] = 1
        return [(step.name, count) for step, count in zip(steps, counts, strict=True)]


@lru_cache(maxsize=8)
def _tags_in(path: Path) -> frozenset[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return frozenset(str(item["value"]) for item in data)


def known_tags(directory: Path = PROMPTS / "library") -> frozenset[str]:
    """The topic tag values of ``topic_tags.yml`` in ``directory``."""
    return _tags_in(Path(directory) / "topic_tags.yml")


@dataclass(frozen=True)
class Library:
    """Topics and frameworks by id (in file order), and the topic tags they were checked against."""

    topics: dict[str, Topic]
    frameworks: dict[str, Framework]
    tags: frozenset[str] = field(default_factory=known_tags, repr=False, compare=False)

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id; :class:`LibraryError` when there is none."""
        try:
            return self.topics[topic_id]
        except KeyError:
            raise LibraryError(f"no topic with id {topic_id!r} in the library") from None

    def framework(self, framework_id: str) -> Framework:
        """The framework with this id; :class:`LibraryError` when there is none."""
        try:
            return self.frameworks[framework_id]
        except KeyError:
            raise LibraryError(f"no framework with id {framework_id!r} in the library") from None

    def topics_for(self, focus: str) -> list[Topic]:
        """The topics listed under a programme focus, in library order."""
        if focus not in FOCUSES:
            raise LibraryError(f"unknown focus {focus!r} (known: {', '.join(FOCUSES)})")
        return [topic for topic in self.topics.values() if focus in topic.focus]

    def merged(self, extra: Mapping[str, Any] | None, source: str = "programme library") -> Library:
        """A new library with a programme's own topics and frameworks added, or overriding by id.

        ``extra`` is a parsed file with the keys ``topics`` and ``frameworks`` (either may be absent),
        in the same shapes as the shipped files; it is validated like them.
        """
        if extra is None:
            extra = {}
        if not isinstance(extra, Mapping):
            raise LibraryError(
                f"{source}: expected a mapping with the keys topics and frameworks, got {type(extra).__name__}"
            )
        unknown = sorted(str(key) for key in extra if key not in EXTRA_KEYS)
        if unknown:
            raise LibraryError(f"{source}: unknown key(s) {', '.join(unknown)} (allowed: topics, frameworks)")
        own = parse_library(extra.get("topics") or [], extra.get("frameworks") or [], source, tags=self.tags)
        return Library(
            topics={**self.topics, **own.topics}, frameworks={**self.frameworks, **own.frameworks}, tags=self.tags
        )


# --- validation ------------------------------------------------------------------------------------


class _Item:
    """Error messages for one item: ``SOURCE: topic 'id': problem``."""

    def __init__(self, source: str, kind: str, index: int, data: Any) -> None:
        self.source = source
        self.kind = kind
        item_id = data.get("id") if isinstance(data, Mapping) else None
        self.label = f"{kind} {item_id!r}" if isinstance(item_id, str) and item_id else f"{kind} #{index + 1}"

    def error(self, problem: str) -> LibraryError:
        return LibraryError(f"{self.source}: {self.label}: {problem}")


def _fields(
    item: _Item, data: Any, required: tuple[str, ...], optional: tuple[str, ...] = (), what: str = ""
) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise item.error(f"{what}must be a mapping of fields, got {type(data).__name__}")
    for name in required:
        if name not in data:
            raise item.error(f"{what}missing field {name!r}")
        if data[name] is None:
            raise item.error(f"{what}{name} is empty")
    unknown = sorted(str(key) for key in data if key not in required and key not in optional)
    if unknown:
        raise item.error(f"{what}unknown field(s) {', '.join(unknown)} (allowed: {', '.join(required + optional)})")
    return data


def _text(item: _Item, value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise item.error(f"{name} must be text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise item.error(f"{name} is empty")
    for mark in _TEMPLATE_MARKS:
        if mark in text:
            raise item.error(f"{name} contains template syntax {mark!r}; library text must be plain")
    return text


def _list(item: _Item, value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise item.error(f"{name} must be a list, got {type(value).__name__}")
    low, high = COUNTS[name]
    if not low <= len(value) <= high:
        expected = f"{low} to {high}" if low != high else str(low)
        raise item.error(f"{name} needs {expected} items, got {len(value)}")
    return value


def _texts(item: _Item, value: Any, name: str) -> tuple[str, ...]:
    return tuple(_text(item, entry, f"{name} item {n}") for n, entry in enumerate(_list(item, value, name), 1))


def _choices(item: _Item, value: Any, name: str, allowed: Iterable[str], what: str) -> tuple[str, ...]:
    allowed = set(allowed)
    values = _texts(item, value, name)
    for entry in values:
        if entry not in allowed:
            raise item.error(f"unknown {what} {entry!r} in {name} (known: {', '.join(sorted(allowed))})")
    if len(set(values)) != len(values):
        twice = next(entry for entry in values if values.count(entry) > 1)
        raise item.error(f"{name} lists {twice!r} twice")
    return values


def _identifier(item: _Item, data: Mapping[str, Any], seen: dict[str, int], index: int) -> str:
    item_id = _text(item, data["id"], "id")
    if not _ID.match(item_id):
        raise item.error(f"id {item_id!r} is not snake_case (lower-case letters, digits and underscores)")
    if item_id in seen:
        raise item.error(f"duplicate id (also {item.kind} #{seen[item_id] + 1})")
    seen[item_id] = index
    return item_id


def _items(data: Any, kind: str, source: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise LibraryError(f"{source}: {kind}s must be a list of {kind}s, got {type(data).__name__}")
    return data


def _parse_topics(data: Any, source: str, tags: frozenset[str]) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(_items(data, "topic", source)):
        item = _Item(source, "topic", index, raw)
        fields = _fields(item, raw, TOPIC_FIELDS, TOPIC_OPTIONAL)
        topic_id = _identifier(item, fields, seen, index)
        resources = fields.get("resources_tags")
        topics[topic_id] = Topic(
            id=topic_id,
            title=_text(item, fields["title"], "title"),
            focus=_choices(item, fields["focus"], "focus", FOCUSES, "focus"),
            tags=_choices(item, fields["tags"], "tags", tags, "tag"),
            outcomes=_texts(item, fields["outcomes"], "outcomes"),
            questions=_texts(item, fields["questions"], "questions"),
            activity=_text(item, fields["activity"], "activity"),
            resources_tags=() if resources is None else _choices(item, resources, "resources_tags", tags, "tag"),
        )
    return topics


def _share(item: _Item, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise item.error(f"{where}: share must be a number, got {value!r}")
    if not 0 < value <= 1:
        raise item.error(f"{where}: share must be more than 0 and at most 1, got {value}")
    return float(value)


def _parse_frameworks(data: Any, source: str) -> dict[str, Framework]:
    frameworks: dict[str, Framework] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(_items(data, "framework", source)):
        item = _Item(source, "framework", index, raw)
        fields = _fields(item, raw, FRAMEWORK_FIELDS)
        framework_id = _identifier(item, fields, seen, index)
        steps: list[FrameworkStep] = []
        for number, raw_step in enumerate(_list(item, fields["steps"], "steps"), 1):
            where = f"step {number}"
            step = _fields(item, raw_step, STEP_FIELDS, what=f"{where}: ")
            name = _text(item, step["name"], f"{where} name")
            if any(name == other.name for other in steps):
                raise item.error(f"{where}: step name {name!r} is used twice")
            steps.append(
                FrameworkStep(
                    name=name,
                    share=_share(item, step["share"], where),
                    guide=_text(item, step["guide"], f"{where} guide"),
                )
            )
        total = sum(step.share for step in steps)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise item.error(f"step shares add up to {total:.3f}, not 1.0 (allowed: 1.0 ± {SHARE_TOLERANCE})")
        frameworks[framework_id] = Framework(
            id=framework_id,
            name=_text(item, fields["name"], "name"),
            summary=_text(item, fields["summary"], "summary"),
            good_for=_texts(item, fields["good_for"], "good_for"),
            steps=tuple(steps),
        )
    return frameworks


def parse_library(
    data_topics: list[Any], data_frameworks: list[Any], source: str, *, tags: Iterable[str] | None = None
) -> Library:
    """Validate parsed topic and framework lists into a :class:`Library`.

    ``source`` names where the data came from in error messages; ``tags`` are the allowed topic tags
    (by default the values of ``prompts/library/topic_tags.yml``).
    """
    allowed = known_tags() if tags is None else frozenset(tags)
    return Library(
        topics=_parse_topics(data_topics, source, allowed),
        frameworks=_parse_frameworks(data_frameworks, source),
        tags=allowed,
    )


# --- files -----------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LibraryError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise LibraryError(f"{path}: not valid YAML: {exc}") from exc


def read_extra(path: Path) -> dict[str, Any]:
    """Read a programme's own library file (top-level keys ``topics`` and ``frameworks``) for :meth:`Library.merged`."""
    data = _read_yaml(Path(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LibraryError(f"{path}: expected the keys topics and frameworks at the top level")
    return data


@lru_cache(maxsize=4)
def _load(directory: Path) -> Library:
    tags_file = directory / "topic_tags.yml"
    tags = known_tags(directory) if tags_file.exists() else known_tags()
    topics_file, frameworks_file = directory / "topics.yml", directory / "frameworks.yml"
    topics = _parse_topics(_read_yaml(topics_file), str(topics_file), tags)
    frameworks = _parse_frameworks(_read_yaml(frameworks_file), str(frameworks_file))
    return Library(topics=topics, frameworks=frameworks, tags=tags)


def load_library(directory: Path = PROMPTS / "library") -> Library:
    """The library in ``directory`` (``topics.yml``, ``frameworks.yml``, ``topic_tags.yml``), loaded once."""
    return _load(Path(directory).resolve())


def programme_library(programme: Any) -> Library:
    """The shipped library, with a programme's own topics and frameworks (``settings.library``) added."""
    extra = programme.settings.library
    library = load_library()
    return library.merged(extra) if extra else library

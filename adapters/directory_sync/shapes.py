"""Reading the JSON that directory APIs answer, whatever it holds: an object where one is expected, or none."""

from __future__ import annotations

from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objs(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in ``value`` if it is a list, else none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def primary(value: Any) -> dict[str, Any]:
    """The object marked ``primary`` in a list, else the first; an empty one if there is none."""
    items = objs(value)
    return next((item for item in items if item.get("primary")), items[0] if items else {})


def text(value: Any) -> str:
    """A JSON value as stripped text; ``""`` for null."""
    return "" if value is None else str(value).strip()


def attribute(resource: Any, path: str) -> str:
    """The value at a dotted ``path`` in a JSON resource (a list on the way is read at its primary entry), as
    text; ``""`` when any step is missing. Names the operator gives for a grade, e.g. ``organizations.costCenter``."""
    value: Any = resource
    for part in path.split("."):
        if isinstance(value, list):
            value = primary(value)
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, list):
        value = primary(value).get("value")
    return text(value)

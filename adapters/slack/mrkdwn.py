"""Neutral markdown to Slack mrkdwn, with what people typed escaped, and split to fit Slack's limits.

Slack reads ``&``, ``<`` and ``>`` as control characters (``<!channel>``, ``<@U123>``, links), so every
piece of text is escaped as ``&amp;``, ``&lt;``, ``&gt;``: a ``<!channel>`` someone typed stays inert.
Long text is split on span, line and word boundaries, never inside an entity or a formatting marker.
A moment in time becomes a date token, ``<!date^UNIX^{date_short_pretty} at {time}|fallback>``: each reader
sees it in their own zone and format; plain-text places (labels, notification text) show the fallback.
"""

from __future__ import annotations

import re

from bot.markup import Span, plain_text, spans

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20"}
_MARKERS = {"bold": "*", "italic": "_", "code": "`", "text": ""}
DATE_FORMAT = "{date_short_pretty} at {time}"
"""How Slack shows a moment to each reader (Slack's date formatting tokens)."""


def date_token(at: int, fallback: str) -> str:
    """A Slack date token for ``at`` (seconds since the epoch), with ``fallback`` for clients that cannot show it."""
    return f"<!date^{at}^{DATE_FORMAT}|{escape(fallback).replace('|', '/')}>"


def escape(text: str) -> str:
    """Escape Slack's control characters so text is shown exactly as given."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # as _ENTITIES, at C speed


def _url(url: str) -> str:
    return escape("".join(_URL_UNSAFE.get(ch, ch) for ch in url))


def _render(span: Span, text: str) -> str:
    if span.at is not None:
        marker = _MARKERS.get(span.kind, "")
        return f"{marker}{date_token(span.at, text.strip())}{marker}" if text.strip() else escape(text)
    if span.kind == "link":
        return f"<{_url(span.url)}|{escape(text)}>" if text.strip() else f"<{_url(span.url)}>"
    marker = _MARKERS.get(span.kind, "")
    if marker and text.strip():
        # mrkdwn markers must touch the words they format: keep surrounding blanks outside them
        blanks = re.match(r"^(\s*)(.*?)(\s*)$", text, re.S)
        assert blanks is not None  # the pattern matches any text
        lead, core, tail = blanks.groups()
        return f"{lead}{marker}{escape(core)}{marker}{tail}"
    return escape(text)


def to_mrkdwn(text: str) -> str:
    """The whole of ``text`` (neutral markdown) as mrkdwn."""
    return "".join(_render(span, span.text) for span in spans(text))


def to_plain(text: str, limit: int | None = None) -> str:
    """Neutral markdown as escaped plain text (notification fallbacks), cut to ``limit`` characters."""
    raw = plain_text(text)
    out = escape(raw)
    if limit is None or len(out) <= limit:
        return out
    raw = raw[: limit - 1]
    while len(escape(raw)) > limit - 1:
        raw = raw[: len(raw) - max(1, (len(escape(raw)) - limit + 1) // 5)]
    return escape(raw).rstrip() + "…"


def _pieces(text: str, limit: int) -> list[str]:
    """Rendered pieces, each at most ``limit`` long: whole lines, or words of an over-long line."""
    pieces: list[str] = []
    for span in spans(text):
        if span.at is not None:  # a date token is never split
            pieces.append(_render(span, span.text))
            continue
        for line in re.split(r"(?<=\n)", span.text):
            if not line:
                continue
            rendered = _render(span, line)
            if len(rendered) <= limit:
                pieces.append(rendered)
                continue
            pieces.extend(_split_words(span, line, limit))
    return pieces


def _split_words(span: Span, line: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in re.split(r"(?<=\s)", line):
        while word:
            candidate = current + word
            if len(_render(span, candidate)) <= limit:
                current, word = candidate, ""
                continue
            if current:
                out.append(_render(span, current))
                current = ""
                continue
            # a single word longer than the limit: cut it where it fits
            cut = len(word)
            while cut > 1 and len(_render(span, word[:cut])) > limit:
                cut = max(1, cut * 3 // 4)
            out.append(_render(span, word[:cut]))
            word = word[cut:]
    if current:
        out.append(_render(span, current))
    return out


def chunks(text: str, limit: int) -> list[str]:
    """``text`` as mrkdwn in chunks of at most ``limit`` characters, preferring paragraph breaks."""
    result: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if len(current) + len(piece) > limit:
            if current.strip():
                result.append(current.strip())
            current = ""
        current += piece
        if current.endswith("\n\n") and len(current) > limit * 2 // 3:
            result.append(current.strip())
            current = ""
    if current.strip():
        result.append(current.strip())
    return [chunk for chunk in result if chunk.strip()]


def truncate(text: str, limit: int) -> str:
    """Plain text cut to ``limit`` characters with an ellipsis (labels, titles, placeholders)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def label(text: str, limit: int) -> str:
    """A label from neutral markdown: plain text (no markup, unescaped for plain_text objects), cut."""
    return truncate(plain_text(text), limit)

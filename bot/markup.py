"""Neutral markdown, split into spans that each platform's renderer turns into its own markup.

The product's templates use ``**bold**``, ``_italic_``, `` `code` `` and ``[label](url)``; anything a
person typed arrives backslash-escaped (see :func:`bot.wording.escape`), so it is always plain text here.
A moment in time (``[fallback](moment:UNIX)``, :func:`bot.wording.moment`) becomes a span whose ``at`` is
the moment (seconds since the epoch) and whose text is the fallback: a renderer that does nothing with
``at`` shows the fallback, as plain, bold or italic text like any other span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.wording import MOMENT

SpanKind = Literal["text", "bold", "italic", "code", "link"]

_TOKEN = re.compile(
    r"(?P<escape>\\[\\`*_\[\]()#>~|])"
    r"|(?P<bold>\*\*(?P<bold_body>(?:\\.|[^*\\])+?)\*\*)"
    r"|(?P<code>`(?P<code_body>(?:\\.|[^`\\])+?)`)"
    r"|(?P<moment>" + MOMENT.pattern + ")"
    r"|(?P<link>\[(?P<label>(?:\\.|[^\]\\])+?)\]\((?P<url>https?://[^)\s]+)\))"
    r"|(?P<italic>(?<![\w\\])_(?P<italic_body>(?:\\.|[^_\\])+?)_(?!\w))"
)
_ESCAPE = re.compile(r"\\([\\`*_\[\]()#>~|])")


@dataclass(frozen=True)
class Span:
    kind: SpanKind
    text: str
    url: str = ""
    at: int | None = None
    """For a moment in time: seconds since the epoch (``text`` is then its fallback)."""


def _plain(text: str) -> str:
    return _ESCAPE.sub(r"\1", MOMENT.sub(lambda m: m.group("fallback"), text))


def _styled(kind: SpanKind, body: str) -> list[Span]:
    """A bold or italic body as spans of that kind, each moment in it a span of its own."""
    out: list[Span] = []
    position = 0
    for match in MOMENT.finditer(body):
        if match.start() > position:
            out.append(Span(kind, _plain(body[position : match.start()])))
        out.append(Span(kind, _plain(match.group("fallback")), at=int(match.group("at"))))
        position = match.end()
    if position < len(body) or not out:
        out.append(Span(kind, _plain(body[position:])))
    return out


def spans(text: str) -> list[Span]:
    """Split neutral markdown into spans; text inside spans is unescaped, ready for any platform."""
    out: list[Span] = []
    buffer: list[str] = []
    position = 0

    def flush() -> None:
        joined = "".join(buffer)
        buffer.clear()
        if joined:
            out.append(Span("text", joined))

    for match in _TOKEN.finditer(text):
        buffer.append(text[position : match.start()])
        position = match.end()
        if match.group("escape"):
            buffer.append(match.group("escape")[1])
            continue
        flush()
        if match.group("bold"):
            out.extend(_styled("bold", match.group("bold_body")))
        elif match.group("code"):
            out.append(Span("code", _plain(match.group("code_body"))))
        elif match.group("moment"):
            out.append(Span("text", _plain(match.group("fallback")), at=int(match.group("at"))))
        elif match.group("link"):
            out.append(Span("link", _plain(match.group("label")), match.group("url")))
        else:
            out.extend(_styled("italic", match.group("italic_body")))
    buffer.append(text[position:])
    flush()
    return out


def plain_text(text: str) -> str:
    """Neutral markdown without any markup (for notifications and logs)."""
    return "".join(span.text if span.kind != "link" else f"{span.text} ({span.url})" for span in spans(text))

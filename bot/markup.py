"""Neutral markdown, split into spans that each platform's renderer turns into its own markup.

The product's templates use ``**bold**``, ``_italic_``, `` `code` `` and ``[label](url)``; anything a
person typed arrives backslash-escaped (see :func:`bot.wording.escape`), so it is always plain text here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal["text", "bold", "italic", "code", "link"]

_TOKEN = re.compile(
    r"(?P<escape>\\[\\`*_\[\]()#>~|])"
    r"|(?P<bold>\*\*(?P<bold_body>(?:\\.|[^*\\])+?)\*\*)"
    r"|(?P<code>`(?P<code_body>(?:\\.|[^`\\])+?)`)"
    r"|(?P<link>\[(?P<label>(?:\\.|[^\]\\])+?)\]\((?P<url>https?://[^)\s]+)\))"
    r"|(?P<italic>(?<![\w\\])_(?P<italic_body>(?:\\.|[^_\\])+?)_(?!\w))"
)
_ESCAPE = re.compile(r"\\([\\`*_\[\]()#>~|])")


@dataclass(frozen=True)
class Span:
    kind: SpanKind
    text: str
    url: str = ""


def _plain(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


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
            out.append(Span("bold", _plain(match.group("bold_body"))))
        elif match.group("code"):
            out.append(Span("code", _plain(match.group("code_body"))))
        elif match.group("link"):
            out.append(Span("link", _plain(match.group("label")), match.group("url")))
        else:
            out.append(Span("italic", _plain(match.group("italic_body"))))
    buffer.append(text[position:])
    flush()
    return out


def plain_text(text: str) -> str:
    """Neutral markdown without any markup (for notifications and logs)."""
    return "".join(span.text if span.kind != "link" else f"{span.text} ({span.url})" for span in spans(text))

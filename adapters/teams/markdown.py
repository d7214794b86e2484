"""Neutral markdown as Adaptive Card text: rich-text runs (never parsed again) or escaped Teams markdown.

Message text goes into ``RichTextBlock`` elements made of ``TextRun`` inlines: a run's text is shown as
it is, so what people typed (``**``, ``<at>``, ``[x](y)``) can never turn into markup, and the product's
own ``**bold**``, ``_italic_``, `` `code` `` and links become run styles. Where a card field only takes
markdown (fact values, the notification text), :func:`to_markdown` escapes everything that could be read
as markup.
"""

from __future__ import annotations

import re
from typing import Any

from bot.markup import plain_text, spans
from bot.wording import MOMENT

PARAGRAPH = re.compile(r"\n\s*\n")
_SPECIAL = re.compile(r"([\\`*_\[\]()#>~|<])")
_LINE_START = re.compile(r"^(\s*)([-+]|\d+\.)(\s)", re.MULTILINE)
CHUNK = 3000
"""Longest text of one rich-text block: long messages become several blocks (and cards split between them)."""


def escape(text: str) -> str:
    """Plain text made safe for Teams markdown: markup characters and list markers backslash-escaped."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)[:-1]}\\{m.group(2)[-1]}{m.group(3)}"
            if m.group(2)[-1] == "."
            else f"{m.group(1)}\\{m.group(2)}{m.group(3)}"
        ),
        escaped,
    )


def to_markdown(text: str) -> str:
    """Neutral markdown as Teams markdown, with people's text escaped."""
    out = []
    for span in spans(text):
        body = escape(span.text)
        if span.kind == "bold":
            out.append(f"**{body}**")
        elif span.kind == "italic":
            out.append(f"_{body}_")
        elif span.kind == "link":
            out.append(f"[{body}]({span.url})")
        else:  # Teams markdown has no inline code: code is shown as plain text
            out.append(body)
    return "".join(out)


def runs(text: str, subtle: bool = False) -> list[dict[str, Any]]:
    """Neutral markdown as ``TextRun`` inlines."""
    out: list[dict[str, Any]] = []
    for span in spans(text):
        run: dict[str, Any] = {"type": "TextRun", "text": span.text}
        if span.kind == "bold":
            run["weight"] = "Bolder"
        elif span.kind == "italic":
            run["italic"] = True
        elif span.kind == "code":
            run["fontType"] = "Monospace"
        elif span.kind == "link":
            run["selectAction"] = {"type": "Action.OpenUrl", "url": span.url}
            run["underline"] = True
        if subtle:
            run["isSubtle"] = True
            run["size"] = "Small"
        out.append(run)
    return out


def chunks(text: str, limit: int = CHUNK) -> list[str]:
    """Paragraphs of ``text``; one longer than ``limit`` is cut at line ends (or spaces) into pieces."""
    pieces: list[str] = []
    for paragraph in PARAGRAPH.split(text.strip()):
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > limit // 2 else paragraph.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            while cut > 1 and paragraph[cut - 1] == "\\":  # never split an escape from what it escapes
                cut -= 1
            inside = next((m for m in MOMENT.finditer(paragraph) if m.start() < cut < m.end()), None)
            if inside is not None and inside.start() > 0:  # never split a moment (bot.wording.moment)
                cut = inside.start()
            pieces.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n ")
        if paragraph.strip():
            pieces.append(paragraph)
    return pieces


def text_blocks(text: str, subtle: bool = False, limit: int = CHUNK) -> list[dict[str, Any]]:
    """Neutral markdown as rich-text blocks, one per paragraph."""
    return [{"type": "RichTextBlock", "inlines": runs(piece, subtle)} for piece in chunks(text, limit) if piece]


def plain(text: str, limit: int) -> str:
    """The text without markup, cut to ``limit`` characters (for notifications and fallbacks)."""
    flat = " ".join(plain_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def label(text: str, limit: int = 80) -> str:
    """Plain text for a button, an option or an input label (these fields take no markup)."""
    return plain(text, limit) or "-"

"""Terminal rendering of neutral messages: readable text, numbered choices, fields as a list."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from bot.markup import spans
from bot.model import OutgoingMessage
from bot.wording import say


def to_rich_markup(text: str) -> str:
    """Neutral markdown as Rich console markup; what people typed is escaped, never styled."""
    parts = []
    for span in spans(text):
        body = escape(span.text)
        if span.kind == "bold":
            parts.append(f"[bold]{body}[/bold]")
        elif span.kind == "italic":
            parts.append(f"[italic]{body}[/italic]")
        elif span.kind == "code":
            parts.append(f"[cyan]{body}[/cyan]")
        elif span.kind == "link":
            parts.append(f"[link={escape(span.url)}]{body}[/link] ({escape(span.url)})")
        else:
            parts.append(body)
    return "".join(parts)


def render(message: OutgoingMessage) -> list[str]:
    """The lines (Rich markup) that show ``message`` in a terminal."""
    lines = [to_rich_markup(message.text)]
    for section in message.sections:
        if section.text:
            lines.append(to_rich_markup(section.text))
        for label, value in section.fields:
            lines.append(f"  [bold]{to_rich_markup(label)}[/bold]: {to_rich_markup(value)}")
    for number, choice in enumerate(message.choices, start=1):
        lines.append(f"  [bold magenta]{number}[/bold magenta]) {to_rich_markup(choice.label)}")
    question = message.question
    if not message.choices and question is not None and question.kind in ("multi_choice", "rank"):
        for number, choice in enumerate(question.choices, start=1):
            lines.append(f"  [bold cyan]{number}[/bold cyan]) {to_rich_markup(choice.label)}")
        lines.append(f"  [dim]{escape(say('console.pick_several', example='1, 3'))}[/dim]")
    if message.form is not None:
        lines.append(
            f"  [dim]({escape(message.form.title)}: {len(message.form.fields)} fields, asked one by one)[/dim]"
        )
    for note in message.context:
        lines.append(f"  [dim]{to_rich_markup(note)}[/dim]")
    return lines


def plain(markup: str) -> str:
    """The text a terminal shows for some Rich markup (for transcripts and tests)."""
    return Text.from_markup(markup).plain

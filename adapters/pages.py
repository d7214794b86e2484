"""The website, privacy statement and terms of use at ``/``, ``/privacy`` and ``/terms``: the addresses the Teams
app package gives (``rmbot teams package``), served by ``rmbot serve`` next to the platform endpoints.

Each page is a Jinja2 template in ``prompts/pages/`` (``index.html.j2``, ``privacy.html.j2``, ``terms.html.j2``,
all extending ``base.html.j2``). An operator replaces any of them by putting a file of the same name in the
folder RMBOT_PAGES_DIR names (it may extend the shipped ``base.html.j2``); the others stay as shipped. Values are
HTML-escaped, a changed file is read again on the next request, and every page is rendered once at start-up, so
a broken template stops ``rmbot serve`` with one line instead of failing later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError

from adapters.settings import ConfigurationError, Settings
from bot.domain import ProgrammeSettings
from bot.wording import PROMPTS, say, unescape

PAGES = {"/": "index.html.j2", "/privacy": "privacy.html.j2", "/terms": "terms.html.j2"}
"""Path -> template."""
SHIPPED = PROMPTS / "pages"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LINK_DAYS = 7
"""How long a Teams download link lasts (``adapters/teams/links.py``), as the privacy page states it."""


class Pages:
    """The page templates, the operator's first, and the values they are rendered with."""

    def __init__(self, settings: Settings) -> None:
        folders = [SHIPPED]
        if settings.rmbot_pages_dir:
            own = Path(settings.rmbot_pages_dir).expanduser()
            if not own.is_dir():
                raise ConfigurationError(unescape(say("cli.pages_dir", given=settings.rmbot_pages_dir)))
            folders.insert(0, own)
        self.env = Environment(
            loader=FileSystemLoader([str(f) for f in folders]),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        defaults = ProgrammeSettings()
        self.values: dict[str, Any] = {
            "name": unescape(say("teams.package.full_name")),
            "short_name": unescape(say("teams.package.short_name")),
            "public_url": settings.rmbot_public_url.rstrip("/"),
            "slack": settings.slack_configured,
            "teams": settings.teams_configured,
            "threshold": defaults.anonymity_threshold,
            "retention_days": defaults.retention_days,
            "link_days": LINK_DAYS,
            "payload_days": settings.rmbot_payload_retention_days,
        }
        for name in PAGES.values():
            try:
                self.render(name)
            except TemplateError as problem:
                line = problem.lineno if isinstance(problem, TemplateSyntaxError) else None
                reason = (problem.message or type(problem).__name__).splitlines()[0]
                raise ConfigurationError(
                    unescape(say("cli.pages_broken", page=name, line=line, reason=reason))
                ) from None

    def render(self, name: str) -> str:
        """One page as HTML."""
        return self.env.get_template(name).render(**self.values)


def mount_pages(app: web.Application, settings: Settings) -> None:
    """Serve ``/``, ``/privacy`` and ``/terms`` on ``app`` (raises ConfigurationError for a bad RMBOT_PAGES_DIR)."""
    pages = Pages(settings)

    def handler(name: str) -> Any:
        async def page(_request: web.Request) -> web.Response:
            return web.Response(text=pages.render(name), content_type="text/html", charset="utf-8", headers=HEADERS)

        return page

    for path, name in PAGES.items():
        app.router.add_get(path, handler(name))

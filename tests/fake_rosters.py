"""Team rosters for the fake connector (``tests/fake_teams.py``): ``GET /v3/conversations/{teamId}/pagedmembers``.

Answers as the Bot Framework connector does for Teams: ``{"members": [...], "continuationToken": "..."}``, at
most ``pageSize`` members a page (500 at most), the token present while more pages follow (here the offset of
the next page; opaque to the bot), 404 for a team it does not know. ``FakeTeams.roster_answers`` scripts
answers (status, ``Retry-After``) for the next page requests, before the real pages.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fake_teams import FakeTeams

MAX_PAGE = 500


async def paged_members(fake: FakeTeams, request: web.Request) -> web.Response:
    """One page of a team's members, recorded in ``fake.posts`` (path ``pagedmembers``, body the query)."""
    from fake_teams import Post

    team = request.match_info["conversation"]
    roster = fake.rosters.get(team)
    with fake._lock:
        scripted = fake.roster_answers.pop(0) if fake.roster_answers else None
        status = scripted[0] if scripted else 200 if roster is not None else 404
        authorization = request.headers.get("Authorization", "")
        fake.posts.append(
            Post("GET", "pagedmembers", team, dict(request.query), authorization, time.monotonic(), status)
        )
    if scripted is not None:
        headers = {"Retry-After": str(scripted[1])} if scripted[1] is not None else {}
        return web.json_response(
            {"error": {"code": "Throttled", "message": "scripted"}}, status=status, headers=headers
        )
    if roster is None:
        return web.json_response({"error": {"code": "NotFound", "message": "no such team"}}, status=404)
    size = min(max(int(request.query.get("pageSize") or 50), 1), MAX_PAGE)
    start = int(request.query.get("continuationToken") or 0)
    page: dict[str, Any] = {"members": roster[start : start + size]}
    if start + size < len(roster):
        page["continuationToken"] = str(start + size)
    return web.json_response(page)

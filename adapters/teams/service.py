"""The Teams endpoint on the server of ``rmbot serve``: ``POST /api/messages`` and ``GET /teams/files/…``.

Every activity goes the same way, and nothing slow happens before the answer:

1. read the activity with the Agents SDK's protocol model (400 when it cannot be read), then authenticate
   (:mod:`adapters.teams.channel_auth`; 401 for a missing, forged, expired or misdirected token when an app
   id is set; 503 when Microsoft's signing keys cannot be fetched, so Teams tries again);
2. keep the conversation reference and the accounts the activity shows (those of people mentioned only
   when the event invites them: :mod:`bot.mentions`), and translate it (an activity of a shape nobody can
   read, or with ids no platform uses, is refused with 400 and a warning);
3. commit the event to the durable inbox (``Runtime.accept``, in a thread): a re-sent activity carries
   the same id and is refused there, so it has one effect;
4. only then answer: 200, or for an ``adaptiveCard/action`` invoke an invoke response (a short message that
   leaves the card as it is); then poke the worker, which handles the event, sends the replies and, in a
   personal chat, updates the card pressed with the engine's outcome (:mod:`adapters.teams.pressed`).

A card submitted with more choices than a multi-select takes is not accepted: the invoke answer shows the
refusal in the card instead (:mod:`adapters.teams.limits`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.redaction import protect_settings
from adapters.settings import Settings
from adapters.teams import cards
from adapters.teams.auth import (
    BadActivity,
    app_type,
    channel_of,
    check_settings,
    is_metadata_outage,
    make_authentication,
    parse_activity,
    token_source,
)
from adapters.teams.connector import Connector
from adapters.teams.directory import TeamsDirectory
from adapters.teams.forms import form_problems, problems_card
from adapters.teams.limits import Overrun, over_limit, refused_card
from adapters.teams.links import PATH as FILES_PATH
from adapters.teams.links import LinkError, Links, derive_secret
from adapters.teams.markdown import plain
from adapters.teams.roster import TeamRoster, members_joined, team_added
from adapters.teams.translate import CARD_ACTION, accounts_of, bot_added, card_data, event_of, reference_of, tenant_of
from bot.mentions import may_introduce
from bot.model import InboundEvent, OutgoingMessage, Platform
from bot.runtime import Runtime
from bot.wording import say

log = logging.getLogger(__name__)
MESSAGES_PATH = "/api/messages"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
PLATFORM = Platform.TEAMS.value
REMEMBERED_FOR = 300.0
"""Seconds a stored reference is trusted to be current before an activity writes it again."""


def links_for(settings: Settings) -> Links:
    """Download links under RMBOT_PUBLIC_URL, signed with RMBOT_LINK_SECRET (or a key derived from it)."""
    secret, _durable = derive_secret(settings.rmbot_link_secret, settings.microsoft_app_password)
    return Links(settings.rmbot_public_url, secret)


@dataclass
class _Seen:
    """What one activity told us, for the store."""

    tenant: str
    reference: dict[str, Any] | None
    accounts: list[dict[str, Any]]
    added: bool | None


class TeamsService:
    """The Teams endpoint wired to the runtime; mount it on the aiohttp app of ``rmbot serve``."""

    def __init__(self, settings: Settings, runtime: Runtime, poke: Callable[[], None] = lambda: None) -> None:
        check_settings(settings)
        protect_settings(settings)
        self.settings = settings
        self.runtime = runtime
        self.store = runtime.store
        self.poke = poke
        self.authentication = make_authentication(settings)
        self.links = links_for(settings)
        self.directory = TeamsDirectory(self.store, token_source(settings))
        self.roster = TeamRoster(self.store, Connector(token_source(settings)), wake=poke)
        self.background: set[asyncio.Task[Any]] = set()
        """Roster reads under way (they run after Teams has had its answer)."""
        self._recent: dict[tuple[str, str], tuple[float, str]] = {}
        if settings.microsoft_app_id:
            log.info(
                plain(
                    say("teams.serve.authenticated", app_id=settings.microsoft_app_id, app_type=app_type(settings)),
                    1000,
                )
            )
        else:
            log.warning(plain(say("teams.serve.unauthenticated"), 1000))
        if not self.links.enabled:
            log.warning(plain(say("teams.serve.no_public_url"), 1000))
        elif not derive_secret(settings.rmbot_link_secret, settings.microsoft_app_password)[1]:
            log.warning(plain(say("teams.serve.link_secret"), 1000))

    def mount(self, web_app: web.Application) -> None:
        """Add the Teams routes to the server's aiohttp app."""
        web_app.router.add_post(MESSAGES_PATH, self.handle)
        web_app.router.add_get(FILES_PATH + "/{token}", self.download)

    # -- POST /api/messages ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """One activity from the Bot Framework (see the module docstring)."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(body, dict) or not body.get("type"):
            return web.Response(status=400)
        try:
            activity = parse_activity(body)
        except BadActivity as unreadable:
            log.warning("refused a Teams activity of an unexpected shape: %s", unreadable)
            return web.Response(status=400)
        try:
            await self.authentication.authenticate_request(
                channel_of(activity), activity.service_url or "", request.headers.get("Authorization") or None
            )
        except Exception as exc:  # noqa: BLE001 - any failure to prove the caller is the Bot Framework
            if is_metadata_outage(exc):
                log.warning("Bot Framework signing keys unavailable: %s", exc)
                return web.Response(status=503)
            log.info("refused an unauthenticated Teams request: %s", exc)
            return web.Response(status=401)
        try:
            seen = _Seen(tenant_of(body), reference_of(body), accounts_of(body), bot_added(body))
            event = event_of(body)
        except Exception as error:  # noqa: BLE001 - the channel vouched for it, but nobody can read it
            log.warning("refused a Teams activity of an unexpected shape (%s: %s)", type(error).__name__, error)
            return web.Response(status=400)
        problem = (event.unfit() if event is not None else "") or self.store.teams.unfit(
            seen.tenant, seen.reference, seen.accounts
        )
        if problem:
            log.warning("refused a Teams activity: %s", problem)
            return web.Response(status=400)
        answer = await self.on_activity(body, seen, event)
        if answer is not None:  # an invoke: its response is the HTTP response
            return web.json_response(answer, status=200)
        return web.Response(status=200)

    async def on_activity(self, body: dict[str, Any], seen: _Seen, event: InboundEvent | None) -> dict[str, Any] | None:
        """Store what the activity shows, accept its event, and build the invoke answer (None if no invoke).
        The accounts of people mentioned are kept only when the event invites them (:mod:`bot.mentions`)."""
        if not (event is not None and event.mentions and await asyncio.to_thread(self._introduces, event)):
            seen.accounts = accounts_of(body, mentioned=False)
        if event is not None:
            await self.directory.ensure(
                event, str(body.get("serviceUrl") or ""), str((body.get("from") or {}).get("id") or "")
            )
        answer = await asyncio.to_thread(self._commit, seen, event, body)
        if event is not None:
            self.poke()
        self._read_roster(seen, body)
        return answer

    def _read_roster(self, seen: _Seen, body: dict[str, Any]) -> None:
        """The app was added to a team, or people joined one: in the background, learn whom it can reach there
        (:mod:`adapters.teams.roster`)."""
        service_url = str(body.get("serviceUrl") or "")
        if not seen.tenant or not service_url:
            return
        team, joined = team_added(body), members_joined(body)
        if team:
            self._in_background(self.roster.sync, seen.tenant, service_url, team)
        elif joined:
            self._in_background(self.roster.keep, seen.tenant, service_url, joined)

    def _in_background(self, work: Callable[..., Any], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(work, *args))
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reading a Teams roster failed", exc_info=task.exception())

    def _introduces(self, event: InboundEvent) -> bool:
        with self.store.unit_of_work() as uow:
            return may_introduce(uow, PLATFORM, event.tenant, event.user, event.text)

    def _commit(self, seen: _Seen, event: InboundEvent | None, body: dict[str, Any]) -> dict[str, Any] | None:
        """In the worker pool: references and accounts, then the event (committed before we answer)."""
        teams = self.store.teams
        if seen.tenant and seen.added is False and seen.reference is not None:
            teams.forget_conversation(seen.tenant, seen.reference["conversation_id"])
            self._recent.pop((seen.tenant, seen.reference["conversation_id"]), None)
        elif seen.tenant and not self._unchanged(seen):
            teams.remember(seen.tenant, seen.reference, seen.accounts)
            self._remembered(seen)
            if seen.reference is not None and seen.reference.get("user_id"):
                self._wake(seen.tenant, seen.reference["user_id"])
        invoke = body.get("type") == "invoke" and body.get("name") == CARD_ACTION
        overrun = over_limit(card_data(body) or {}) if invoke else None
        problems = form_problems(card_data(body) or {}) if invoke and overrun is None else {}
        if event is not None and overrun is None and not problems:  # refused in the card: nothing to handle
            event = self._with_directory_ids(event)
            self.runtime.accept(event)
        if body.get("type") != "invoke":
            return None
        if not invoke:
            return {}
        if overrun is not None:
            return self._refused(seen, event, body, overrun)
        if problems:
            return self._form_refused(seen, event, body, problems)
        return self._invoke_answer(body)

    def _unchanged(self, seen: _Seen) -> bool:
        """Whether the same reference and accounts were stored in the last few minutes (then skip the write)."""
        if seen.reference is None or seen.added:
            return False
        earlier = self._recent.get((seen.tenant, seen.reference["conversation_id"]))
        return (
            earlier is not None
            and earlier[1] == repr((sorted(seen.reference.items()), seen.accounts))
            and time.monotonic() - earlier[0] < REMEMBERED_FOR
        )

    def _remembered(self, seen: _Seen) -> None:
        if seen.reference is None:
            return
        if len(self._recent) > 50_000:
            self._recent.clear()
        self._recent[(seen.tenant, seen.reference["conversation_id"])] = (
            time.monotonic(),
            repr((sorted(seen.reference.items()), seen.accounts)),
        )

    def _with_directory_ids(self, event: InboundEvent) -> InboundEvent:
        """Mentions by Teams account id (``29:…``) mapped to the AD object id when the account is known."""
        teams_ids = [v for v in event.mentions.values() if v.startswith("29:")]
        if not teams_ids:
            return event
        known = {a.account_id: a.user_id for a in self.store.teams.accounts(event.tenant, teams_ids) if a.user_id}
        return event.model_copy(update={"mentions": {k: known.get(v, v) for k, v in event.mentions.items()}})

    def _wake(self, tenant: str, user: str) -> None:
        """Someone wrote or installed: messages held for them are due now."""
        with self.store.unit_of_work() as uow:
            found = uow.tenants.find(PLATFORM, tenant)
            person = found and uow.people.by_identity(found.id, PLATFORM, user)
        if found and person:
            if self.store.teams.wake_waiting(found.id, {person.id}, self.runtime.clock.now()):
                self.poke()

    # -- invoke answers ----------------------------------------------------------------------------------

    @staticmethod
    def _invoke_answer(body: dict[str, Any]) -> dict[str, Any]:
        """A press the engine will decide: a message, which leaves the card as it is. The card changes only
        when the engine has decided (accepted, outdated, or refused: buttons kept), through the outbox
        (:mod:`adapters.teams.pressed`); a card answered here could claim a choice the engine then refuses, or
        arrive after that update and undo it."""
        data = card_data(body) or {}
        chosen = str(data.get(cards.LABEL) or "")
        text = say("teams.received", label=chosen) if chosen else say("teams.received_plain")
        return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": plain(text, 500)}

    def _refused(
        self, seen: _Seen, event: InboundEvent | None, body: dict[str, Any], overrun: Overrun
    ) -> dict[str, Any]:
        """A card submitted with more choices than an input takes: in a personal chat, the same card again with
        the engine's refusal under that input; elsewhere the refusal as a short message (adapters/teams/limits.py)."""
        data = card_data(body) or {}
        ref = str(data.get(cards.REF) or "")
        refusal = say("input.too_many", maximum=overrun.maximum)
        personal = (seen.reference or {}).get("conversation_type") == "personal"
        message = self._pressed_message(seen.tenant, event, ref) if personal else None
        if message is not None:
            link_for = (lambda index: self.links.url(int(ref), index)) if self.links.enabled else None
            refreshed = refused_card(cards.render(message, ref, link_for), data, overrun, refusal)
            if refreshed is not None:
                return {"statusCode": 200, "type": CARD_RESPONSE, "value": refreshed}
        return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": plain(refusal, 500)}

    def _form_refused(
        self, seen: _Seen, event: InboundEvent | None, body: dict[str, Any], problems: dict[str, str]
    ) -> dict[str, Any]:
        """A card form with mistakes: the same card again with each under its input (adapters/teams/forms.py)."""
        data = card_data(body) or {}
        ref = str(data.get(cards.REF) or "")
        personal = (seen.reference or {}).get("conversation_type") == "personal"
        message = self._pressed_message(seen.tenant, event, ref) if personal else None
        if message is not None:
            link_for = (lambda index: self.links.url(int(ref), index)) if self.links.enabled else None
            refreshed = problems_card(cards.render(message, ref, link_for), data, problems)
            if refreshed is not None:
                return {"statusCode": 200, "type": CARD_RESPONSE, "value": refreshed}
        return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": plain(next(iter(problems.values())), 500)}

    def _pressed_message(self, tenant: str, event: InboundEvent | None, ref: str) -> OutgoingMessage | None:
        """The outbox message whose card was pressed, if it was sent to the person who pressed it."""
        if event is None or not ref.isdecimal():
            return None
        with self.store.unit_of_work() as uow:
            found = uow.tenants.find(PLATFORM, tenant)
            person = found and uow.people.by_identity(found.id, PLATFORM, event.user)
        if not found or not person:
            return None
        message = self.store.outbox.message_for(int(ref), PLATFORM, person.id)
        return message if message is not None and message.tenant_id == found.id else None

    # -- GET /teams/files/{token} ------------------------------------------------------------------------

    async def download(self, request: web.Request) -> web.Response:
        """A file the bot offered (signed, expiring link): served from its outbox message."""
        try:
            outbox_id, index = self.links.check(request.match_info["token"])
        except LinkError as problem:
            return web.Response(
                status=410 if problem.reason == "expired" else 403, text=plain(say(f"teams.link.{problem.reason}"), 300)
            )
        attachment = await asyncio.to_thread(self.store.outbox.attachment, outbox_id, PLATFORM, index)
        if attachment is None:
            return web.Response(status=404, text=plain(say("teams.link.gone"), 300))
        content = base64.b64decode(attachment.content_b64)
        media_type = attachment.media_type or "application/octet-stream"
        disposition = "inline" if media_type.startswith("image/") else "attachment"
        name = urllib.parse.quote(attachment.filename or "file", safe="")
        return web.Response(
            body=content,
            content_type=media_type,
            headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
            },
        )

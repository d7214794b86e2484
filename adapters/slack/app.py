"""The Slack app on slack-bolt: HTTP at ``POST /slack/events`` and Socket Mode, on the engine.

Every listener does the same three things, and nothing slow: translate the payload into an
:class:`~bot.model.InboundEvent`, commit it to the durable inbox (``Runtime.accept``, in a thread), and
acknowledge. ``process_before_response=True`` makes bolt send the HTTP response only after the listener
returns, so Slack hears "200" only once the event is safe; the worker, poked, does the work after.
A retry (``X-Slack-Retry-Num``) carries the same event id: the inbox's unique key makes it a no-op when
the first delivery was stored, and processes it when the first delivery never reached the store.
Events, actions and views the bot does not handle are acknowledged with an empty 200, and so is a
signed payload of a shape nobody can read (logged as a warning: sent again, it would fail again); only
a failure to store an event is a 500.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.redaction import protect_settings
from adapters.settings import ConfigurationError, Settings
from adapters.slack.delivery import api_base
from adapters.slack.directory import SlackDirectory
from adapters.slack.forms import FORM_CALLBACK, form_view
from adapters.slack.groups import group_command, mention_in_group
from adapters.slack.home import home_view, load
from adapters.slack.installs import REMOVAL_EVENTS, Reinstalls, mark_removed
from adapters.slack.manifest import bot_scopes
from adapters.slack.modals import modal_errors
from adapters.slack.oauth import oauth_settings
from adapters.slack.render import OPEN_FORM
from adapters.slack.translate import (
    from_block_action,
    from_command,
    from_mention,
    from_message,
    from_view_submission,
    team_of,
)
from bot.grants import OFFER_JOB
from bot.model import ID_LIMITS, InboundEvent, OutgoingMessage, Platform
from bot.runtime import Runtime
from bot.wording import say

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class NotStored(Exception):
    """The event could not be committed to the inbox: not acknowledged, so that Slack sends it again."""


def check_settings(settings: Settings) -> None:
    """Refuse, in one line, a Slack configuration that cannot work."""
    oauth = {
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": settings.slack_client_secret,
        "SLACK_STATE_SECRET": settings.slack_state_secret,
    }
    if any(oauth.values()) and not all(oauth.values()):
        raise ConfigurationError(say("slack.config.oauth", missing=[k for k, v in oauth.items() if not v]))
    if not settings.slack_client_id and not settings.slack_bot_token:
        raise ConfigurationError(say("slack.config.bot_token"))
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigurationError(say("slack.config.signing_secret"))
    if settings.slack_app_token and not settings.slack_app_token.startswith("xapp-"):
        raise ConfigurationError(say("slack.config.app_token"))


class SlackService:
    """The bolt app and its listeners, wired to the runtime; mount it on the aiohttp app of ``rmbot serve``."""

    def __init__(self, settings: Settings, runtime: Runtime, poke: Callable[[], None] = lambda: None) -> None:
        check_settings(settings)
        protect_settings(settings)
        self.settings = settings
        self.runtime = runtime
        self.store = runtime.store
        self.poke = poke
        self.directory = SlackDirectory(self.store)
        self.reinstalls = Reinstalls(self.store)
        self.tasks: set[asyncio.Task[Any]] = set()
        base_url = api_base(settings.slack_api_url)
        if settings.slack_client_id:
            self.app = AsyncApp(
                name="rmbot",
                signing_secret=settings.slack_signing_secret,
                process_before_response=True,
                client=AsyncWebClient(base_url=base_url),
                oauth_settings=oauth_settings(
                    self.store,
                    settings.slack_client_id,
                    settings.slack_client_secret,
                    settings.slack_state_secret,
                    bot_scopes(),
                    on_install=self.installed,
                    api_url=base_url,
                ),
            )
        else:
            self.app = AsyncApp(
                name="rmbot",
                token=settings.slack_bot_token,
                signing_secret=settings.slack_signing_secret,
                process_before_response=True,
                request_verification_enabled=bool(settings.slack_signing_secret),
            )
            self.app.client.base_url = base_url  # per-request clients copy it
        self.in_flight = 0
        self.socket: AsyncSocketModeHandler | None = None
        if settings.slack_app_token:
            self.socket = _CountingSocketModeHandler(
                self, settings.slack_app_token, web_client=AsyncWebClient(base_url=base_url)
            )
        self._listen()
        self.app.error(self._on_error)

    def busy(self) -> bool:
        """True while Slack requests are being acknowledged: the worker steps aside for them."""
        return self.in_flight > 0

    # -- wiring ----------------------------------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        """Add the Slack routes (and Socket Mode, when configured) to the server's aiohttp app."""
        if self.settings.slack_signing_secret:
            web_app.router.add_post(EVENTS_PATH, self.handle)
        if self.app.oauth_flow is not None:
            web_app.router.add_get(self.app.oauth_flow.install_path, self.handle_install)
            web_app.router.add_get(self.app.oauth_flow.redirect_uri_path, self.handle_redirect)
        if self.socket is not None:
            web_app.on_startup.append(self._connect)
            web_app.on_cleanup.append(self._disconnect)

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: events, slash commands, interactivity and options (bodies over 1 MB: 413)."""
        self.in_flight += 1
        try:
            try:
                return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))
            except web.HTTPException:
                raise
            except Exception as error:  # noqa: BLE001 - bolt could not even read the request
                signed = self._signed(
                    await request.text(),
                    request.headers.get("X-Slack-Request-Timestamp"),
                    request.headers.get("X-Slack-Signature"),
                )
                return await to_aiohttp_response(self._unreadable(error, signed))
        finally:
            self.in_flight -= 1

    def _signed(self, body: str, timestamp: str | None, signature: str | None) -> bool:
        try:
            return SignatureVerifier(self.settings.slack_signing_secret).is_valid(body, timestamp, signature)
        except ValueError:  # a timestamp that is not a number, or no signing secret (Socket Mode only)
            return False

    async def _on_error(self, error: Exception, request: AsyncBoltRequest) -> BoltResponse:
        """Bolt's error handler: a failed store is a 500 (Slack sends again); anything else is the payload's shape."""
        if isinstance(error, NotStored):
            log.error("a Slack request could not be stored; Slack will send it again", exc_info=error.__cause__)
            return BoltResponse(status=500, body="")
        signed = request.mode == "socket_mode" or self._signed(
            request.raw_body,
            _first(request.headers.get("x-slack-request-timestamp")),
            _first(request.headers.get("x-slack-signature")),
        )
        return self._unreadable(error, signed)

    @staticmethod
    def _unreadable(error: Exception, signed: bool) -> BoltResponse:
        """A request whose payload cannot be read: 401 unless it is signed; signed, acknowledged and dropped."""
        if not signed:
            return BoltResponse(status=401, body='{"error": "invalid request"}')
        log.warning("ignored a Slack request of an unexpected shape (%s: %s)", type(error).__name__, error)
        return BoltResponse(status=200, body="")

    async def handle_install(self, request: web.Request) -> web.Response:
        """``GET /slack/install``: the "Add to Slack" page (OAuth)."""
        assert self.app.oauth_flow is not None
        return await to_aiohttp_response(await self.app.oauth_flow.handle_installation(await to_bolt_request(request)))

    async def handle_redirect(self, request: web.Request) -> web.Response:
        """``GET /slack/oauth_redirect``: Slack sends the installer back here; the installation is kept."""
        assert self.app.oauth_flow is not None
        return await to_aiohttp_response(await self.app.oauth_flow.handle_callback(await to_bolt_request(request)))

    async def installed(self, team: str, user: str, token: str) -> None:
        """An OAuth install was kept: fetch the installer's profile (a grant waiting for their email makes them a
        coordinator now), then commit the event that offers them the role (``bot/grants.py``), once per installer
        and workspace, however often they install again."""
        await self.directory.ensure(AsyncWebClient(token=token, base_url=self.app.client.base_url), team, [user])
        event = InboundEvent(
            platform=Platform.SLACK,
            tenant=team,
            event_id=f"install:{user}",
            user=user,
            kind="due",
            due={"kind": OFFER_JOB, "payload": {"user": user}},
            occurred_at=datetime.now(UTC),
        )
        if await asyncio.to_thread(self.runtime.accept, event):
            self.poke()

    async def _connect(self, _app: web.Application) -> None:
        assert self.socket is not None
        await self.socket.connect_async()

    async def _disconnect(self, _app: web.Application) -> None:
        if self.socket is not None:
            await self.socket.close_async()
        await self.drain()

    async def drain(self) -> None:
        """Wait for background work started by listeners (App Home publishing)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # -- listeners -------------------------------------------------------------------------------------

    def _listen(self) -> None:
        app = self.app
        app.command(re.compile(".*"))(self.on_command)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home)
        for removed in REMOVAL_EVENTS:
            app.event(removed)(self.on_removed)
        app.event(re.compile(".*"))(self.on_anything)
        app.action(re.compile(f"^{re.escape(OPEN_FORM)}"))(self.on_open_form)
        app.action(re.compile(".*"))(self.on_action)
        app.view(FORM_CALLBACK)(self.on_view)
        app.view(re.compile(".*"))(self.on_anything)
        app.view_closed(re.compile(".*"))(self.on_anything)
        app.options(re.compile(".*"))(self.on_options)
        app.shortcut(re.compile(".*"))(self.on_anything)

    async def _accept(self, client: AsyncWebClient, event: InboundEvent | None, ack: Any, **ack_args: Any) -> None:
        if event is not None and event.unfit():
            log.warning("ignored a Slack request: %s", event.unfit())
            event = None
        if event is not None:
            try:
                await self.directory.ensure_event(client, event)
                await asyncio.to_thread(self.runtime.accept, event)
            except Exception as failure:
                raise NotStored() from failure
        await ack(**ack_args)
        if event is not None:
            self.poke()
            try:
                await self.reinstalls.seen(event.tenant, event.occurred_at)
            except Exception:  # noqa: BLE001 - the event is stored; the held messages wait for the next one
                log.exception("checking whether Slack tenant %s has the app again failed", event.tenant)

    async def on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """``/mentoring …``: a command; typed in a channel, the answer comes by DM (said in an ephemeral ack)."""
        channel = str(body.get("channel_id", ""))
        ack_args = {"text": say("slack.answered_in_dm")} if channel[:1] in ("C", "G") else {}
        await self._accept(client, from_command(body), ack, **ack_args)

    async def on_message(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        """A DM to the bot, or a command in a group DM (``adapters/slack/groups.py``); others are dropped."""
        event = from_message(body) or await group_command(client, body, context.bot_user_id or "")
        await self._accept(client, event, ack)

    async def on_mention(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        """``@mentoring …`` in a channel or a group DM: a command (no Web API call before the ack: ``groups.py``)."""
        await self._accept(client, mention_in_group(from_mention(body, context.bot_user_id or ""), body), ack)

    async def on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A button, select or overflow choice in a message or the App Home."""
        await self._accept(client, from_block_action(body), ack)

    async def on_view(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A submitted form: mistakes answered inline (nothing stored); else accepted, and the empty ack closes it."""
        errors = modal_errors(body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await self._accept(client, from_view_submission(body), ack)

    async def on_removed(self, ack: Any, body: dict[str, Any]) -> None:
        """``app_uninstalled``, ``tokens_revoked``: the tenant is marked (its messages held) before the ack
        (``adapters/slack/installs.py``)."""
        try:
            await asyncio.to_thread(mark_removed, self.store, self.settings.slack_client_id, body)
        except Exception as failure:
            raise NotStored() from failure
        self.reinstalls.forget()
        await ack()

    async def on_anything(self, ack: Any) -> None:
        """Anything the bot does not handle: acknowledged, nothing else."""
        await ack()

    async def on_options(self, ack: Any) -> None:
        """Options for external selects (the bot uses none): an empty list."""
        await ack(options=[])

    async def on_home(self, ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        """``app_home_opened``: acknowledge, then publish the home tab in the background."""
        await ack()
        user = event.get("user")
        if (
            event.get("tab", "home") == "home"
            and isinstance(user, str)
            and 0 < len(user) <= ID_LIMITS["user"]
            and "\x00" not in user
        ):
            task = asyncio.create_task(self.publish_home(client, team_of(body), event["user"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def publish_home(self, client: AsyncWebClient, team: str, user: str) -> None:
        """Build the home tab from the store and publish it (a failure is logged; the next open retries)."""
        try:
            await self.directory.ensure(client, team, [user])
            now = datetime.now(UTC)
            board = await asyncio.to_thread(load, self.store, team, user, self.runtime.engine.registry, now)
            view = home_view(board, now)
            await client.views_publish(user_id=user, view=view)
        except Exception:  # noqa: BLE001 - the home tab is a view; it is rebuilt on the next open
            log.exception("publishing the App Home of %s failed", user)

    async def on_open_form(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The "open the form" button of a message: open its form as a modal with this fresh trigger."""
        pressed = (body.get("actions") or [{}])[0]
        message = await asyncio.to_thread(
            self._form_message, team_of(body), (body.get("user") or {}).get("id", ""), str(pressed.get("value", ""))
        )
        if message is not None and message.form is not None:
            try:
                await client.views_open(trigger_id=body.get("trigger_id"), view=form_view(message.form))
            except Exception:  # noqa: BLE001 - the person can press again
                log.exception("opening a form for %s failed", (body.get("user") or {}).get("id"))
        await ack()

    def _form_message(self, team: str, user: str, item_id: str) -> OutgoingMessage | None:
        """The outbox message behind a form button, if it was sent to this person in this workspace."""
        if not item_id.isdecimal():
            return None
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.find(Platform.SLACK.value, team)
            person = tenant and uow.people.by_identity(tenant.id, Platform.SLACK.value, user)
        if not tenant or not person:
            return None
        message = self.store.outbox.message_for(int(item_id), Platform.SLACK.value, person.id)
        return message if message is not None and message.tenant_id == tenant.id else None


class _CountingSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode, counting the requests it is acknowledging (as ``SlackService.handle`` does for HTTP)."""

    def __init__(self, service: SlackService, app_token: str, web_client: AsyncWebClient) -> None:
        super().__init__(service.app, app_token, web_client=web_client)
        self.service = service

    async def handle(self, client: Any, req: Any) -> None:
        self.service.in_flight += 1
        try:
            await super().handle(client, req)
        finally:
            self.service.in_flight -= 1


def _first(values: Sequence[str] | None) -> str | None:
    """The first value of a request header (None when it is missing)."""
    return values[0] if values else None

"""Proactive installation through Microsoft Graph: the bot installs its own app for someone who has not.

Someone who never installed the app, and is in no team where it is, cannot be sent anything by a bot.
When the operator has granted the app registration the Graph application permission
``TeamsAppInstallation.ReadWriteForUser.All`` (or the narrower ``TeamsAppInstallation.ReadWriteSelfForUser.All``),
with admin consent, and set ``TEAMS_CATALOG_APP_ID`` (the app's id in the tenant's Teams app catalog), the
deliverer installs the app in that person's personal scope and posts to the new chat at once:

1. ``POST {TEAMS_GRAPH_URL}/users/{AD object id, or user principal name}/teamwork/installedApps`` with
   ``{"teamsApp@odata.bind": "{TEAMS_GRAPH_URL}/appCatalogs/teamsApps/{catalog id}"}``: 201 Created, or
   409 Conflict when the app is already installed for them (both mean: installed);
2. ``GET …/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '{catalog id}'``: the installation's id;
3. ``GET …/installedApps/{installation id}/chat``: the id of the person's chat with the bot, kept as their
   conversation reference (Teams also sends the bot an ``installationUpdate`` for the install, which
   stores the same chat and makes anything else held for the person due).

The token is the app's own (client credentials through MSAL, scope ``https://graph.microsoft.com/.default``)
from the tenant of the person, so a multi-tenant bot works in every tenant that consented.

When Graph says **403** (the permission is not granted, or not consented in that tenant) nothing more is
asked of Graph in that tenant for an hour, the message is held as without Graph (retried, delivered as soon
as the person installs the app, dropped after about a week), and the programme's coordinators are told once
that the administrator can grant the permission (``teams.graph_denied``). **429** waits for ``Retry-After``
through the outbox; other failures (a 5xx, no answer, no token) fall back to holding for that attempt.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import requests

from adapters.settings import ConfigurationError, Settings
from adapters.teams.tokens import ClientCredentials, TokenError
from bot.model import Address, OutgoingMessage, Platform
from bot.ports import ChatAccount, ConversationReference, Store
from bot.wording import say

log = logging.getLogger(__name__)
PLATFORM = Platform.TEAMS.value
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PERMISSION = "TeamsAppInstallation.ReadWriteForUser.All"
DENIED_FOR = 3600.0
"""Seconds Graph is not asked again in a tenant after it refused the permission."""
INSTALLING_FOR = 900.0
"""Seconds after an install during which Teams' own notice of it is awaited (coordinators are not told)."""
DEFAULT_WAIT = 5.0
TIMEOUT = 10.0
NOTICE_KEY = "teams:install:graph:"
"""Idempotency keys of the notes to coordinators (under the deliverer's ``teams:install:`` prefix)."""
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

Kind = Literal["chat", "installed", "denied", "missing", "retry", "failed"]


class Later(Exception):
    """Graph asked the bot to wait (429): the outbox tries the message again after ``seconds``."""

    def __init__(self, seconds: float, error: str) -> None:
        super().__init__(error)
        self.seconds, self.error = seconds, error


@dataclass(frozen=True)
class Installed:
    """What an attempt to install the app for someone came to."""

    kind: Kind
    chat_id: str = ""
    retry_after: float = 0.0
    error: str = ""


def check_graph_settings(settings: Settings) -> None:
    """Refuse, in one line, a TEAMS_CATALOG_APP_ID or TEAMS_GRAPH_URL that cannot work."""
    if settings.teams_catalog_app_id and not GUID.match(settings.teams_catalog_app_id):
        raise ConfigurationError(say("teams.config.catalog_app_id", given=settings.teams_catalog_app_id))
    if settings.teams_catalog_app_id and settings.microsoft_app_id and not settings.microsoft_app_password:
        raise ConfigurationError(say("teams.config.catalog_needs_secret"))
    url = urllib.parse.urlsplit(settings.teams_graph_url)
    if not url.hostname or not (url.scheme == "https" or (url.scheme == "http" and url.hostname in LOCAL_HOSTS)):
        raise ConfigurationError(say("teams.config.graph_url", given=settings.teams_graph_url))


def graph_tokens(
    login_url: str, app_id: str, secret: str, http_client: requests.Session | None = None
) -> Callable[[str], str]:
    """A function giving the app's Graph token for a tenant (one MSAL client per tenant, each with its cache)."""
    clients: dict[str, ClientCredentials] = {}

    def token(tenant: str) -> str:
        if tenant not in clients:
            clients[tenant] = ClientCredentials(login_url, tenant, app_id, secret, http_client, scope=GRAPH_SCOPE)
        return clients[tenant]()

    return token


class GraphClient:
    """The three Graph requests of a proactive installation (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        catalog_app_id: str,
        token: Callable[[str], str],
        session: requests.Session | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.catalog_app_id = catalog_app_id
        self.token = token
        self.session = session or requests.Session()
        self.timeout = timeout

    def install(self, tenant: str, user: str) -> Installed:
        """Install the app for ``user`` (AD object id or user principal name) and find their chat with the bot."""
        apps = f"{self.base}/users/{urllib.parse.quote(user, safe='@')}/teamwork/installedApps"
        bind = {"teamsApp@odata.bind": f"{self.base}/appCatalogs/teamsApps/{self.catalog_app_id}"}
        added = self._call(tenant, "POST", apps, bind)
        if isinstance(added, Installed):
            return added
        if added.status_code not in (201, 409):  # 409 Conflict: installed already
            return self._refused(added)
        wanted = urllib.parse.quote(f"teamsApp/id eq '{self.catalog_app_id}'", safe="/")
        listed = self._call(tenant, "GET", f"{apps}?$expand=teamsApp&$filter={wanted}")
        if isinstance(listed, Installed):
            return listed
        if listed.status_code != 200:
            return self._refused(listed)
        found = [i for i in _json(listed).get("value") or [] if isinstance(i, dict) and i.get("id")]
        if not found:
            return Installed("installed", error="installed, but not listed yet")
        chat = self._call(tenant, "GET", f"{apps}/{urllib.parse.quote(str(found[0]['id']), safe='')}/chat")
        if isinstance(chat, Installed):
            return chat
        chat_id = str(_json(chat).get("id") or "") if chat.status_code == 200 else ""
        return Installed("chat", chat_id) if chat_id else Installed("installed", error=f"chat: HTTP {chat.status_code}")

    def _call(
        self, tenant: str, method: str, url: str, body: dict[str, Any] | None = None
    ) -> requests.Response | Installed:
        try:
            token = self.token(tenant)
        except TokenError as problem:
            return Installed("failed", error=str(problem))
        try:
            return self.session.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as problem:
            return Installed("failed", error=f"Graph not reached: {type(problem).__name__}")

    @staticmethod
    def _refused(response: requests.Response) -> Installed:
        code = str((_json(response).get("error") or {}).get("code") or "")
        error = f"Graph HTTP {response.status_code} {code}".strip()
        if response.status_code == 403:
            return Installed("denied", error=error)
        if response.status_code == 404:
            return Installed("missing", error=error)
        if response.status_code == 429 or (response.status_code == 503 and response.headers.get("Retry-After")):
            return Installed("retry", retry_after=_seconds(response.headers.get("Retry-After")), error=error)
        return Installed("failed", error=error)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else DEFAULT_WAIT
    except ValueError:
        return DEFAULT_WAIT


class GraphReach:
    """For the deliverer: a chat with someone the bot cannot reach otherwise, by installing the app for them."""

    def __init__(self, store: Store, client: GraphClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self._denied: dict[str, float] = {}
        self._installing: dict[int, float] = {}

    def installing(self, person_id: int) -> bool:
        """Whether the app was just installed for the person (Teams' notice of it, and their chat, are awaited)."""
        return self.clock() < self._installing.get(person_id, 0.0)

    def chat_for(
        self, message: OutgoingMessage, tenant: str, person_id: int, user: str, known: list[ChatAccount]
    ) -> ConversationReference | None:
        """The person's chat with the bot after installing the app for them, or None (they wait); raises
        :class:`Later` when Graph asks for time."""
        if self.clock() < self._denied.get(tenant, 0.0):
            self._tell_coordinators(message)
            return None
        target = self._target(person_id, user, known)
        if not target:
            return None
        done = self.client.install(tenant, target)
        if done.kind == "retry":
            raise Later(done.retry_after, done.error)
        if done.kind == "denied":
            log.warning(
                "Graph refused to install the Teams app in tenant %s (%s): %s missing", tenant, done.error, PERMISSION
            )
            self._denied[tenant] = self.clock() + DENIED_FOR
            self._tell_coordinators(message)
            return None
        if done.kind in ("missing", "failed"):
            log.info("could not install the Teams app for person %s: %s", person_id, done.error)
            return None
        self._installing[person_id] = self.clock() + INSTALLING_FOR
        service, bot = self.store.teams.service_url(tenant), self.store.teams.bot_id(tenant)
        if done.kind != "chat" or not service:
            return None  # Teams' installationUpdate brings the chat, and makes the message due
        reference = {
            "tenant_key": tenant,
            "conversation_id": done.chat_id,
            "conversation_type": "personal",
            "user_id": user,
            "service_url": service,
            "bot_id": bot,
        }
        if user:
            self.store.teams.remember_conversation(reference)
        return ConversationReference(**reference)

    def _target(self, person_id: int, user: str, known: list[ChatAccount]) -> str:
        """Whom to ask Graph about: the AD object id when known, else the email as user principal name."""
        for candidate in [user, *(a.user_id for a in known)]:
            if GUID.match(candidate or ""):
                return candidate
        with self.store.unit_of_work() as uow:
            person = uow.people.get(person_id)
        return person.email if person is not None and person.email else ""

    def _tell_coordinators(self, message: OutgoingMessage) -> None:
        """Queue, once per programme and coordinator, the note that the Graph permission is not granted."""
        if message.programme_id is None or message.idempotency_key.startswith(NOTICE_KEY):
            return
        try:
            with self.store.unit_of_work() as uow:
                programme = uow.programmes.get(message.programme_id)
                if programme is None:
                    return
                for coordinator in uow.coordinators.of_programme(programme.id):
                    uow.outbox.add(
                        OutgoingMessage(
                            tenant_id=message.tenant_id,
                            to=Address.person(coordinator),
                            programme_id=programme.id,
                            idempotency_key=f"{NOTICE_KEY}{programme.id}:{coordinator}",
                            text=say("teams.graph_denied", programme=programme.name, permission=PERMISSION),
                        ),
                        platform=PLATFORM,
                    )
        except Exception:  # noqa: BLE001 - a note to coordinators must never stop delivery
            log.exception("could not queue the Graph permission note for programme %s", message.programme_id)


def graph_reach(settings: Settings, store: Store, http_client: requests.Session | None = None) -> GraphReach | None:
    """The Graph installer when TEAMS_CATALOG_APP_ID is set and the bot has a client secret (None otherwise)."""
    if not settings.teams_catalog_app_id or not settings.microsoft_app_id or not settings.microsoft_app_password:
        return None
    tokens = graph_tokens(
        settings.teams_login_url, settings.microsoft_app_id, settings.microsoft_app_password, http_client
    )
    return GraphReach(store, GraphClient(settings.teams_graph_url, settings.teams_catalog_app_id, tokens))

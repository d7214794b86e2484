"""The bot token every sender uses for a Slack tenant, refreshed before it expires (token rotation).

A tenant is a workspace (team id) or, for an org-wide install on Enterprise Grid, the organisation (enterprise
id); its bot is looked up by enterprise id first, then by team id (``SlackRecords.tenant_bot``). With token
rotation switched on for the app, an install comes with a refresh token and a bot token that lasts twelve
hours; a token due to expire within ``ROTATE_BEFORE_MINUTES`` is exchanged for a new one
(``oauth.v2.access`` with ``grant_type=refresh_token``, through slack_sdk's ``TokenRotator``) and the new one is
kept as the tenant's newest bot row, which every sender reads next: the outbox deliverer here, bolt's
listeners through the same installation store (``adapters/slack/oauth.py`` gives bolt the same rotation).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.token_rotation import TokenRotator

from adapters.slack.oauth import ROTATE_BEFORE_MINUTES, bot_of
from bot.ports import Store

log = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 60.0
MIN_CACHE_SECONDS = 5.0
"""A token whose rotation failed is still used (it works until it expires), asked again after this long."""


class TokenSource:
    """The bot token for a tenant: the single configured token, or the installed one (cached briefly, and never
    past the moment it is due for rotation). Called from the sending threads."""

    def __init__(
        self,
        store: Store,
        bot_token_setting: str = "",
        client_id: str = "",
        client_secret: str = "",
        api_url: str = "",
        rotate_before_minutes: int = ROTATE_BEFORE_MINUTES,
    ) -> None:
        self.store = store
        self.single = bot_token_setting
        self.client_id = client_id
        self.rotate_before = rotate_before_minutes
        self.rotator: TokenRotator | None = None
        if client_id and client_secret:
            client = WebClient(base_url=api_url or WebClient.BASE_URL, timeout=15)
            self.rotator = TokenRotator(client_id=client_id, client_secret=client_secret, client=client)
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, team: str) -> str | None:
        if not self.client_id:
            return self.single or None
        with self._lock:  # one rotation at a time in this process
            cached = self._cache.get(team)
            now = time.time()
            if cached and now < cached[0]:
                return cached[1]
            token, until = self._load(team, now)
            if token:
                self._cache[team] = (until, token)
            return token or self.single or None

    def forget(self, team: str) -> None:
        """Read the tenant's token from the store again next time (Slack refused the one in hand)."""
        with self._lock:
            self._cache.pop(team, None)

    def _load(self, team: str, now: float) -> tuple[str | None, float]:
        row = self.store.slack.tenant_bot(self.client_id, team)
        if row is None:
            return None, now
        bot = bot_of(row)
        if bot.bot_refresh_token and self.rotator is not None:
            try:
                refreshed = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=self.rotate_before
                )
            except SlackTokenRotationError as problem:
                log.error("refreshing the Slack bot token of %s failed (%s); using the current one", team, problem)
                refreshed = None
            if refreshed is not None:
                self.store.slack.save_installation(self.client_id, None, refreshed.to_dict())
                bot = refreshed
        until = now + TOKEN_CACHE_SECONDS
        if bot.bot_token_expires_at is not None:
            due = bot.bot_token_expires_at - self.rotate_before * 60
            until = max(now + MIN_CACHE_SECONDS, min(until, due))
        return bot.bot_token, until

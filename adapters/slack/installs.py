"""When the app leaves a Slack tenant (``app_uninstalled``, ``tokens_revoked``), and when it comes back.

* **In**: Slack's event marks the tenant in our database (``SlackRecords.mark_uninstalled``: since when and
  why, its revoked tokens dropped) before it is acknowledged, so a failure is a 500 and Slack sends it again;
  a retry marks nothing twice, and a retry arriving after the app was installed again changes nothing.
* **Out**: the deliverer asks :class:`InstallState` before sending. A message for a tenant without the app is
  held (``outbox_message.held_for_install``), not sent and not counted as failing, for as long as the
  operator keeps message payloads (``RMBOT_PAYLOAD_RETENTION_DAYS`` from the uninstall); after that it is
  dropped, the reason kept. Installing again (OAuth) makes the held messages due at once; with a single
  configured token, the first event from the tenant after the uninstall does (:class:`Reinstalls`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.slack.translate import team_of
from bot.ports import DeliveryResult, OutboxItem, Store

log = logging.getLogger(__name__)

REMOVAL_EVENTS = ("app_uninstalled", "tokens_revoked")
INSTALLED_CACHE_SECONDS = 60.0
"""How long a tenant seen with the app is trusted to still have it (a revoked token is noticed at once anyway)."""
MARKS_CACHE_SECONDS = 60.0


def removal(body: dict[str, Any]) -> tuple[str, str, datetime] | None:
    """(tenant, reason, when) if the Events API body says the app left a tenant; None for a ``tokens_revoked``
    that revokes only people's own tokens (the bot asks for none)."""
    event = body.get("event") or {}
    reason = event.get("type")
    if reason not in REMOVAL_EVENTS:
        return None
    if reason == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
        return None
    try:
        at = datetime.fromtimestamp(float(body.get("event_time") or time.time()), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        at = datetime.now(UTC)
    return team_of(body), str(reason), at


def mark_removed(store: Store, client_id: str, body: dict[str, Any]) -> bool:
    """Record what a removal event says (see :func:`removal`); True if a tenant was marked."""
    found = removal(body)
    if found is None:
        return False
    tenant, reason, at = found
    if not tenant:
        log.warning("a Slack %s event named no workspace or organisation; ignored", reason)
        return False
    marked = store.slack.mark_uninstalled(client_id, tenant, reason, at)
    if marked:
        log.warning("the app was removed from Slack tenant %s (%s): its messages are held", tenant, reason)
    return marked


class InstallState:
    """The deliverer's view: is the app still in a tenant, and what to do with a message when it is not."""

    def __init__(self, store: Store, keep_for: timedelta, now: Callable[[], datetime]) -> None:
        self.store = store
        self.keep_for = keep_for
        self.now = now
        self._installed: dict[str, float] = {}

    def removed(self, team: str) -> tuple[str, datetime] | None:
        """(reason, since when) if the app was removed from the tenant; read from the store unless the tenant was
        seen with the app within the last minute."""
        seen = self._installed.get(team)
        if seen is not None and time.monotonic() - seen < INSTALLED_CACHE_SECONDS:
            return None
        mark = self.store.slack.uninstalled(team).get(team)
        if mark is None:
            self._installed[team] = time.monotonic()
        return mark

    def forget(self, team: str) -> None:
        """Ask the store next time (Slack just refused the tenant's token)."""
        self._installed.pop(team, None)

    def hold(self, item: OutboxItem, team: str, mark: tuple[str, datetime]) -> DeliveryResult:
        """Hold a message for a tenant without the app until its payloads' retention ends; then drop it."""
        reason, since = mark
        until = since + self.keep_for
        if until <= self.now():
            return DeliveryResult(
                suppressed=list(item.pending),
                error=f"slack: the app was removed from {team} ({reason}) on {since:%Y-%m-%d}; "
                f"not installed again within the retention period",
            )
        self.store.slack.hold_for_install(item.id)
        return DeliveryResult(
            retry_at=until,
            error=f"slack: held: the app was removed from {team} ({reason}) on {since:%Y-%m-%d}; "
            f"sent if it is installed again before {until:%Y-%m-%d}",
        )


class Reinstalls:
    """Noticing that a tenant has the app again from its events (a single configured token has no OAuth install):
    an event that happened after the tenant's mark clears it and makes its held messages due."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._marks: dict[str, datetime] = {}
        self._read = 0.0

    async def seen(self, tenant: str, occurred_at: datetime) -> None:
        """An event from ``tenant`` was accepted (cheap: the marks are read at most once a minute)."""
        if time.monotonic() - self._read > MARKS_CACHE_SECONDS:
            marks = await asyncio.to_thread(self.store.slack.uninstalled)
            self._marks = {key: since for key, (_reason, since) in marks.items()}
            self._read = time.monotonic()
        since = self._marks.get(tenant)
        if since is None or occurred_at <= since:
            return
        del self._marks[tenant]
        resumed = await asyncio.to_thread(self.store.slack.reinstalled, tenant, datetime.now(UTC))
        log.info("Slack tenant %s has the app again: %d held messages are due", tenant, resumed)

    def forget(self) -> None:
        """Read the marks again at the next event (one was just made)."""
        self._read = 0.0

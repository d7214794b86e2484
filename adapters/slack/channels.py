"""Where the deliverer reaches a person (or a pair): the DM channels it opened, kept in the database.

``conversations.open`` is a tier-3 method (about 50 calls a minute per workspace), so its answer is kept
through the ``SlackRecords`` port (``storage/slack_channels.py``): after a restart, or on another replica, a
person already reached costs no call. Each workspace's channels are read once per process, in one query, and
then kept in memory. An entry is dropped when Slack says its channel is gone (``channel_not_found``,
``is_archived``); the next message for those people opens a new one.
"""

from __future__ import annotations

import threading

from bot.ports import SlackRecords


class DmChannels:
    """The DM channel of a set of Slack users per tenant: in memory, else in the database, else unknown."""

    def __init__(self, records: SlackRecords) -> None:
        self.records = records
        self._known: dict[int, dict[frozenset[str], str]] = {}
        self._lock = threading.Lock()

    def _tenant(self, tenant_id: int) -> dict[frozenset[str], str]:
        known = self._known.get(tenant_id)
        if known is None:
            known = self._known[tenant_id] = self.records.dm_channels(tenant_id)
        return known

    def get(self, tenant_id: int, users: frozenset[str]) -> str | None:
        """The channel kept for exactly ``users``, or None when it must be opened."""
        with self._lock:
            return self._tenant(tenant_id).get(users)

    def remember(self, tenant_id: int, users: frozenset[str], channel: str) -> None:
        """Keep what ``conversations.open`` answered for ``users`` (durably, before anything is posted there)."""
        self.records.remember_dm_channel(tenant_id, users, channel)
        with self._lock:
            self._tenant(tenant_id)[users] = channel

    def forget(self, tenant_id: int, channel: str) -> None:
        """Slack says ``channel`` is gone: drop it here and in the database."""
        with self._lock:
            known = self._tenant(tenant_id)
            for users in [users for users, kept in known.items() if kept == channel]:
                del known[users]
        self.records.forget_dm_channel(tenant_id, channel)

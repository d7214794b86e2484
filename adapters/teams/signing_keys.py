"""The Bot Framework's token-signing keys: fetched without blocking, kept, and fetched again when needed.

The keys are read the way the Bot Framework publishes them: an OpenID metadata document (Microsoft's at
``https://login.botframework.com/v1/.well-known/openidconfiguration``, or ``TEAMS_OPENID_METADATA_URL``)
names a JWKS (``jwks_uri``) whose keys carry, besides the RSA numbers, the channels that endorse them
(``endorsements``: ``msteams``, ``webchat``…). Both are fetched with aiohttp on the event loop, so a slow
Microsoft never blocks other requests, and kept for a day. A token signed with a key not in the set makes
the set be fetched again (Microsoft rotates keys), at most once every five minutes, so forged key ids
cannot make the bot hammer Microsoft. When the keys cannot be had at all the caller gets
:class:`SigningKeysUnavailable` (answered 503, so Teams tries again); after a failure the next attempt
waits a few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)
KEEP_FOR = 24 * 3600.0
"""Seconds a fetched key set is used before it is fetched again."""
LOOK_AGAIN_AFTER = 300.0
"""Seconds that must pass since the last fetch before an unknown key id makes the set be fetched again."""
RETRY_FAILED_AFTER = 5.0
"""Seconds after a failed fetch during which requests are answered "unavailable" without trying again."""
FETCH_TIMEOUT = 10.0


class SigningKeysUnavailable(RuntimeError):
    """The OpenID metadata or its key set could not be fetched or read: not the caller's fault."""


@dataclass(frozen=True)
class SigningKey:
    """One published key: what verifies the signature, and the channels that endorse it."""

    key: jwt.PyJWK
    endorsements: frozenset[str]


class SigningKeys:
    """The key set behind one OpenID metadata URL, by key id (``kid``)."""

    def __init__(self, metadata_url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.metadata_url = metadata_url
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._generation = 0
        self._lock: asyncio.Lock | None = None

    async def get(self, key_id: str) -> SigningKey | None:
        """The key with this id (None when the publisher does not publish it); raises
        :class:`SigningKeysUnavailable` when the set is needed and cannot be fetched."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= KEEP_FOR:
            await self._refresh(self._generation)
        found = self._keys.get(key_id)
        if found is None and self._fetched_at is not None and self._clock() - self._fetched_at >= LOOK_AGAIN_AFTER:
            log.info("Bot Framework signing key %r is not in the set fetched earlier: fetching it again", key_id[:64])
            await self._refresh(self._generation)
            found = self._keys.get(key_id)
        return found

    async def _refresh(self, seen: int) -> None:
        """Fetch the set, once for all the requests that asked while it was being fetched."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._generation != seen:  # another request fetched it while this one waited
                return
            if self._failed_at is not None and self._clock() - self._failed_at < RETRY_FAILED_AFTER:
                raise SigningKeysUnavailable(f"{self.metadata_url} failed a moment ago")
            try:
                keys = await self._fetch()
            except SigningKeysUnavailable:
                self._failed_at = self._clock()
                raise
            self._keys, self._fetched_at, self._failed_at = keys, self._clock(), None
            self._generation += 1

    async def _fetch(self) -> dict[str, SigningKey]:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)) as session:
                metadata = await _json(session, self.metadata_url)
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                    raise SigningKeysUnavailable(f"{self.metadata_url} names no jwks_uri")
                published = (await _json(session, jwks_uri)).get("keys")
        except (aiohttp.ClientError, TimeoutError, ValueError) as failure:
            raise SigningKeysUnavailable(f"{self.metadata_url}: {type(failure).__name__}: {failure}") from None
        if not isinstance(published, list):
            raise SigningKeysUnavailable(f"the key set of {self.metadata_url} has no list of keys")
        return dict(item for item in map(_signing_key, published) if item is not None)


async def _json(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        document = await response.json(content_type=None)
    if not isinstance(document, dict):
        raise SigningKeysUnavailable(f"{url} did not answer a JSON object")
    return document


def _signing_key(entry: Any) -> tuple[str, SigningKey] | None:
    """A published RSA signing key by its id, or None for an entry that is not one (skipped)."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
        return None
    key_id, endorsements = entry.get("kid"), entry.get("endorsements") or []
    if not isinstance(key_id, str) or not key_id or not isinstance(endorsements, list):
        return None
    try:
        key = jwt.PyJWK(entry, algorithm="RS256")
    except jwt.PyJWTError as problem:
        log.warning("skipped an unreadable Bot Framework signing key %r: %s", key_id[:64], problem)
        return None
    return key_id, SigningKey(key, frozenset(str(e) for e in endorsements))

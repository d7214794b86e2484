"""Signed, expiring download links for the files the bot sends in Teams (.ics invitations, CSV exports,
charts too large to travel inside a card).

A link names an outbox message and one of its attachments and carries an expiry time and an HMAC-SHA256
signature over both (``RMBOT_LINK_SECRET``). ``GET /teams/files/{token}`` (mounted by the service)
checks the signature and the expiry and serves the attachment straight from its outbox message
(``Outbox.attachment``), so nothing else needs storing. Anyone holding a link can download until it
expires, like a link in an email: links are only ever sent to the message's recipients, in their chat. A
link stops working sooner when the message's payload is redacted (after the retention period, or by
``forget-me``): the attachment is no longer there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

PATH = "/teams/files"
DEFAULT_TTL = 7 * 24 * 3600
IMAGE_TTL = 365 * 24 * 3600
"""Charts are shown inside old messages for as long as people scroll back: their links last a year."""


class LinkError(ValueError):
    """A link that cannot be honoured: ``reason`` is ``invalid`` or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def derive_secret(configured: str, app_password: str) -> tuple[bytes, bool]:
    """The signing key: RMBOT_LINK_SECRET, else derived from the app password, else random (and False:
    links then die with the process)."""
    if configured:
        return configured.encode("utf-8"), True
    if app_password:
        return hashlib.sha256(b"rmbot-download-links\x00" + app_password.encode("utf-8")).digest(), True
    return _PROCESS_SECRET, False


_PROCESS_SECRET = secrets.token_bytes(32)


class Links:
    """Makes and checks download links under ``base_url`` (the public address of ``rmbot serve``)."""

    def __init__(
        self, base_url: str, secret: bytes, ttl: int = DEFAULT_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.ttl = ttl
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """Whether links can be made (RMBOT_PUBLIC_URL is set)."""
        return bool(self.base_url)

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self.secret, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def token(self, outbox_id: int, index: int, ttl: int | None = None) -> str:
        """``outbox.index.expiry.signature`` for attachment ``index`` of an outbox message."""
        expires = int(self.clock()) + (ttl if ttl is not None else self.ttl)
        payload = f"{outbox_id}.{index}.{expires}"
        return f"{payload}.{self._sign(payload)}"

    def url(self, outbox_id: int, index: int, ttl: int | None = None) -> str:
        """The link to attachment ``index`` of outbox message ``outbox_id`` ("" when links are off)."""
        if not self.enabled:
            return ""
        return f"{self.base_url}{PATH}/{self.token(outbox_id, index, ttl)}"

    def check(self, token: str) -> tuple[int, int]:
        """(outbox id, attachment index) of a valid, unexpired token; raises :class:`LinkError`."""
        parts = token.split(".")
        if len(parts) != 4 or not all(p.isdecimal() for p in parts[:3]):
            raise LinkError("invalid")
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(self._sign(payload), parts[3]):
            raise LinkError("invalid")
        if int(parts[2]) < self.clock():
            raise LinkError("expired")
        return int(parts[0]), int(parts[1])

"""The deliverer's Web API calls: paced by the workspace budget and each method's own limit, and their errors
sorted into what to do next (wait and retry, give up on this message, or hold it for a new token).

``call_paced`` is the only way the deliverer and its helpers (``reach.py``, ``pressed.py``, ``answers.py``) call
Slack: a wait under ``MAX_SLEEP`` is slept through, a longer one (or a ``Retry-After``) becomes :class:`Defer` and
the message goes back to the outbox with a retry time; a 429 pauses only the method it was about (posts: that
channel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.slack.pacing import Pacer

MAX_SLEEP = 2.0
"""Longest wait for a rate-limit slot that is slept through; a longer one hands the message back to the outbox."""
PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "users_not_found",
    "account_inactive",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "restricted_action",
    "messages_tab_disabled",
    "user_not_visible",
    "too_many_users",
    "not_enough_users",
    "invalid_arguments",
    "msg_blocks_too_long",
    "invalid_metadata_format",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
}
"""Errors after which sending the same call again cannot succeed."""
REVOKED = {"token_revoked", "invalid_auth", "token_expired", "not_authed"}
"""Slack refused the tenant's token: the app may have been removed (held, see ``adapters/slack/installs.py``), or
a rotated token not picked up yet (read again, retried soon)."""


class Defer(Exception):
    """Try again in ``seconds``: paced or rate limited (no ``error``), or a transient failure (``error`` set)."""

    def __init__(self, seconds: float, error: str = "") -> None:
        super().__init__(error)
        self.seconds, self.error = seconds, error


class Permanent(Exception):
    """Slack answered an error in ``PERMANENT`` (the code is the message): this call will never succeed."""


class Revoked(Exception):
    """Slack refused the tenant's token (``REVOKED``)."""


class Call(Protocol):
    """A paced, classified Web API call: ``call(team, methods, method, pace_channel=None, **arguments)``."""

    def __call__(
        self,
        team: str,
        methods: str | tuple[str, ...],
        call: Callable[..., Any],
        pace_channel: str | None = None,
        **kwargs: Any,
    ) -> Any: ...


def call_paced(
    pacer: Pacer,
    sleep: Callable[[float], None],
    team: str,
    methods: str | tuple[str, ...],
    call: Callable[..., Any],
    pace_channel: str | None = None,
    **kwargs: Any,
) -> Any:
    """Make one call of ``call`` (the Web API ``methods`` it makes), each method paced by its own limit; Slack's
    answer, or :class:`Defer`, :class:`Permanent` or :class:`Revoked`."""
    names = (methods,) if isinstance(methods, str) else methods
    for slot, name in enumerate(names):
        channel = pace_channel if slot == 0 else None
        wait = pacer.acquire(team, channel, max_wait=MAX_SLEEP, sleep=sleep, method=name)
        if wait:
            raise Defer(wait)
    try:
        return call(**kwargs)
    except SlackApiError as exc:
        response = exc.response
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After") or response.headers.get("retry-after") or 1)
            answered = str(getattr(response, "api_url", "")).rstrip("/").rsplit("/", 1)[-1]
            pacer.pause(team, retry_after, answered if answered in names else names[0], pace_channel)
            raise Defer(retry_after) from None
        code = str(response.get("error", "")) if response is not None else ""
        if code in REVOKED:
            raise Revoked(code) from None
        if code in PERMANENT:
            raise Permanent(code) from None
        raise Defer(30.0, code or f"HTTP {response.status_code}") from None
    except (SlackClientError, OSError) as exc:
        raise Defer(30.0, type(exc).__name__) from None

"""Secrets never reach a log: every log record is redacted as it is made, whichever library logs it.

At DEBUG, slack_sdk logs whole API responses (the bot token an OAuth install returns among them), and
any library may put a header or a URL into a message. So the process's log record factory is wrapped
once: a record's message (with its arguments) and its exception text are searched for the configured
secrets and for anything shaped like a credential (Slack tokens, bearer tokens, JWTs, Slack request
signatures), each replaced by ``[redacted]`` before any handler, formatter or test sees the record.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any

from adapters.settings import Settings

REDACTED = "[redacted]"
SHAPES = re.compile(
    r"xox[a-z]-[0-9A-Za-z-]+"  # Slack bot, user and refresh tokens
    r"|xapp-[0-9A-Za-z-]+"  # Slack app-level tokens (Socket Mode)
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"  # any bearer token
    r"|(?<=Basic )[A-Za-z0-9+/=]{8,}"  # basic credentials (OAuth client id and secret)
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # a JWT anywhere (Bot Framework, Azure AD)
    r"|v0=[0-9a-fA-F]{64}"  # a Slack request signature
    r"|(?<=/teams/files/)[^\s\"?]+"  # a signed download link (a capability)
    r"|(?<=[?&]code=)[^&\s\"]+"  # an OAuth code in a redirect URL
    r"|(?<=[?&]state=)[^&\s\"]+"
)  # an OAuth state
MIN_SECRET = 6
"""Configured values shorter than this are not searched for (they would match ordinary words)."""

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` with every known secret and every credential-shaped string replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return SHAPES.sub(REDACTED, text)


def protect(*secrets: str | None) -> None:
    """Keep ``secrets`` out of every log record from now on (and start redacting, once per process)."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET)
        if _installed:
            return
        _installed = True
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(redacting_record)


def protect_settings(settings: Settings) -> None:
    """Protect every credential the settings hold."""
    protect(
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.slack_state_secret,
        settings.slack_scim_token,
        settings.microsoft_app_password,
        settings.rmbot_graph_client_secret,
        settings.rmbot_link_secret,
        settings.rmbot_calendar_microsoft_client_secret,
    )


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string is the handler's to report, as before
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        cleaned = redact(text)
        if cleaned != text:
            record.exc_text = cleaned  # formatters use the text they find instead of formatting exc_info

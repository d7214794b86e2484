"""Requests from "Slack" to the bot: signed headers, bodies as Slack encodes them, and payloads from the
conformance kit (``tests/specs/slack/payloads``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

from fake_slack_models import SPECS


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature: ``v0=`` + HMAC-SHA256 over ``v0:timestamp:body``."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str, body: str, content_type: str, timestamp: int | None = None, retry: int | None = None
) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, signature, and a retry number when it is a retry."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return headers


def payload(name: str) -> Any:
    """A request body from the conformance kit: JSON files parsed, form files as their raw text."""
    text = (SPECS / "payloads" / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text.strip()


def form_body(fields: dict[str, Any]) -> str:
    """A form-encoded body (slash commands)."""
    return urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None})


def interactive_body(data: dict[str, Any]) -> str:
    """An interactivity body: the JSON payload as Slack sends it, ``payload=`` form-encoded."""
    return urllib.parse.urlencode({"payload": json.dumps(data)})

"""A local fake of Slack: the Web API (recording every call), Socket Mode, and signed requests to the bot.

``FakeSlack`` runs an aiohttp server on a free port in its own thread, so synchronous clients (the
outbox deliverer) and asynchronous ones (the bolt app) can both call it. It answers like Slack (``ok``,
channel ids, ``ts``), can be told to answer an error or a 429 with ``Retry-After``, and can enforce
Slack-like limits (a request budget per workspace, about one message a second per channel, and each
method's own rate tier), counting any request made while a ``Retry-After`` is still running as a
violation. As on Slack, a ``Retry-After`` holds for the method it answered in that workspace (for
``chat.postMessage``, in that channel); other methods may still be called.

The parts: the server (``fake_slack_server``), the Web API methods it answers (``fake_slack_methods``),
what it records and its limits (``fake_slack_models``), and requests from Slack to the bot
(``fake_slack_requests``). Run on its own for the benchmarks: ``python tests/fake_slack.py PORT [WORKSPACE_RPS]``.
"""

from __future__ import annotations

import threading

from fake_slack_models import SPECS, TIERS, Call, Limits, slack_user, tier_limits
from fake_slack_requests import form_body, interactive_body, payload, signature, signed_headers
from fake_slack_server import FakeSlack

__all__ = [
    "SPECS",
    "TIERS",
    "Call",
    "FakeSlack",
    "Limits",
    "form_body",
    "interactive_body",
    "payload",
    "signature",
    "signed_headers",
    "slack_user",
    "tier_limits",
]


def main() -> None:
    """Run the fake on its own (benchmarks): ``python tests/fake_slack.py PORT [WORKSPACE_RPS]``."""
    import sys

    limits = Limits(workspace=float(sys.argv[2])) if len(sys.argv) > 2 else None
    users = {f"U{n:05d}": slack_user(f"U{n:05d}", f"Person {n}", f"person{n}@example.com") for n in range(1, 1001)}
    fake = FakeSlack(users=users, limits=limits, record_bodies=False)
    fake.port_wanted = int(sys.argv[1])  # type: ignore[attr-defined]
    with fake:
        print(fake.api_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

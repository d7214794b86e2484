"""The fault harness's moving parts, shared by tests/test_faults.py and benchmarks/fault_harness.py.

* ``CountingSlack``: the fake Slack Web API of ``fake_slack.py`` that also reports, per conversation,
  who is in it and the idempotency keys and the start of everything posted there.
* ``Server``: the real ``rmbot serve`` in its own process on a fixed port: start, SIGKILL, restart.
* ``RetryingSlack``: posts signed Events API deliveries and retries each one that was not acknowledged
  with a 2xx (connection refused or reset, timeout after Slack's 3 seconds, an error status) with
  ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``, until it is acknowledged.
* ``Probe``: read-only looks into the server's database; ``private_database``: a fresh one.

Run as a script, it is one of the processes of the harness::

    python tests/fault_support.py fake-slack PORT USERS
    python tests/fault_support.py serve --clock-shift SECONDS -- serve --port PORT

The server is ``python -m adapters.cli serve``, the ``rmbot`` command line as it ships. Only when the
harness runs at a weekend, when no time zone anywhere is on a working day and every nudge would be
held until Monday, is it started through ``serve`` above: the same command line with the wall clock
shifted forward by whole days.

The parts: the fake Slack and its process (``fault_fake_slack``), the server (``fault_server``), Slack's
deliveries and retries (``fault_deliveries``) and the databases (``fault_database``).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fault_database import Probe, private_database, with_schema  # noqa: E402
from fault_deliveries import TEAM, Delivery, RetryingSlack, dm_delivery, kill_at, wait_until  # noqa: E402
from fault_fake_slack import CountingSlack, FakeSlackProcess, run_fake_slack, user_id  # noqa: E402
from fault_server import SECRET, Server, free_port, serve_shifted  # noqa: E402

HOURS = "00:00-23:59"
"""Working hours of everyone in the process scenarios: nudges are held only on weekends."""

__all__ = [
    "HOURS",
    "ROOT",
    "SECRET",
    "TEAM",
    "TESTS",
    "CountingSlack",
    "Delivery",
    "FakeSlackProcess",
    "Probe",
    "RetryingSlack",
    "Server",
    "dm_delivery",
    "free_port",
    "kill_at",
    "private_database",
    "user_id",
    "wait_until",
    "with_schema",
]


if __name__ == "__main__":
    if sys.argv[1] == "fake-slack":
        run_fake_slack(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "serve":
        serve_shifted(sys.argv[2:])
    else:
        raise SystemExit(f"unknown role {sys.argv[1]!r}: fake-slack or serve")

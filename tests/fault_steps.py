"""What a step of the four-deliveries scenario (tests/fault_scenarios.py) hands back: how to deliver its event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[int | None], Awaitable[tuple[int, Any]]]
"""Deliver a step's event: ``None`` the original, 1 to 3 a retry; returns (status, answer)."""

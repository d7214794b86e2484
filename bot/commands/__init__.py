"""Command handlers, one module per group of verbs. ``install`` wires them into an engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine import Engine


def install(engine: Engine) -> None:
    """Register every handler module with ``engine``."""
    from bot import commitment, feedback, grants
    from bot.commands import general, intake, invitations, matching, programmes, rematch, reports, sessions, support

    for module in (
        general,
        programmes,
        intake,
        invitations,
        matching,
        rematch,
        sessions,
        support,
        feedback,
        reports,
        grants,
    ):
        module.install(engine)
    engine.on_due(commitment.GAP_CHECK)(commitment.on_gap_check)

"""Command handlers, one module per group of verbs. ``install`` wires them into an engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine import Engine


def install(engine: Engine) -> None:
    """Register every handler module with ``engine``."""
    from bot import commitment, feedback, grants
    from bot.commands import (
        clone,
        general,
        intake,
        invitations,
        matching,
        programmes,
        rematch,
        reports,
        sessions,
        support,
    )
    from bot.reports import releases
    from bot.sessions import offers, scheduling

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
        clone,
        grants,
    ):
        if hasattr(module, "install"):  # TRANSITION: until every module declares HANDLERS
            module.install(engine)
    if not hasattr(commitment, "HANDLERS"):
        engine.on_due(commitment.GAP_CHECK)(commitment.on_gap_check)
    if not hasattr(offers, "HANDLERS"):
        engine.on_due(scheduling.OFFER_REMINDER)(offers.on_offer_reminder)
    if not hasattr(releases, "HANDLERS"):
        engine.on_due(releases.RELEASE_JOB)(releases.on_release_due)

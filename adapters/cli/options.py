"""Values the commands' signatures share, kept free of heavy imports so that ``rmbot --help`` stays quick."""

from __future__ import annotations

CONSOLE_TENANT = "console"
"""The console's tenant key: :data:`bot.tenancy.CONSOLE_TENANT`, which imports the bot's model (the value is
checked equal by tests/test_start_up.py)."""

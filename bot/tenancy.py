"""Tenant keys as operators type them: ``console``, ``slack:T0123``, ``teams:<tenant id>``."""

from __future__ import annotations

from bot.model import Platform

CONSOLE_TENANT = "console"


class TenantKeyError(ValueError):
    """A tenant key that names no platform we serve."""


def parse_tenant_key(key: str) -> tuple[str, str]:
    """Split a tenant key into (platform, external id)."""
    key = key.strip()
    if key == CONSOLE_TENANT:
        return Platform.CONSOLE.value, CONSOLE_TENANT
    platform, _, external = key.partition(":")
    if platform not in {p.value for p in Platform} or not external:
        raise TenantKeyError(
            f"{key!r} is not a tenant: use 'console', 'slack:TEAM_ID' or 'teams:TENANT_ID'")
    return platform, external

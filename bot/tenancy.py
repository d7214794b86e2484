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
        raise TenantKeyError(f"{key!r} is not a tenant: use 'console', 'slack:TEAM_ID' or 'teams:TENANT_ID'")
    return platform, external


def tenant_key(platform: str, external_id: str) -> str:
    """The key an operator types for a tenant (``console``, ``slack:T…``, ``teams:<tenant id>``); a Teams
    tenant id (a GUID) in lower case, as Teams sends it, so that either spelling names the same tenant."""
    if platform == Platform.CONSOLE.value:
        return CONSOLE_TENANT
    return f"{platform}:{external_id.lower() if platform == Platform.TEAMS.value else external_id}"


def normalise_tenant_key(key: str) -> str:
    """A typed tenant key checked (:class:`TenantKeyError` otherwise) and spelt as :func:`tenant_key` spells it."""
    return tenant_key(*parse_tenant_key(key))

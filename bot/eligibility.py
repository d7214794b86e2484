"""Who may take which role: reverse mentoring means the mentor is the more junior one."""

from __future__ import annotations

from typing import Any

from bot.domain import Person, Programme, Role
from bot.ports import UnitOfWork


def role_problem(
    uow: UnitOfWork, programme: Programme, person: Person, role: Role
) -> tuple[str, dict[str, Any]] | None:
    """Why ``person`` cannot take ``role`` in ``programme`` (a wording key and its values), or None.

    With no explicit limits in the programme's settings, a mentor needs someone at least the seniority
    gap above them in the organisation to mentor, and a mentee someone at least the gap below them."""
    if person.seniority is None:
        return None
    settings = programme.settings
    gap = 0 if settings.allow_peer else settings.seniority_gap
    lowest, highest = uow.people.seniority_range(person.tenant_id)
    if role == Role.MENTOR:
        if settings.mentor_max_seniority is not None and person.seniority > settings.mentor_max_seniority:
            return "eligibility.mentor_too_senior", {"limit": settings.mentor_max_seniority, "programme": programme}
        if settings.mentor_max_seniority is None and highest is not None and highest < person.seniority + gap:
            return "eligibility.mentor_at_top", {"programme": programme}
    else:
        if settings.mentee_min_seniority is not None and person.seniority < settings.mentee_min_seniority:
            return "eligibility.mentee_too_junior", {"limit": settings.mentee_min_seniority, "programme": programme}
        if settings.mentee_min_seniority is None and lowest is not None and lowest > person.seniority - gap:
            return "eligibility.mentee_at_bottom", {"programme": programme}
    return None

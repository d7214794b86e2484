"""Who may take which role: reverse mentoring means the mentor is the more junior one."""

from __future__ import annotations

from typing import Any

from bot.domain import Person, Programme, Role
from bot.matching.load import offline_depth
from bot.matching.reporting_lines import levels_below, within_reach
from bot.ports import PeopleRepository


def role_problem(
    people: PeopleRepository, programme: Programme, person: Person, role: Role
) -> tuple[str, dict[str, Any]] | None:
    """Why ``person`` cannot take ``role`` in ``programme`` (a wording key and its values), or None.

    With no explicit limits in the programme's settings, a mentor needs someone at least the seniority
    gap above them in the organisation to mentor, and a mentee someone at least the gap below them."""
    if person.seniority is None:
        return None
    settings = programme.settings
    gap = 0 if settings.allow_peer else settings.seniority_gap
    lowest, highest = people.seniority_range(person.tenant_id)
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


def nobody_outside_line(people: PeopleRepository, programme: Programme, person: Person, role: Role) -> bool:
    """True when everyone who is junior (for a mentee) or senior (for a mentor) enough to be ``person``'s
    partner sits in their reporting line, as far as the programme's reach rule goes: nobody can be matched.

    Seen from the directory, not from who takes part yet: a CEO whose whole organisation is below her."""

    if person.seniority is None:
        return False
    gap = 0 if programme.settings.allow_peer else programme.settings.seniority_gap
    senior_enough = [
        other
        for other in people.in_tenant(person.tenant_id)
        if other.id != person.id
        and other.email
        and other.left_at is None
        and other.seniority is not None
        and (
            other.seniority <= person.seniority - gap
            if role == Role.MENTEE
            else other.seniority >= person.seniority + gap
        )
    ]
    if not senior_enough:
        return False  # the seniority rule already says so (role_problem)
    managers = people.managers(person.tenant_id)
    mine = offline_depth(programme, person.id)
    for other in senior_enough:
        below = levels_below(managers, person.id, other.id)
        above = levels_below(managers, other.id, person.id)
        if below is not None and within_reach(below, mine):
            continue
        if above is not None and within_reach(above, offline_depth(programme, other.id)):
            continue
        return False
    return True

"""A generated organisation for benchmarks/matching.py: a deep management tree of people with departments,
divisions, locations, time zones, working hours and seniority, drawn from one seeded ``random.Random``."""

from __future__ import annotations

import random
from dataclasses import dataclass

LOCATIONS = {
    "London": "Europe/London",
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "San Francisco": "America/Los_Angeles",
    "Pune": "Asia/Kolkata",
    "Bengaluru": "Asia/Kolkata",
    "Singapore": "Asia/Singapore",
    "Sydney": "Australia/Sydney",
}
HOURS = ["09:00-17:30", "09:00-17:30", "08:00-16:30", "10:00-18:30", "07:00-15:00", "12:00-20:00", "09:00-13:00"]
DIVISIONS = {
    "Technology": ["Engineering", "Data", "IT", "Security"],
    "Commercial": ["Sales", "Marketing", "Customer Success"],
    "Operations": ["Operations", "Supply Chain", "Facilities"],
    "Corporate": ["Finance", "People", "Legal"],
}
DEPARTMENTS = [(division, department) for division, names in DIVISIONS.items() for department in names]
GENDERS = ["woman", "man", "non_binary", None]
CHAIN = 12
"""The top of the organisation is one reporting chain this long, so the tree is deep as well as wide."""


@dataclass
class Person:
    """One person of the organisation (``index`` is their place in it; the top has manager None)."""

    index: int
    manager: int | None
    depth: int
    seniority: int
    division: str
    department: str
    location: str
    time_zone: str
    working_hours: str
    gender: str | None


def organisation(size: int, rng: random.Random) -> list[Person]:
    """A chain of CHAIN managers at the top, then a random tree of fan-out about 4 below it.

    People mostly stay in their manager's department and location; seniority falls with depth."""
    people: list[Person] = []
    for index in range(size):
        if index == 0:
            manager = None
        elif index < CHAIN:
            manager = index - 1
        else:
            manager = rng.randrange(max(CHAIN - 1, (index - CHAIN) // 4), index)
        boss = people[manager] if manager is not None else None
        if boss is None or rng.random() < 0.1:
            division, department = rng.choice(DEPARTMENTS)
        else:
            division, department = boss.division, boss.department
        location = boss.location if boss is not None and rng.random() < 0.7 else rng.choice(list(LOCATIONS))
        people.append(
            Person(
                index=index,
                manager=manager,
                depth=0 if boss is None else boss.depth + 1,
                seniority=0,
                division=division,
                department=department,
                location=location,
                time_zone=LOCATIONS[location],
                working_hours=rng.choice(HOURS),
                gender=rng.choice(GENDERS),
            )
        )
    # Seniority 9 (the shallowest) down to 1 (the deepest), by rank of depth with a little noise.
    order = sorted(people, key=lambda p: (p.depth, rng.random()))
    for rank, person in enumerate(order):
        person.seniority = max(1, min(9, 9 - (8 * rank) // size + rng.choice([-1, 0, 0, 0, 1])))
    return people

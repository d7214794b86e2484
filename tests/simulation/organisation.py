"""A seeded organisation with traps, loaded through the real directory import (`rmbot directory import`)."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from bot.directory import parse_directory
from directory_support import existing_managers, import_directory
from storage.store import SqlStore

COLUMNS = ["email", "name", "title", "seniority", "department", "division", "location", "time_zone", "working_hours",
           "manager_email", "gender"]  # fmt: skip
OFFICES = [
    ("London", "Europe/London", ["09:00-17:30", "08:00-16:00"]),
    ("New York", "America/New_York", ["09:00-17:00", "07:00-15:00", "11:00-19:00"]),
    ("Kolkata", "Asia/Kolkata", ["10:00-18:30", "13:00-22:00", "09:00-17:00"]),
]
DEPARTMENTS = ["Engineering", "Marketing", "Sales", "Finance", "Operations", "People"]
LEVELS = {"executive": 8, "director": 6, "manager": 4, "junior": 2}
"""Four seniority levels: the CEO sits at the top level with the other executives."""


@dataclass
class Member:
    """One person of the simulated organisation, as the directory CSV has them."""

    email: str
    name: str
    title: str
    seniority: int
    department: str
    location: str
    time_zone: str
    working_hours: str
    manager: str
    gender: str

    def row(self) -> dict[str, str]:
        return {
            "email": self.email,
            "name": self.name,
            "title": self.title,
            "seniority": str(self.seniority),
            "department": self.department,
            "division": "Corporate" if self.department in ("Finance", "People") else "Business",
            "location": self.location,
            "time_zone": self.time_zone,
            "working_hours": self.working_hours,
            "manager_email": self.manager,
            "gender": self.gender,
        }


@dataclass
class Organisation:
    """Everyone, the CEO (whose whole organisation sits below her) and the coordinator (HR)."""

    members: list[Member]
    ceo: str
    coordinator: str

    def by_email(self) -> dict[str, Member]:
        return {m.email: m for m in self.members}

    def csv(self, without: set[str] = frozenset()) -> str:  # type: ignore[assignment]
        """The directory export as HR would hand it over, leaving out ``without`` (people who left)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        managers = {m.email: m.manager for m in self.members}
        for member in self.members:
            if member.email not in without:
                row = member.row()
                boss = member.manager
                while boss in without:  # HR moves a leaver's reports up to the leaver's own manager
                    boss = managers.get(boss, "")
                row["manager_email"] = boss
                writer.writerow(row)
        return out.getvalue()


def build(size: int, rng: random.Random) -> Organisation:
    """At least 60 people over 4 levels and 3 offices; managers shared, hours that barely overlap or don't."""
    size = max(size, 60)
    members: list[Member] = []
    counter = iter(range(1, 100_000))

    def add(level: str, office: tuple[str, str, list[str]], manager: str, hours: str | None = None) -> Member:
        number = next(counter)
        location, zone, shifts = office
        member = Member(
            email=f"p{number:04d}.{level}@example.com",
            name=f"{level.title()} {number:04d}",
            title={"executive": "Chief Officer", "director": "Director", "manager": "Manager", "junior": "Analyst"}[
                level
            ],
            seniority=LEVELS[level],
            department=rng.choice(DEPARTMENTS),
            location=location,
            time_zone=zone,
            working_hours=hours or rng.choice(shifts),
            manager=manager,
            gender=rng.choice(["woman", "man", "non_binary", ""]),
        )
        members.append(member)
        return member

    ceo = add("executive", OFFICES[0], "", "08:30-17:30")
    executives = [add("executive", OFFICES[i % 3], ceo.email) for i in range(3)]
    directors = [add("director", OFFICES[i % 3], executives[i % 3].email) for i in range(max(6, size // 10))]
    managers = [add("manager", OFFICES[i % 3], directors[i % len(directors)].email) for i in range(max(12, size // 5))]
    coordinator = add("manager", OFFICES[0], executives[0].email, "09:00-17:30")
    coordinator.department, coordinator.title = "People", "Head of Learning"
    while len(members) < size:
        boss = rng.choice(managers)
        office = next(o for o in OFFICES if o[1] == boss.time_zone) if rng.random() < 0.6 else rng.choice(OFFICES)
        add("junior", office, boss.email)
    return Organisation(members=members, ceo=ceo.email, coordinator=coordinator.email)


def load(store: SqlStore, tenant_id: int, organisation: Organisation, without: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Import (or re-import) the directory the way `rmbot directory import FILE` does."""
    parsed = parse_directory(organisation.csv(without), existing_managers(store, tenant_id))
    problems = getattr(parsed, "errors", None) or getattr(parsed, "problems", None)
    assert not problems, problems
    import_directory(store, tenant_id, parsed.rows)

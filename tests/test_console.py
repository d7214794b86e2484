"""The local console (`rmbot chat`): each person keeps their buttons across `/as`, and `/advance` survives a restart."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from cli_runner import Ran, run_cli

COORD = "amara.okafor@example.com"
MENTOR = "arjun.mehta@example.com"
OTHER = "kavya.reddy@example.com"


def chat(tmp_path: Path, script: list[str]) -> Ran:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(tmp_path / "files")}
    ran = run_cli("chat", "--as", COORD, stdin="\n".join([*script, ""]), env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    return ran


def clock_moved_to(out: str) -> list[datetime]:
    return [datetime.strptime(m, "%Y-%m-%d %H:%M") for m in re.findall(r"Clock moved to (\S+ \S+) UTC", out)]


def test_buttons_of_earlier_messages_still_work_after_switching_person_and_back(tmp_path: Path) -> None:
    created = chat(
        tmp_path,
        [
            "program new",
            "Digital 2030",
            "1",
            "team-rated digital confidence (1-10)",
            "5",
            "7",
            "2099-12-31",
            "2099-01-15",
            "2099-07-15",
            "2w",
            "45",
            "skip",
            "yes",
            f"invite @arjun.mehta {OTHER} as mentor",
            f"/as {MENTOR}",  # Arjun sees his invitation with its buttons...
            f"/as {OTHER}",  # ...someone else takes the console...
            f"/as {MENTOR}",  # ...and Arjun comes back: his buttons are still there
            "1",
        ],
    )
    assert "Created Digital 2030" in created.stdout
    assert created.stdout.count("you're in Digital 2030 as a mentor") == 1


def test_the_advanced_clock_survives_a_restart_of_the_console(tmp_path: Path) -> None:
    first = clock_moved_to(chat(tmp_path, ["/advance 30d"]).stdout)
    second = clock_moved_to(chat(tmp_path, ["/advance 1m"]).stdout)
    assert len(first) == len(second) == 1
    assert second[0] - first[0] >= timedelta(minutes=1)
    assert second[0] - first[0] < timedelta(days=1)  # not back at today's date

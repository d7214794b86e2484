"""The README's console walk-through, run exactly as written: every claim in its comments must hold.

The commands are read from README.md's code block, so the test fails as soon as the README drifts from
what the product does. The console runs on the real clock; the test starts it at a chosen hour (the
console keeps its clock offset in the database) so that the claims about working hours can be checked.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cli_runner import ROOT, Ran, run_cli
from storage.store import SqlStore

LINE = re.compile(r"^(?P<who>[A-Z][\w ]+?) ▸ (?P<command>.+?)(?:\s+# (?P<note>.*))?$")
ECHO = re.compile(r"^(?P<who>[A-Z][\w ]+?) ▸ (?P<command>.*)$", re.MULTILINE)


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Try it in the console")
    return text[start : text.index("\n## ", start + 1)]


def walkthrough() -> list[tuple[str, str, str]]:
    """(who types, what they type, the README's comment) for each line of the walk-through."""
    block = re.search(r"```text\n(.*?)```", readme_section(), re.DOTALL)
    assert block, "the README's console walk-through has no ```text block"
    lines = []
    for raw in block.group(1).splitlines():
        found = LINE.match(raw.strip())
        assert found, f"not a 'Name ▸ command  # comment' line: {raw!r}"
        lines.append((found["who"], found["command"].strip(), found["note"] or ""))
    return lines


def env(tmp_path: Path) -> dict[str, str | None]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(tmp_path / "files")}


def start_console_at(tmp_path: Path, weekday_hour_utc: int) -> None:
    """The console will start next Monday at this hour (UTC): its stored clock offset moves it there."""
    store = SqlStore.open(str(env(tmp_path)["DATABASE_URL"]), migrate=True)
    now = datetime.now(UTC)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=weekday_hour_utc, minute=0, second=0)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.ensure("console", "console")
        uow.tenants.save_clock_offset(tenant.id, monday - now)
    store.engine.dispose()


def run_walkthrough(tmp_path: Path, weekday_hour_utc: int) -> dict[str, str]:
    """Run the walk-through as one script; returns what the console printed after each command."""
    lines = walkthrough()
    start_console_at(tmp_path, weekday_hour_utc)
    script = "\n".join(command for _, command, _ in lines) + "\n"
    ran = run_cli("chat", "--as", "amara.okafor@example.com", stdin=script, env=env(tmp_path), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    echoes = list(ECHO.finditer(ran.stdout))
    typed = [(m["who"], m["command"].strip()) for m in echoes]
    assert typed == [(who, command) for who, command, _ in lines]  # each line typed by the person it names
    outputs: dict[str, str] = {}
    for number, (echo, (_, command, _)) in enumerate(zip(echoes, lines, strict=True)):
        end = echoes[number + 1].start() if number + 1 < len(echoes) else len(ran.stdout)
        outputs[f"{number}:{command}"] = ran.stdout[echo.end() : end]
    return outputs


def after(outputs: dict[str, str], command: str, occurrence: int = 0) -> str:
    return [text for key, text in outputs.items() if key.partition(":")[2] == command][occurrence]


def test_the_walkthrough_dates_are_still_ahead() -> None:
    dates = [date.fromisoformat(c) for _, c, _ in walkthrough() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", c)]
    assert dates and all(d > date.today() for d in dates), "the README's walk-through dates have passed"


def test_the_readme_walkthrough_does_what_its_comments_say(tmp_path: Path) -> None:
    # Monday 05:00 UTC is 10:30 in Kolkata, where Arjun and Kavya work 10:00-18:30.
    out = run_walkthrough(tmp_path, weekday_hour_utc=5)
    assert "12 short questions" in after(out, "program new")
    assert "Created Digital Confidence 2027" in after(out, "yes") and "You are its coordinator" in after(out, "yes")
    assert "from 5.0 to 7.0 by 2028-03-31" in after(out, "yes")
    assert "Term 2027-09-06 to 2028-03-31, every 2 weeks, 45-minute sessions" in after(out, "yes")
    invited = after(out, "invite @arjun.mehta @kavya.reddy as mentor")
    assert "Arjun Mehta, Kavya Reddy" in invited and "asking for their consent" in invited
    assert "Would you like to take part?" in after(out, "/as arjun.mehta@example.com")
    pressed = after(out, "1", 1)  # the first "1" chose the focus
    assert "you're in Digital Confidence 2027 as a mentor" in pressed and "Your intake" in pressed
    refused = after(out, "status")
    assert "you are not one. Nothing was changed." in refused
    assert "Are your time zone and working hours right?" in refused  # his question, asked again
    advanced = after(out, "/advance 3d")
    assert "2 scheduled item(s) fell due" in advanced and "your intake for Digital Confidence 2027" in advanced
    kavya = after(out, "/as kavya.reddy@example.com")
    assert kavya.index("Would you like to take part?") < kavya.index("A gentle reminder: you have not answered yet")
    status = after(out, "status", 1).splitlines()
    assert "Mentors: 1 in, 1 invited, 0 declined · intake done 0/1, onboarded 0/1" in status
    assert "Waiting for an answer: Kavya Reddy" in status
    assert any(line.startswith("Intake incomplete: Arjun Mehta") for line in status)
    for figure in ("Not in a pair:", "Matched:", "Sessions:", "Pulse:", "Coordinators:"):  # one line each
        assert sum(line.startswith(figure) for line in status) == 1, (figure, status)


def test_at_night_the_reminders_wait_for_working_hours(tmp_path: Path) -> None:
    # Monday 20:00 UTC is 01:30 in Kolkata: three days later the reminders fall due but wait for the morning.
    out = run_walkthrough(tmp_path, weekday_hour_utc=20)
    assert "2 scheduled item(s) fell due" in after(out, "/advance 3d")
    kavya = after(out, "/as kavya.reddy@example.com")
    assert "Would you like to take part?" in kavya and "A gentle reminder" not in kavya


def test_the_scripted_console_command_prints_a_transcript(tmp_path: Path) -> None:
    [command] = re.findall(r"```sh\n(printf .*?)\n```", readme_section())
    found = re.fullmatch(r"printf '(?P<script>[^']*)' \| \.venv/bin/rmbot (?P<args>.+)", command)
    assert found, command
    script = found["script"].replace("\\n", "\n")
    ran: Ran = run_cli(*found["args"].split(), stdin=script, env=env(tmp_path), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Amara Okafor ▸ help" in ran.stdout and "What you can ask me" in ran.stdout
    assert "Amara Okafor ▸ program list" in ran.stdout


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])

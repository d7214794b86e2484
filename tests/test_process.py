"""The ``rmbot`` command line: a scripted console session, SIGKILL recovery, configuration errors, serve.

Commands run in-process through the real entry point (``cli_runner.run_cli``); the tests that kill a
process or serve HTTP start a real one (``run_process``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli_runner import RMBOT, Ran, run_cli, run_process, serving
from conftest import ROOT
from storage.db import normalise_url

SAMPLE = ROOT / "prompts" / "sample" / "organisation.csv"
COORD = "amara.okafor@example.com"


def run(env: dict[str, str], *args: str, stdin: str = "", cwd: Path) -> Ran:
    """``rmbot ARGS`` in this process."""
    return run_cli(*args, env=env, stdin=stdin, cwd=cwd)


def run_killable(env: dict[str, str], *args: str, stdin: str = "", cwd: Path) -> Ran:
    """``rmbot ARGS`` as a process of its own: a failpoint may SIGKILL it."""
    return run_process(*args, env=env, stdin=stdin, cwd=cwd)


def scalar(url: str, sql: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_scripted_console_session(tmp_path: Path) -> None:
    """Create a programme, invite two people who accept, and see a non-coordinator refused."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(tmp_path / "files")}
    script = "\n".join(
        [
            "program new",
            "Digital Confidence 2030",
            "1",
            "team-rated digital confidence (1-10)",
            "5.2",
            "6.5",
            "2030-12-31",
            "2030-01-15",
            "2030-07-15",
            "2w",
            "45",
            "skip",
            "yes",
            "invite @arjun.mehta kavya.reddy@example.com as mentor",
            "/as arjun.mehta@example.com",
            "1",
            "/as kavya.reddy@example.com",
            "1",
            "mentoring invite @chloe.adeyemi as mentee",  # the intake is open: commands need their prefix
            "mentoring my-data",
            "/as amara.okafor@example.com",
            "status",
            "",
        ]
    )
    result = run(env, "chat", "--as", COORD, stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Loaded the sample organisation (64 people)" in out
    assert "Created Digital Confidence 2030" in out
    assert "Invited to Digital Confidence 2030 as mentor: Arjun Mehta, Kavya Reddy" in out
    assert out.count("you're in Digital Confidence 2030 as a mentor") == 2
    assert "invite is for programme coordinators, and you are not one. Nothing was changed." in out
    assert "Mentors: 2 in, 0 invited, 0 declined" in out
    assert (tmp_path / "files" / "kavya.reddy@example.com" / "my-data.json").exists()
    url = env["DATABASE_URL"]
    assert scalar(url, "SELECT count(*) FROM participant") == 2  # the refused invite added nobody


def _prepare(env: dict[str, str], cwd: Path) -> None:
    assert run(env, "directory", "import", str(SAMPLE), cwd=cwd).returncode == 0
    created = run(
        env,
        "program",
        "new",
        "Digital 2030",
        "--coordinator",
        COORD,
        "--starts",
        "2030-01-01",
        "--ends",
        "2030-06-30",
        cwd=cwd,
    )
    assert created.returncode == 0, created.stderr


@pytest.mark.parametrize("point", ["after_accept", "before_done"])
def test_sigkill_between_accepting_and_handling_loses_nothing_and_repeats_nothing(
    database_url: str, tmp_path: Path, point: str
) -> None:
    env = {"DATABASE_URL": database_url, "RMBOT_FILES_DIR": str(tmp_path / "files")}
    _prepare(env, tmp_path)
    killed = run_killable(
        {**env, "RMBOT_FAILPOINT": point},
        "chat",
        "--as",
        COORD,
        "--no-sample",
        stdin="invite @arjun.mehta as mentor\n",
        cwd=tmp_path,
    )
    assert killed.returncode == -signal.SIGKILL
    assert scalar(database_url, "SELECT count(*) FROM inbox_event WHERE status = 'pending'") == 1
    assert scalar(database_url, "SELECT count(*) FROM participant") == 0  # handling never committed

    restarted = run(env, "chat", "--as", COORD, "--no-sample", stdin="", cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stderr
    assert "Invited to Digital 2030 as mentor: Arjun Mehta" in restarted.stdout
    assert scalar(database_url, "SELECT count(*) FROM inbox_event WHERE status = 'done'") == 1
    assert scalar(database_url, "SELECT count(*) FROM participant") == 1
    consent = "SELECT count(*) FROM outbox_message WHERE idempotency_key LIKE 'console:console:console:%'"
    assert scalar(database_url, consent) == 2  # the reply to Amara and the consent DM to Arjun

    again = run(env, "chat", "--as", "arjun.mehta@example.com", "--no-sample", stdin="", cwd=tmp_path)
    assert again.stdout.count("invited you to Digital 2030") == 1
    assert scalar(database_url, "SELECT count(*) FROM participant") == 1
    assert scalar(database_url, consent) == 2


@pytest.mark.parametrize(
    "variable,value,expected",
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL 'not a url' is not a database URL"),
        ("DATABASE_URL", "mysql://root@localhost/x", "uses 'mysql'; supported are sqlite and postgresql"),
        ("RMBOT_TIME_ZONE", "Mars/Base", "'Mars/Base' is not a time zone"),
        ("RMBOT_PORT", "eighty", "RMBOT_PORT"),
    ],
)
def test_a_wrong_setting_stops_start_up_with_one_clear_line(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = run({variable: value}, "db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr


def test_serve_answers_the_health_check(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
    }
    with serving(env, tmp_path) as base, urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
        assert response.status == 200
        assert b'"ok"' in response.read()


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run({}, "--help", cwd=tmp_path)
    for command in ("serve", "chat", "db", "directory", "coordinators", "program", "scheduler"):
        assert command in result.stdout


def test_scheduled_work_runs_once_from_the_command_line(tmp_path: Path) -> None:
    """A reminder that fell due while nothing was running is run by `rmbot scheduler run-due`, once."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(tmp_path / "files")}
    _prepare(env, tmp_path)
    run(env, "chat", "--as", COORD, "--no-sample", stdin="invite @arjun.mehta as mentor\n", cwd=tmp_path)
    at = "2099-01-01T09:00Z"
    first = run(env, "scheduler", "run-due", "--at", at, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 scheduled item(s) were due" in first.stdout
    assert "0 scheduled item(s)" in run(env, "scheduler", "run-due", "--at", at, cwd=tmp_path).stdout
    reminders = "SELECT count(*) FROM outbox_message WHERE payload LIKE '%A gentle reminder%'"
    assert scalar(env["DATABASE_URL"], reminders) == 1  # queued once; it is delivered in Arjun's working hours
    assert "'tomorrow' is not an ISO time" in run(env, "scheduler", "run-due", "--at", "tomorrow", cwd=tmp_path).stderr


def test_a_new_process_resumes_an_intake_at_the_same_question_after_sigkill(database_url: str, tmp_path: Path) -> None:
    import queue
    import threading

    env = {"DATABASE_URL": database_url, "RMBOT_FILES_DIR": str(tmp_path / "files")}
    _prepare(env, tmp_path)
    run(env, "chat", "--as", COORD, "--no-sample", stdin="invite @arjun.mehta as mentor\n", cwd=tmp_path)
    process = subprocess.Popen(
        [*RMBOT, "chat", "--as", "arjun.mehta@example.com", "--no-sample"],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if text in lines.get(timeout=1):
                    return
            except queue.Empty:
                continue
        raise AssertionError(f"never saw {text!r}")

    process.stdin.write("1\nyes\n1, 3, 11\n")  # type: ignore[union-attr]
    process.stdin.flush()  # type: ignore[union-attr]
    wait_for("Anything specific you know well")
    process.kill()  # SIGKILL, mid-intake
    process.wait(timeout=10)

    resumed = run(env, "chat", "--as", "arjun.mehta@example.com", "--no-sample", stdin="review\n", cwd=tmp_path)
    assert "Can teach: AI tools at work, Collaboration tools (Slack, Teams, shared docs), Short video" in resumed.stdout
    said = [line for line in resumed.stdout.splitlines() if line.startswith("bot ▸")]
    assert said[-1].startswith("bot ▸ Anything specific you know well")  # the same question, asked again


def test_programme_questions_from_a_yaml_file(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}"}
    _prepare(env, tmp_path)
    example = ROOT / "docs" / "examples" / "intake_questions.yml"
    done = run(env, "program", "questions", "digital-2030", str(example), cwd=tmp_path)
    assert done.returncode == 0 and "now adds 3 question(s)" in done.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text("- prompt: Hi\n- prompt: Which one?\n  kind: choice\n  choices: [Only]\n", encoding="utf-8")
    refused = run(env, "program", "questions", "digital-2030", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert "question 1: A question needs 5 to 300 characters" in refused.stderr
    assert "question 2: A choice question needs 2 to 12 choices" in refused.stderr
    assert scalar(env["DATABASE_URL"], "SELECT intake_questions FROM programme").count("extra_") == 3  # unchanged
    missing = run(env, "program", "questions", "digital-2030", str(tmp_path / "nope.yml"), cwd=tmp_path)
    assert missing.returncode == 2 and "Cannot read" in missing.stderr


def test_participants_import_and_offline_match_with_json(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}"}
    _prepare(env, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,role,capacity,can_teach,want_to_learn,rankings\n"
        "arjun.mehta@example.com,mentor,two,ai_tools,,\n"
        "nobody@example.com,mentee,,,ai_tools,\n"
        "priya.nair@example.com,boss,,,,\n"
        "arjun.mehta@example.com,mentor,1,quantum,,\n"
        "daniel.okonkwo@example.com,mentee,,,ai_tools,zoe@example.com\n",
        encoding="utf-8",
    )
    refused = run(env, "participants", "import", "digital-2030", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    for expected in [
        "line 2: arjun.mehta@example.com: capacity 'two'",
        "line 3: nobody@example.com: nobody@example.com is not in the directory",
        "line 4: priya.nair@example.com: role 'boss'",
        "line 5: arjun.mehta@example.com: arjun.mehta@example.com appears twice",
        "unknown topic tag(s) quantum",
        "line 6: daniel.okonkwo@example.com: rankings name zoe@example.com",
    ]:
        assert expected in refused.stderr, expected
    assert scalar(env["DATABASE_URL"], "SELECT count(*) FROM participant") == 0
    sample = ROOT / "prompts" / "sample" / "participants.csv"
    assert run(env, "participants", "import", "digital-2030", str(sample), cwd=tmp_path).returncode == 0
    matched = run(env, "match", "digital-2030", "--json", str(tmp_path / "m.json"), "--publish", cwd=tmp_path)
    assert matched.returncode == 0, matched.stderr
    assert "Digital 2030 (optimal): 14 pairs" in matched.stdout
    import json

    result = json.loads((tmp_path / "m.json").read_text())
    assert len(result["pairs"]) == 14 and all(p["reason"] for p in result["pairs"])
    assert all(u["reason"] for u in result["unmatched"])
    assert scalar(env["DATABASE_URL"], "SELECT count(*) FROM match_pair") == 14
    audited = "SELECT count(*) FROM audit_log WHERE person_id IS NULL AND verb = '{}'"
    assert [
        scalar(env["DATABASE_URL"], audited.format(v)) for v in ("participants import", "match", "match publish")
    ] == [
        1,  # the refused file left nothing
        1,
        1,
    ]
    intros = "SELECT count(*) FROM outbox_message WHERE payload LIKE '%Meet your reverse-mentoring partner%'"
    assert scalar(env["DATABASE_URL"], intros) == 14
    again = run(env, "match", "digital-2030", "--publish", cwd=tmp_path)
    assert "0 pairs" in again.stdout
    assert scalar(env["DATABASE_URL"], intros) == 14  # nobody introduced twice
    stable = run(env, "match", "digital-2030", "--mode", "stable", cwd=tmp_path)
    assert stable.returncode == 0 and "(stable)" in stable.stdout
    assert "not a matching mode" in run(env, "match", "digital-2030", "--mode", "best", cwd=tmp_path).stderr


def test_a_programme_gets_its_own_topics_and_frameworks_from_yaml(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}"}
    _prepare(env, tmp_path)
    example = ROOT / "docs" / "examples" / "library_extra.yml"
    done = run(env, "program", "library", "digital-2030", str(example), cwd=tmp_path)
    assert done.returncode == 0 and "now draws on" in done.stdout, done.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("topics:\n  - id: x\n    title: Only a title\n", encoding="utf-8")
    refused = run(env, "program", "library", "digital-2030", str(bad), cwd=tmp_path)
    assert refused.returncode == 1 and "topic 'x'" in refused.stderr
    assert scalar(env["DATABASE_URL"], "SELECT settings FROM programme").count('"library"') == 1


def test_report_to_files(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}"}
    _prepare(env, tmp_path)
    sample = ROOT / "prompts" / "sample" / "participants.csv"
    assert run(env, "participants", "import", "digital-2030", str(sample), cwd=tmp_path).returncode == 0
    assert run(env, "match", "digital-2030", "--publish", cwd=tmp_path).returncode == 0
    done = run(env, "report", "digital-2030", "--out", str(tmp_path / "report"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "report"
    assert "Matched: 14 of 14 mentees" in (folder / "report.md").read_text()
    for chart in ("sessions-per-week.png", "pulse-trend.png", "goal-progress.png"):
        assert (folder / chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    import csv

    rows = list(csv.DictReader((folder / "pairs.csv").open()))
    assert len(rows) == 14 and rows[0]["status"] == "active"


def test_coordinators_add_on_a_fresh_database_then_first_contact_in_the_console(tmp_path: Path) -> None:
    """Named before anyone is imported; recognised when the sample organisation arrives and she writes."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "RMBOT_FILES_DIR": str(tmp_path / "files")}
    added = run(env, "coordinators", "add", "grace.mensah@example.com", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "import them first" not in added.stdout + added.stderr and "first appear" in added.stdout
    chat = run(env, "chat", "--as", "grace.mensah@example.com", stdin="help\n", cwd=tmp_path)
    assert chat.returncode == 0, chat.stderr
    assert "For coordinators" in chat.stdout
    assert scalar(env["DATABASE_URL"], "SELECT count(*) FROM tenant_coordinator") == 2  # Grace, and the sample's Amara
    refused = run(env, "slack", "manifest", "--url", "http://mentoring.example.com", cwd=tmp_path)
    assert refused.returncode != 0 and "https://" in refused.stderr and not refused.stdout

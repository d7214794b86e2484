"""A Slack configuration that cannot work stops start-up with one line naming what is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.settings import ConfigurationError, Settings
from adapters.slack.app import check_settings
from cli_runner import run_cli


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"slack_bot_token": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"slack_signing_secret": "s"}, "SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xoxb-wrong", "slack_bot_token": "xoxb-1"}, "xapp-"),
        ({"slack_client_id": "1.2", "slack_signing_secret": "s"}, "SLACK_CLIENT_SECRET, SLACK_STATE_SECRET"),
    ],
)
def test_incomplete_slack_settings_are_refused(values: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_settings(Settings(**values))
    assert expected in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "values",
    [
        {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"},
        {"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"},
        {"slack_client_id": "1.2", "slack_client_secret": "c", "slack_state_secret": "x", "slack_signing_secret": "s"},
    ],
)
def test_complete_slack_settings_are_accepted(values: dict[str, str]) -> None:
    check_settings(Settings(**values))


def test_rmbot_serve_says_what_is_missing(tmp_path: Path) -> None:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SLACK_")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}", "SLACK_BOT_TOKEN": "xoxb-test"})
    result = run_cli("serve", "--port", "1", env=env, cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0], result.stderr

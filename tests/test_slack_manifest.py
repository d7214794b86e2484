"""``manifest.yml`` against Slack's manifest schema, and ``rmbot slack manifest``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from typer.testing import CliRunner

from adapters.cli import app
from adapters.slack.manifest import MANIFEST, bot_scopes, filled
from fake_slack import SPECS

SCHEMAS = SPECS / "manifest-schema"
REMOTE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{}.json"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    """The top-level schema, dispatching on ``_metadata.major_version`` to the versioned schemas (read locally)."""
    registry: Registry = Registry()
    for version in ("1.0.0", "2.0.0"):
        schema = json.loads((SCHEMAS / f"manifest.schema.{version}.json").read_text())
        registry = registry.with_resource(
            REMOTE.format(version), Resource.from_contents(schema, default_specification=DRAFT7)
        )
    return Draft7Validator(json.loads((SCHEMAS / "manifest.schema.json").read_text()), registry=registry)


def errors(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(manifest)]


def test_the_manifest_validates_against_slacks_schema(validator: Draft7Validator) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["_metadata"]["major_version"] == 1
    assert errors(validator, manifest) == []
    assert errors(validator, filled("https://mentoring.example.com")) == []
    assert errors(validator, filled(socket_mode=True)) == []


def test_the_validator_does_catch_a_broken_manifest(validator: Draft7Validator) -> None:
    broken = filled("https://mentoring.example.com")
    broken["features"]["slash_commands"][0]["command"] = "mentoring"  # must start with a slash
    del broken["display_information"]["name"]
    assert len(errors(validator, broken)) >= 1


def test_the_manifest_asks_for_what_the_features_use_and_no_more() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(bot_scopes()) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "mpim:write",
        "im:history",
        "mpim:history",
        "mpim:read",
        "app_mentions:read",
        "users:read",
        "users:read.email",
        "files:write",
    }
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_mention",
        "app_uninstalled",
        "message.im",
        "message.mpim",
        "tokens_revoked",
    ]
    assert manifest["settings"]["org_deploy_enabled"] is True  # Enterprise Grid: org-wide installs
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/mentoring"]
    assert (
        manifest["features"]["app_home"]["home_tab_enabled"]
        and manifest["features"]["app_home"]["messages_tab_enabled"]
    )
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["features"]["bot_user"]


def test_rmbot_slack_manifest_fills_in_the_request_urls(validator: Draft7Validator) -> None:
    result = CliRunner().invoke(app, ["slack", "manifest", "--url", "https://mentoring.example.com/"])
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert errors(validator, printed) == []
    events = "https://mentoring.example.com/slack/events"
    assert printed["features"]["slash_commands"][0]["url"] == events
    assert printed["settings"]["event_subscriptions"]["request_url"] == events
    assert printed["settings"]["interactivity"]["request_url"] == events
    assert printed["oauth_config"]["redirect_urls"] == ["https://mentoring.example.com/slack/oauth_redirect"]
    assert "example.invalid" not in result.output
    socket = yaml.safe_load(CliRunner().invoke(app, ["slack", "manifest", "--socket-mode"]).output)
    assert (
        socket["settings"]["socket_mode_enabled"] is True and "request_url" not in socket["settings"]["interactivity"]
    )
    assert errors(validator, socket) == []
    refused = CliRunner().invoke(app, ["slack", "manifest", "--url", "mentoring.example.com"])
    assert refused.exit_code == 2 and "--url https://" in refused.output


@pytest.mark.parametrize("url", ["http://mentoring.example.com", "HTTP://mentoring.example.com", "ftp://x.example"])
def test_rmbot_slack_manifest_refuses_a_url_slack_would_refuse(url: str) -> None:
    """Slack only sends requests to https:// addresses: say so in one line, and print no manifest."""
    result = CliRunner().invoke(app, ["slack", "manifest", "--url", url])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "https://" in lines[0] and url in lines[0], result.output
    assert "slash_commands" not in result.output

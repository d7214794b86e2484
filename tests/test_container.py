"""The container files agree with the code: Dockerfile, .dockerignore and compose.yaml.

No container engine runs here; ``.ci/container-check`` lints the Dockerfile, validates compose.yaml
with ``docker-compose config`` and repeats the image's build and run steps. These tests check what
those tools cannot know: the commands, roles, ports and variables are the ones rmbot really has.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from adapters.cli import app as cli
from adapters.settings import ROLES, Settings
from dockerfile import ROOT, environment, exec_form, health_command, last, run_command, stages

SETTINGS = {name.upper() for name in Settings.model_fields}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = [pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def environment_of(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in service(name).get("environment", {}).items()}


def published_container_ports(name: str) -> set[int]:
    """The container ports a service publishes to the host (short syntax ``[HOST:]CONTAINER``)."""
    return {int(str(entry).rsplit(":", 1)[-1].split("/")[0]) for entry in service(name).get("ports", [])}


# -- Dockerfile ----------------------------------------------------------------------------------------------


def test_the_image_is_built_in_two_stages_from_a_slim_python() -> None:
    built = stages()
    assert list(built) == ["build", "runtime"]
    base = (ROOT / "Dockerfile").read_text(encoding="utf-8").split("ARG PYTHON_IMAGE=", 1)[1].split()[0]
    assert base.startswith(("python:3.11-slim", "python:3.12-slim"))
    assert all(stage[0].arguments.startswith("${PYTHON_IMAGE} AS ") for stage in built.values())
    runs = " ".join(i.arguments for i in built["build"] if i.keyword == "RUN")
    assert "pip wheel" in runs and "--no-deps" in runs and "python -m venv /opt/rmbot" in runs
    assert "[dev]" not in (ROOT / "Dockerfile").read_text(encoding="utf-8")  # runtime dependencies only
    copied = {i.arguments for i in built["runtime"] if i.keyword == "COPY"}
    assert copied == {"--from=build /opt/rmbot /opt/rmbot"}  # no sources, no wheel, no build tools


def test_the_build_stage_copies_every_package_the_wheel_is_made_of() -> None:
    copied = " ".join(i.arguments for i in stages()["build"] if i.keyword == "COPY")
    for package in PACKAGES:
        assert f"{package}/ {package}/" in copied
    assert "pyproject.toml" in copied and PYPROJECT["project"]["readme"] in copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*") + 1 :][: len(PACKAGES) + 2] == [
        "!pyproject.toml",
        f"!{PYPROJECT['project']['readme']}",
        *sorted(f"!{p}/" for p in PACKAGES),
    ]


def test_the_image_runs_rmbot_serve_as_an_unprivileged_user() -> None:
    runtime = stages()["runtime"]
    assert run_command() == ["rmbot", "serve"]
    assert "rmbot" in PYPROJECT["project"]["scripts"]
    user = last(runtime, "USER").arguments
    assert user.split(":")[0] not in {"0", "root"}
    env = environment(runtime)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/rmbot/bin:")
    assert {key for key in env if key not in {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}} <= SETTINGS
    assert env["RMBOT_HOST"] == "0.0.0.0"  # reachable from outside the container
    assert last(runtime, "EXPOSE").arguments == env["RMBOT_PORT"]


def test_the_health_check_asks_healthz_on_the_configured_port() -> None:
    command = health_command()
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2] and "os.environ.get('RMBOT_PORT', '3000')" in command[2]
    assert "curl" not in command[2] and "wget" not in command[2]  # neither is in the slim image
    compile(command[2], "HEALTHCHECK", "exec")
    assert exec_form(last(stages()["runtime"], "ENTRYPOINT").arguments) == ["rmbot"]


# -- compose.yaml --------------------------------------------------------------------------------------------


def test_compose_has_postgresql_a_migration_and_the_two_roles() -> None:
    assert set(compose()["services"]) == {"postgres", "migrate", "web", "worker"}
    postgres = service("postgres")
    assert "pg_isready" in postgres["healthcheck"]["test"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]


def test_migrate_runs_the_real_upgrade_command_once_postgresql_is_healthy() -> None:
    migrate = service("migrate")
    assert migrate["command"] == ["db", "upgrade"]
    assert CliRunner().invoke(cli, [*migrate["command"], "--help"]).exit_code == 0
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no" and migrate["healthcheck"] == {"disable": True}
    assert not migrate.get("ports")


@pytest.mark.parametrize("role", ["web", "worker"])
def test_each_role_starts_after_the_migration_on_postgresql(role: str) -> None:
    assert role in ROLES
    started = service(role)
    assert started["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert started["depends_on"]["postgres"] == {"condition": "service_healthy"}
    env = environment_of(role)
    assert env["RMBOT_ROLE"] == role
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert set(env) <= SETTINGS  # a misspelt variable would be ignored silently
    assert started.get("command") is None  # the image's own `rmbot serve`


def test_metrics_are_on_their_own_port_and_not_published() -> None:
    for role in ("web", "worker"):
        env = environment_of(role)
        metrics, public = int(env["RMBOT_METRICS_PORT"]), int(env["RMBOT_PORT"])
        assert metrics != public
        assert metrics not in published_container_ports(role)
        assert str(metrics) in [str(port) for port in service(role)["expose"]]
    assert published_container_ports("web") == {int(environment_of("web")["RMBOT_PORT"])}
    assert published_container_ports("worker") == set()
    assert not service("postgres").get("ports")

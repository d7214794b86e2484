"""`rmbot teams package`: a zip Teams accepts (manifest valid against v1.22, icons of the right size and kind),
and the isolation rule: the Microsoft 365 Agents SDK is imported nowhere outside adapters/teams/."""

from __future__ import annotations

import ast
import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest
import yaml

from cli_runner import Ran, run_cli
from conftest import ROOT
from fake_teams import SPECS

BOT_ID = "5353a86e-52fb-4979-8a69-c7efcd1b0bd3"


def rmbot(tmp_path: Path, *args: str, **env: str) -> Ran:
    full = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rmbot.db'}",
        "MICROSOFT_APP_ID": BOT_ID,
        "MICROSOFT_APP_PASSWORD": "x",
        "RMBOT_PUBLIC_URL": "",
        **env,
    }
    return run_cli(*args, env=full, cwd=tmp_path)


def png_info(data: bytes) -> tuple[int, int, int, list[list[tuple[int, ...]]]]:
    """(width, height, colour type, pixels) of a PNG written with filter 0 on every row (as ours are)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = body
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and b"IEND" in chunks
    channels = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    rows = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0
        rows.append([tuple(line[1 + i * channels : 1 + (i + 1) * channels]) for i in range(width)])
    return width, height, colour, rows


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("package")
    result = rmbot(
        folder,
        "teams",
        "package",
        "--out",
        str(folder / "rmbot-teams.zip"),
        "--website-url",
        "https://mentoring.example.com",
        "--version",
        "1.2.3",
    )
    assert result.returncode == 0, result.stderr
    assert "rmbot-teams.zip" in result.stdout
    return zipfile.ZipFile(folder / "rmbot-teams.zip")


def test_the_zip_holds_the_manifest_and_two_icons_at_its_root(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_is_valid_against_the_v1_22_schema(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    schema = json.loads((SPECS / "schemas" / "MicrosoftTeams.v1.22.schema.json").read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft4Validator(schema).iter_errors(manifest)]
    assert not errors
    assert manifest["version"] == "1.2.3" and manifest["id"] == BOT_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == BOT_ID and set(bot["scopes"]) == {"personal", "team"}
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["developer"]["privacyUrl"] == "https://mentoring.example.com/privacy"


def test_command_lists_use_the_vocabulary_within_teams_limits(package: zipfile.ZipFile) -> None:
    vocabulary = yaml.safe_load((ROOT / "prompts" / "commands.yml").read_text(encoding="utf-8"))
    [bot] = json.loads(package.read("manifest.json"))["bots"]
    scopes = {tuple(lst["scopes"]): lst["commands"] for lst in bot["commandLists"]}
    assert set(scopes) == {("personal",), ("team",)}
    for commands in scopes.values():
        assert 1 <= len(commands) <= 10
        for command in commands:
            assert command["title"] in vocabulary and len(command["title"]) <= 32
            assert 0 < len(command["description"]) <= 128
            assert command["description"].rstrip("…") in vocabulary[command["title"]]["summary"]
    assert scopes[("personal",)][0]["title"] == "help" and scopes[("team",)][0]["title"] == "help"


def test_the_icons_have_the_sizes_and_colours_teams_asks_for(package: zipfile.ZipFile) -> None:
    width, height, colour_type, pixels = png_info(package.read("color.png"))
    assert (width, height, colour_type) == (192, 192, 2)  # full colour, no transparency
    assert len({pixel for row in pixels for pixel in row}) > 2
    width, height, colour_type, pixels = png_info(package.read("outline.png"))
    assert (width, height, colour_type) == (32, 32, 6)  # with an alpha channel
    seen = {pixel for row in pixels for pixel in row}
    assert all(pixel == (0, 0, 0, 0) or pixel[:3] == (255, 255, 255) for pixel in seen)  # white on transparent
    assert (0, 0, 0, 0) in seen and (255, 255, 255, 255) in seen


@pytest.mark.parametrize(
    "args, env, problem",
    [
        ([], {"MICROSOFT_APP_ID": ""}, "MICROSOFT_APP_ID"),
        ([], {}, "--website-url"),
        (["--website-url", "http://insecure.example.com"], {}, "--website-url"),
        (["--website-url", "https://m.example.com", "--version", "one"], {}, "--version"),
        (["--website-url", "https://m.example.com", "--accent-color", "green"], {}, "--accent-color"),
    ],
)
def test_what_cannot_be_packaged_is_said_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], problem: str
) -> None:
    result = rmbot(tmp_path, "teams", "package", "--out", str(tmp_path / "p.zip"), *args, **env)
    assert result.returncode == 2 and problem in result.stderr and not (tmp_path / "p.zip").exists()
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_public_url_setting_is_the_default_website(tmp_path: Path) -> None:
    result = rmbot(
        tmp_path, "teams", "package", "--out", str(tmp_path / "p.zip"), RMBOT_PUBLIC_URL="https://bot.example.org"
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads(zipfile.ZipFile(tmp_path / "p.zip").read("manifest.json"))
    assert manifest["developer"]["websiteUrl"] == "https://bot.example.org"
    assert manifest["validDomains"] == ["bot.example.org"]


SOURCE_FOLDERS = ("adapters", "benchmarks", "bot", "prompts", "storage", "tests")
"""Where the project's Python lives (not the virtual environment, nor the tools' caches)."""


def test_the_agents_sdk_is_imported_only_inside_adapters_teams() -> None:
    """Moving to another SDK changes one folder: no other module, and no test, imports the Microsoft 365
    Agents SDK."""
    offenders = []
    sources = [ROOT.glob("*.py"), *(folder.rglob("*.py") for folder in ROOT.iterdir() if folder.name in SOURCE_FOLDERS)]
    for path in (path for found in sources for path in found):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("adapters", "teams"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "microsoft_agents" for n in names):
                offenders.append(str(relative))
    assert offenders == []

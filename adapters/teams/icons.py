"""The app package's icons as PNG files, drawn from ``prompts/teams/icon.yml`` without an image library.

Shapes (circles, and "shoulders": the upper half of an ellipse), painted in order (``erase`` shapes
clear what lies under them), are rasterised with 4 x 4 supersampling
for smooth edges, then written as PNG (IHDR, one zlib-compressed IDAT, IEND) with ``zlib`` and ``struct``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.wording import PROMPTS

ICON_SOURCE = PROMPTS / "teams" / "icon.yml"
SAMPLES = 4
WHITE = (255, 255, 255)


def load(source: Path = ICON_SOURCE) -> dict[str, Any]:
    """The icon's accent colour and shapes."""
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def _inside(shape: dict[str, Any], x: float, y: float) -> bool:
    if shape["kind"] == "circle":
        return (x - shape["x"]) ** 2 + (y - shape["y"]) ** 2 <= shape["r"] ** 2
    if shape["kind"] == "shoulders":
        if y > shape["y"]:
            return False
        return ((x - shape["x"]) / shape["rx"]) ** 2 + ((y - shape["y"]) / shape["ry"]) ** 2 <= 1.0
    raise ValueError(f"unknown shape {shape['kind']!r}")


def _painted(shapes: list[dict[str, Any]], x: float, y: float) -> bool:
    """Whether a point ends up white: shapes paint in order, an ``erase`` shape clears what is under it."""
    white = False
    for shape in shapes:
        if _inside(shape, x, y):
            white = not shape.get("erase", False)
    return white


def coverage(shapes: list[dict[str, Any]], size: int) -> list[list[float]]:
    """How much of each pixel (0 to 1) the shapes cover, on a ``size`` x ``size`` grid."""
    scale = 100.0 / size
    step = 1.0 / SAMPLES
    grid = []

    def covered(x: float, y: float) -> bool:
        return _painted(shapes, x * scale, y * scale)

    for row in range(size):
        line = []
        for column in range(size):
            corners = {covered(column + dx, row + dy) for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5))}
            if len(corners) == 1:  # wholly inside or outside: no edge crosses this pixel
                line.append(1.0 if corners.pop() else 0.0)
                continue
            hits = 0
            for sy in range(SAMPLES):
                y = (row + (sy + 0.5) * step) * scale
                for sx in range(SAMPLES):
                    x = (column + (sx + 0.5) * step) * scale
                    if _painted(shapes, x, y):
                        hits += 1
            line.append(hits / (SAMPLES * SAMPLES))
        grid.append(line)
    return grid


def hex_colour(value: str) -> tuple[int, int, int]:
    """``#2F7D6D`` as (47, 125, 109)."""
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def png(pixels: Sequence[Sequence[tuple[int, ...]]], alpha: bool) -> bytes:
    """Encode rows of RGB (or RGBA) tuples as a PNG file."""
    height, width = len(pixels), len(pixels[0])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(value for pixel in row for value in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def colour_icon(icon: dict[str, Any], accent: str | None = None, size: int = 192) -> bytes:
    """The full-colour icon: white figures on the accent colour, edge to edge (Teams rounds the corners)."""
    background = hex_colour(accent or icon["accent"])
    rows = []
    for line in coverage(icon["shapes"], size):
        rows.append([tuple(round(b + (w - b) * c) for b, w in zip(background, WHITE, strict=True)) for c in line])
    return png(rows, alpha=False)


def outline_icon(icon: dict[str, Any], size: int = 32) -> bytes:
    """The outline icon: white figures on a transparent background."""
    rows = [
        [(255, 255, 255, round(255 * c)) if c else (0, 0, 0, 0) for c in line]
        for line in coverage(icon["shapes"], size)
    ]
    return png(rows, alpha=True)

"""File names made from what people typed or what a directory holds (an email, a programme's name).

An email such as ``../../x@example.com`` is valid enough for a directory import, and used as a folder name it
would climb out of the folder the console keeps files in. Every file or folder name derived from user data
goes through :func:`safe_file_name`: one plain name, never a path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_LENGTH = 120
_UNSAFE = re.compile(r"[^\w@.+=-]+|\.{2,}")
_DASHES = re.compile(r"-{2,}")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}


def safe_file_name(text: str, fallback: str) -> str:
    """``text`` as a single file name: no folder separators, no leading dots (so never ``.`` or ``..``), no
    control characters, not a Windows device name, at most :data:`MAX_LENGTH` characters; ``fallback`` (itself
    made safe) when nothing usable is left. Letters, digits, ``@ . + = - _`` are kept, anything else becomes
    ``-``, so the name stays readable (``amara.okafor@example.com`` is unchanged). A name that had to change
    gets a short digest of the original before its extension, so two different originals never share a name
    (``../../x@example.com`` is not ``x@example.com``'s folder)."""
    cleaned = _DASHES.sub("-", _UNSAFE.sub("-", unicodedata.normalize("NFC", text)))
    cleaned = cleaned.lstrip(".-")[:MAX_LENGTH].rstrip(".-")
    if not cleaned:
        return safe_file_name(fallback, "file") if fallback and fallback != text else "file"
    if cleaned.split(".")[0].lower() in _WINDOWS_DEVICES:
        cleaned = "_" + cleaned
    if cleaned == text:
        return cleaned
    extension = found.group(0) if (found := _EXTENSION.search(cleaned)) else ""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned[: len(cleaned) - len(extension)]}-{digest}{extension}"

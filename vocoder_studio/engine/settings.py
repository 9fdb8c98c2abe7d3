"""The app's settings as a typed schema: each key's type and default, the schema version and the migration of
older settings, and the check that finds a damaged settings file. No Qt: ``ui/settings.py`` reads and writes
the file with ``QSettings`` through this schema (friture's settings carry a version and a migration step; so
do ours).

Typed reads never fail: a missing key, or a value of the wrong type (edited by hand, written by another
version), reads as the key's default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The version :func:`migrate` brings settings to. 1: the recent files and the last folder only (no
#: ``schema`` key was written); 2: the vocoder, audio output, view and window settings added.
SCHEMA_VERSION = 2
SCHEMA_KEY = "schema"
MAX_RECENT = 10


@dataclass(frozen=True)
class Key:
    """One setting: its name in the file, type ("str", "int", "bool", "list", "json", "bytes") and default."""

    name: str
    type: str
    default: Any


KEYS: dict[str, Key] = {key.name: key for key in (
    Key("vocoder/name", "str", ""),  # "" = the panel's own default (HiFi-GAN where its weights are present)
    Key("vocoder/device", "str", "auto"),
    Key("vocoder/params", "json", {}),  # {vocoder name: {parameter: value}}
    Key("audio/output", "str", ""),  # the output device's name as the panel lists it; "" = system default
    Key("audio/blocksize", "int", 512),
    Key("view/colormap", "str", "inferno"),
    Key("view/follow", "str", "page"),
    Key("view/lane", "str", "both"),  # the waveform lane: "source", "take" or "both"
    Key("transport/solo", "bool", True),  # Space with a band selected plays only the band
    Key("window/geometry", "bytes", b""),
    Key("window/state", "bytes", b""),
    Key("recent_files", "list", []),
    Key("last_folder", "str", ""),
)}


def coerce(key: Key, raw: object) -> Any:
    """``raw`` (as the settings file gave it: a string, a list of strings, bytes, or None) as ``key``'s type;
    the default where it is missing or does not convert."""
    if raw is None:
        return key.default
    try:
        if key.type == "str":
            return raw if isinstance(raw, str) else key.default
        if key.type == "int":
            return int(str(raw)) if not isinstance(raw, bool) else key.default
        if key.type == "bool":
            text = str(raw).strip().lower()
            return {"true": True, "1": True, "false": False, "0": False}.get(text, key.default)
        if key.type == "list":
            items = [raw] if isinstance(raw, str) else raw
            return [str(v) for v in items] if isinstance(items, (list, tuple)) else key.default
        if key.type == "json":
            value = json.loads(raw) if isinstance(raw, str) else raw
            return value if isinstance(value, type(key.default)) else key.default
        if key.type == "bytes":
            return bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else key.default
    except (TypeError, ValueError):
        return key.default
    return key.default


def encode(key: Key, value: Any) -> object:
    """The form a value is written in (JSON text for "json" keys; the value itself otherwise)."""
    return json.dumps(value) if key.type == "json" else value


def _v1_to_v2(values: dict[str, object]) -> dict[str, object]:
    """Version 1 wrote ``recent_files`` as a bare string when it held one file, and never capped it: keep a
    list of at most :data:`MAX_RECENT`."""
    recent = values.get("recent_files")
    if recent is not None:
        values["recent_files"] = coerce(KEYS["recent_files"], recent)[:MAX_RECENT]
    return values


#: ``MIGRATIONS[v]`` turns the values of version ``v`` into those of version ``v + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, object]], dict[str, object]]] = {1: _v1_to_v2}


def migrate(values: dict[str, object], version: int) -> dict[str, object]:
    """Bring settings of schema ``version`` (1 when the file has no version) up to :data:`SCHEMA_VERSION`.

    A version newer than this app's is left as it is (its keys are read with the types this app knows).
    Returns the changed values (a new dict).
    """
    values = dict(values)
    for step in range(max(1, version), SCHEMA_VERSION):
        values = MIGRATIONS[step](values)
    return values


def damage(data: bytes) -> str | None:
    """Why the bytes of an INI settings file cannot be trusted, or None: not UTF-8 text, NUL or other control
    characters, or lines that are neither ``[section]``, ``key=value``, a comment nor blank."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return "it holds control characters"
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in ";#" or (line[0] == "[" and line[-1] == "]") or ("=" in line and line[0] != "="):
            continue
        return f"line {number} is not a setting"
    return None

"""Where the app finds its bundled example and keeps its settings and autosaves (platformdirs;
``VOCODER_STUDIO_HOME`` overrides the settings and state folders)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from vocoder_studio.errors import VocoderStudioError

APP_NAME = "vocoder-studio"


def _root_override() -> Path | None:
    value = os.environ.get("VOCODER_STUDIO_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    """Settings folder (created on demand): e.g. ``~/.config/vocoder-studio``."""
    root = _root_override()
    path = root / "config" if root else Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """Autosave and crash-recovery folder (created on demand): e.g. ``~/.local/state/vocoder-studio``."""
    root = _root_override()
    path = root / "state" if root else Path(platformdirs.user_state_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def example_path() -> Path:
    """The bundled example clip (English speech, CC-BY-SA 3.0; see resources/README.md).

    Raises:
        VocoderStudioError: the example is missing from this installation.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources" / "example.flac", here.parent / "resources" / "example.flac"):
        if candidate.is_file():
            return candidate
    raise VocoderStudioError("resources/example.flac: the bundled example is missing from this installation")

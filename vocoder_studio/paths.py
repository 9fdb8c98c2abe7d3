"""Where the app keeps its settings and autosaves (platformdirs; ``VOCODER_STUDIO_HOME`` overrides both)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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

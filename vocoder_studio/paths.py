"""The app's name, and where it finds its bundled example and keeps its settings, autosaves, caches and the
user's models: the platform's folders (platformdirs), or all under one folder when ``VOCODER_STUDIO_HOME`` is set
(tests and trying things: ``$VOCODER_STUDIO_HOME/config``, ``state``, ``cache``, ``models``)."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import platformdirs

from vocoder_studio.errors import VocoderStudioError

#: The command, the package on PyPI and the name of the app's folders.
APP_NAME = "vocoder-studio"
#: The name windows and dialogs show.
APP_TITLE = "Vocoder Studio"


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


def cache_dir() -> Path:
    """What can be made again (the mel filterbank tables, the fetched speech corpus): e.g.
    ``~/.cache/vocoder-studio``, or ``$VOCODER_STUDIO_HOME/cache``. Not created here: its users create what
    they write into it."""
    root = _root_override()
    return root / "cache" if root else Path(platformdirs.user_cache_dir(APP_NAME))


def user_models_dir() -> Path:
    """The user's own trained models (the last folder searched, see
    :func:`vocoder_studio.vocoders.checkpoints.model_dirs`): e.g. ``~/.local/share/vocoder-studio/models``, or
    ``$VOCODER_STUDIO_HOME/models``. Not created here."""
    root = _root_override()
    return root / "models" if root else Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def xdg_data_home() -> Path:
    """The user's data folder for desktop integration (``$XDG_DATA_HOME``, default ``~/.local/share`` on Linux, as
    ``platformdirs.user_data_path()`` gives it): where desktop entries and icons go, whatever
    ``VOCODER_STUDIO_HOME`` says (that folder is the studio's own, not the desktop's)."""
    return platformdirs.user_data_path()


def packaged_resource(name: str) -> Path | None:
    """``name`` from the data package ``vocoder_studio.resources``: the checkout's ``resources/`` folder, shipped
    inside the wheel (see pyproject.toml); None where that package is not installed (a plain checkout)."""
    try:
        folder = importlib.resources.files("vocoder_studio.resources")
    except ModuleNotFoundError:
        return None
    candidate = folder / name
    return Path(str(candidate)) if candidate.is_file() else None


def resource(name: str, what: str = "") -> Path:
    """The shipped file ``name``: package data in an installed wheel (:func:`packaged_resource`), else the source
    checkout's ``resources/`` folder.

    Raises:
        VocoderStudioError: ``resources/NAME: [WHAT ]is missing from this installation`` (one line).
    """
    path = packaged_resource(name) or Path(__file__).resolve().parent.parent / "resources" / name
    if not path.is_file():
        raise VocoderStudioError(f"resources/{name}: {what + ' is ' if what else ''}missing from this installation")
    return path


def example_path() -> Path:
    """The bundled example clip (English speech, CC-BY-SA 3.0; see resources/README.md).

    Found as package data in an installed wheel (``importlib.resources``), else in the source checkout's
    ``resources/`` folder.

    Raises:
        VocoderStudioError: the example is missing from this installation.
    """
    return resource("example.flac", "the bundled example")

"""Settings that persist: one ``QSettings`` INI file in :func:`vocoder_studio.paths.config_dir`, read and
written through the typed schema of :mod:`vocoder_studio.engine.settings` (its version, migration and the
check for damage), and :class:`WindowSettings`, which restores and saves what the window keeps between runs:
the vocoder and every vocoder's parameters, the device, the audio output and buffer, the colour map, the
follow mode, the dock layout and the window geometry (``ui/workstation.py`` adds the waveform lane's mode and
the solo toggle). Recent files and the last folder are kept by
``ui/files.py`` through the same schema.

A damaged file (see :func:`~vocoder_studio.engine.settings.damage`, or one ``QSettings`` cannot parse) is set
aside under a new name and the app starts with defaults; :func:`set_aside_damaged` says so once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from vocoder_studio.engine.settings import KEYS, SCHEMA_KEY, SCHEMA_VERSION, Key, coerce, damage, encode, migrate
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.paths import config_dir
from vocoder_studio.ui.follow import FollowPlayback
from vocoder_studio.ui.levels import ColormapChoice
from vocoder_studio.ui.panels import VocoderPanel

SETTINGS_NAME = "settings.ini"


def settings_path() -> Path:
    return config_dir() / SETTINGS_NAME


def qsettings() -> QSettings:
    """The settings file as ``QSettings`` (INI), brought up to the current schema version first."""
    store = QSettings(str(settings_path()), QSettings.Format.IniFormat)
    raw_version = store.value(SCHEMA_KEY)
    version = coerce(Key(SCHEMA_KEY, "int", 1), raw_version)
    if raw_version is None and not store.allKeys():
        version = SCHEMA_VERSION  # a new file
    if version < SCHEMA_VERSION:
        values = {name: store.value(name) for name in KEYS if store.contains(name)}
        for name, value in migrate(values, version).items():
            store.setValue(name, value)
        store.setValue(SCHEMA_KEY, SCHEMA_VERSION)
    return store


def _raw(value: object) -> object:
    return value.data() if isinstance(value, QByteArray) else value


def read(name: str, store: QSettings | None = None) -> Any:
    """Setting ``name`` (a key of :data:`~vocoder_studio.engine.settings.KEYS`) typed, or its default."""
    store = store or qsettings()
    return coerce(KEYS[name], _raw(store.value(name)))


def write(name: str, value: Any, store: QSettings | None = None) -> None:
    """Set setting ``name`` to ``value`` (of the key's type)."""
    key = KEYS[name]
    encoded = encode(key, value)
    if key.type == "bytes":
        encoded = QByteArray(bytes(value))
    (store or qsettings()).setValue(name, encoded)


def set_aside_damaged(path: Path | None = None) -> str | None:
    """If the settings file is damaged, rename it (``settings.ini.damaged-YYYYmmdd-HHMMSS``) so that the app
    starts with defaults, and return the one-line message saying so; None for a sound (or missing) file."""
    path = path or settings_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"settings: {path} cannot be read ({exc.strerror or exc}); using defaults"
    why = damage(data)
    if why is None and QSettings(str(path), QSettings.Format.IniFormat).status() != QSettings.Status.NoError:
        why = "Qt cannot parse it"
    if why is None:
        return None
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        path.rename(aside)
    except OSError as exc:
        return f"settings: {path} is damaged ({why}) and cannot be moved ({exc.strerror or exc})"
    return f"settings were damaged ({why}): set aside as {aside.name}; starting with defaults"


class WindowSettings:
    """Restores and saves the window's settings (see the module's docstring).

    Args:
        window: the main window (geometry and dock layout: ``saveGeometry`` / ``saveState``).
        panel: the vocoder panel (vocoder, device, parameters, audio output and buffer).
        colormaps: the View menu's colour map choice. follow: the follow-playback mode.
    """

    def __init__(self, window: QMainWindow, panel: VocoderPanel, colormaps: ColormapChoice,
                 follow: FollowPlayback) -> None:
        self.window, self.panel, self.colormaps, self.follow = window, panel, colormaps, follow

    def restore(self) -> None:
        """Apply the saved settings (the ones that no longer apply, e.g. an unknown vocoder, are skipped)."""
        store = qsettings()
        panel = self.panel
        for name, values in read("vocoder/params", store).items():
            if name in panel.panels and isinstance(values, dict):
                try:
                    panel.panels[name].set_values(**values)
                except (VocoderStudioError, ValueError, KeyError, TypeError):
                    pass  # a parameter this version does not have, or a value out of its range
        name = read("vocoder/name", store)
        if name and panel.reasons.get(name, "unknown") is None:
            panel.set_vocoder(name)
        device = read("vocoder/device", store)
        if panel.device_combo.findText(device) >= 0:
            panel.device_combo.setCurrentText(device)
        output = read("audio/output", store)
        if output and (index := panel.output_combo.findText(output)) >= 0:
            panel.output_combo.setCurrentIndex(index)
        if (index := panel.blocksize_combo.findData(read("audio/blocksize", store))) >= 0:
            panel.blocksize_combo.setCurrentIndex(index)
        self.colormaps.choose(read("view/colormap", store))
        self.follow.set_mode(read("view/follow", store))
        if geometry := read("window/geometry", store):
            self.window.restoreGeometry(QByteArray(geometry))
        if state := read("window/state", store):
            self.window.restoreState(QByteArray(state))

    def save(self) -> None:
        store = qsettings()
        panel = self.panel
        choice = panel.choice()
        write("vocoder/name", choice.name, store)
        write("vocoder/device", choice.device, store)
        write("vocoder/params", {name: p.values() for name, p in panel.panels.items()}, store)
        write("audio/output", panel.output_combo.currentText() if panel.output_combo.currentIndex() > 0 else "",
              store)
        write("audio/blocksize", int(panel.blocksize_combo.currentData()), store)
        write("view/colormap", self.colormaps.current, store)
        write("view/follow", self.follow.mode.value, store)
        write("window/geometry", bytes(self.window.saveGeometry().data()), store)
        write("window/state", bytes(self.window.saveState().data()), store)
        store.sync()

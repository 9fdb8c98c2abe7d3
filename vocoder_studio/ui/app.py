"""Application start-up: the QApplication with the studio's theme (:mod:`vocoder_studio.ui.theme`), and the main
window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from vocoder_studio.desktop import icon_path
from vocoder_studio.paths import APP_NAME, APP_TITLE
from vocoder_studio.ui.theme import StudioStyle, apply_theme

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created and themed on first call)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setOrganizationName(APP_NAME)
        app.setApplicationName(APP_TITLE)
        apply_theme(app)
    assert isinstance(app, QApplication)
    if app.windowIcon().isNull():  # the icon and desktop entry `install-desktop` writes (Wayland matches the name)
        app.setWindowIcon(QIcon(str(icon_path())))
        app.setDesktopFileName(APP_NAME)
    return app


def create_main_window(paths: Sequence[Path] = (), show_dialogs: bool | None = None) -> MainWindow:
    """A themed main window with ``paths`` open as tabs (not shown)."""
    from vocoder_studio.ui.main_window import MainWindow

    app = ensure_app()
    if not app.organizationName():
        app.setOrganizationName(APP_NAME)
        app.setApplicationName(APP_TITLE)
    if not isinstance(app.style(), StudioStyle):
        apply_theme(app)
    window = MainWindow(show_dialogs=show_dialogs)
    for path in paths:
        window.open_path(Path(path))
    return window


def run_app(paths: list[Path]) -> int:
    """Open a window with each of ``paths`` as a tab and run the event loop; returns the exit status."""
    app = ensure_app()
    window = create_main_window(paths)  # its size: the last run's (ui/settings.py), else 1400 × 860
    window.show()
    window.recover_autosaves()
    return int(app.exec())

"""Application start-up: the QApplication with a dark compact Fusion theme, and the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow

ORGANIZATION = "VocoderStudio"
APPLICATION = "Vocoder Studio"

STYLE_SHEET = """
QToolBar { spacing: 3px; padding: 2px; border: none; }
QToolBar QToolButton { padding: 3px 7px; border-radius: 3px; }
QToolBar QToolButton:checked { background: #2f5d7c; color: #ffffff; }
QToolBar QToolButton:hover { background: #3a3f4b; }
QGroupBox { border: 1px solid #3a3f4b; border-radius: 4px; margin-top: 10px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; color: #9fb7c9; }
QDockWidget::title { background: #262a31; padding: 4px; }
QTabBar::tab { background: #262a31; padding: 4px 12px; border: 1px solid #3a3f4b; border-bottom: none; }
QTabBar::tab:selected { background: #16181d; color: #ffffff; }
QStatusBar { background: #1f2228; }
QStatusBar QLabel { padding: 0 6px; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and a compact font."""
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#23262d",
        QPalette.ColorRole.WindowText: "#d7dae0",
        QPalette.ColorRole.Base: "#1a1c21",
        QPalette.ColorRole.AlternateBase: "#23262d",
        QPalette.ColorRole.ToolTipBase: "#2b2f37",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#d7dae0",
        QPalette.ColorRole.Button: "#2b2f37",
        QPalette.ColorRole.ButtonText: "#d7dae0",
        QPalette.ColorRole.BrightText: "#ff5252",
        QPalette.ColorRole.Highlight: "#2f7bbf",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#4fc3f7",
        QPalette.ColorRole.PlaceholderText: "#7a808c",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b707a"))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(9.0)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created and themed on first call)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
        apply_theme(app)
    assert isinstance(app, QApplication)
    return app


def create_main_window(paths: Sequence[Path] = (), show_dialogs: bool | None = None) -> MainWindow:
    """A themed main window with ``paths`` open as tabs (not shown)."""
    from vocoder_studio.ui.main_window import MainWindow

    app = ensure_app()
    if not app.organizationName():
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
    if app.style().name().lower() != "fusion":
        apply_theme(app)
    window = MainWindow(show_dialogs=show_dialogs)
    for path in paths:
        window.open_path(Path(path))
    return window


def run_app(paths: list[Path]) -> int:
    """Open a window with each of ``paths`` as a tab and run the event loop; returns the exit status."""
    app = ensure_app()
    window = create_main_window(paths)
    window.resize(1400, 860)
    window.show()
    window.recover_autosaves()
    return int(app.exec())

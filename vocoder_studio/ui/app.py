"""Application start-up: the QApplication with a dark compact Fusion theme, and the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from vocoder_studio.desktop import icon_path
from vocoder_studio.paths import APP_NAME
from vocoder_studio.ui.dialogs import APP_TITLE

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow

ORGANIZATION = "VocoderStudio"
APPLICATION = APP_TITLE

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
QTabWidget::pane { border: none; }
QStatusBar { background: #1f2228; }
QStatusBar QLabel { padding: 0 6px; }
"""


#: Colours the style draws itself (the tab bar's base line, the tab close cross).
FRAME_COLOR = "#3a3f4b"
CLOSE_COLOR = "#9aa0aa"
CLOSE_HOVER_COLOR = "#ffffff"
CLOSE_HOVER_BACKGROUND = "#4a505c"


class StudioStyle(QProxyStyle):
    """Fusion with two of its primitives redrawn to suit the dark theme.

    - The tab bar's base (Fusion draws it from the palette's light colour: a bright 1-px line under the tabs)
      becomes a line in the frame colour.
    - The tab close button (Qt's stock icon: an orange-red square on the current tab) becomes a thin grey cross,
      white on a dark rounded square under the mouse.
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,  # noqa: N802
                      widget: QWidget | None = None) -> None:
        if element == QStyle.PrimitiveElement.PE_FrameTabBarBase:
            painter.save()
            painter.setPen(QPen(QColor(FRAME_COLOR), 1))
            rect = option.rect  # type: ignore[attr-defined]
            painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
            painter.restore()
            return
        if element == QStyle.PrimitiveElement.PE_IndicatorTabClose:
            self._draw_close(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)

    @staticmethod
    def _draw_close(option: QStyleOption, painter: QPainter) -> None:
        state = option.state  # type: ignore[attr-defined]
        hover = bool(state & (QStyle.StateFlag.State_MouseOver | QStyle.StateFlag.State_Raised
                              | QStyle.StateFlag.State_Sunken))
        rect = QRectF(option.rect)  # type: ignore[attr-defined]
        side = min(rect.width(), rect.height(), 16.0)
        box = QRectF(0, 0, side, side)
        box.moveCenter(rect.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if hover:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(CLOSE_HOVER_BACKGROUND))
            painter.drawRoundedRect(box, 3.0, 3.0)
        pen = QPen(QColor(CLOSE_HOVER_COLOR if hover else CLOSE_COLOR), 1.4)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        cross = box.adjusted(side * 0.3, side * 0.3, -side * 0.3, -side * 0.3)
        painter.drawLine(cross.topLeft(), cross.bottomRight())
        painter.drawLine(cross.topRight(), cross.bottomLeft())
        painter.restore()


def apply_theme(app: QApplication) -> None:
    """Fusion style (see :class:`StudioStyle`) with a dark palette and a compact font."""
    app.setStyle(StudioStyle())
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
    if app.windowIcon().isNull():  # the icon and desktop entry `install-desktop` writes (Wayland matches the name)
        app.setWindowIcon(QIcon(str(icon_path())))
        app.setDesktopFileName(APP_NAME)
    return app


def create_main_window(paths: Sequence[Path] = (), show_dialogs: bool | None = None) -> MainWindow:
    """A themed main window with ``paths`` open as tabs (not shown)."""
    from vocoder_studio.ui.main_window import MainWindow

    app = ensure_app()
    if not app.organizationName():
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
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

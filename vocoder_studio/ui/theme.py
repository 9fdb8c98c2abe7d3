"""The look of the window, in one place: the dark palette, the colours every widget and plot draws with, the
style sheet, and the Fusion style with the two primitives redrawn to suit it (:func:`apply_theme`).

Widgets take their colours from here by role (``AXIS_COLOR``, ``PLAYHEAD_COLOR``, …), never as literals.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

# ----- the palette: every colour the window uses -----
WHITE = "#ffffff"
TEXT = "#d7dae0"
WINDOW = "#23262d"
BASE = "#1a1c21"
BUTTON = "#2b2f37"
TITLE_BAR = "#262a31"
STATUS_BAR = "#1f2228"
FRAME = "#3a3f4b"
CYAN = "#4fc3f7"
LIGHT_CYAN = "#7fdbff"
STEEL = "#9fb7c9"
HINT_GREY = "#8a909c"
AMBER = "#f0b429"

# ----- colours by role -----
#: Behind plots: the canvas, the waveform lane, the Compare and Phase views, the canvas header.
BACKGROUND = "#16181d"
#: Axis lines, tick labels and plot titles.
AXIS_COLOR = "#b8bcc6"
#: Read-outs and explanations beside plots (the selection read-out, the Compare view's hint).
READOUT_COLOR = STEEL
#: The selection rectangle.
SELECTION_COLOR = LIGHT_CYAN
#: The title of the take that plays (Compare view).
PLAYING_COLOR = LIGHT_CYAN
#: The playhead line.
PLAYHEAD_COLOR = WHITE
#: The cursor line (where "from cursor" playback and Paste start).
CURSOR_COLOR = CYAN
#: Secondary text in the docks (model sources, notes, status lines): a style sheet.
HINT_STYLE = f"color: {HINT_GREY};"
#: A warning word beside a control (the split view's "read-only"): a style sheet.
WARNING_STYLE = f"color: {AMBER}; font-weight: bold;"
#: The waveform lane: the source recording, and the vocoded take (translucent: the source shows through).
SOURCE_WAVE_COLOR = "#7fa7c9"
TAKE_WAVE_COLOR = (255, 183, 77, 170)
#: The Phase view's Griffin-Lim convergence curves, by starting phase.
CURVE_COLORS = {"random": "#ff851b", "pghi": "#2ecc40"}
#: The output level meter: its trough and the green → yellow → red gradient of its bar.
METER_STYLE = (
    f"QProgressBar {{ background: #101216; border: 1px solid {FRAME}; border-radius: 2px; }}"
    "QProgressBar::chunk { background: qlineargradient(x1:0, y1:0, x2:1, y2:0, stop:0 #2e7d32,"
    " stop:0.75 #c0ca33, stop:1 #e53935); }")

#: Colours the style draws itself (the tab bar's base line, the tab close cross).
FRAME_COLOR = FRAME
CLOSE_COLOR = "#9aa0aa"
CLOSE_HOVER_COLOR = WHITE
CLOSE_HOVER_BACKGROUND = "#4a505c"

STYLE_SHEET = f"""
QToolBar {{ spacing: 3px; padding: 2px; border: none; }}
QToolBar QToolButton {{ padding: 3px 7px; border-radius: 3px; }}
QToolBar QToolButton:checked {{ background: #2f5d7c; color: {WHITE}; }}
QToolBar QToolButton:hover {{ background: {FRAME}; }}
QGroupBox {{ border: 1px solid {FRAME}; border-radius: 4px; margin-top: 10px; padding-top: 4px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; color: {STEEL}; }}
QDockWidget::title {{ background: {TITLE_BAR}; padding: 4px; }}
QTabBar::tab {{ background: {TITLE_BAR}; padding: 4px 12px; border: 1px solid {FRAME}; border-bottom: none; }}
QTabBar::tab:selected {{ background: {BACKGROUND}; color: {WHITE}; }}
QTabWidget::pane {{ border: none; }}
QStatusBar {{ background: {STATUS_BAR}; }}
QStatusBar QLabel {{ padding: 0 6px; }}
"""

#: The palette's colours by role; disabled text is :data:`DISABLED_TEXT`.
PALETTE = {
    QPalette.ColorRole.Window: WINDOW,
    QPalette.ColorRole.WindowText: TEXT,
    QPalette.ColorRole.Base: BASE,
    QPalette.ColorRole.AlternateBase: WINDOW,
    QPalette.ColorRole.ToolTipBase: BUTTON,
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: TEXT,
    QPalette.ColorRole.Button: BUTTON,
    QPalette.ColorRole.ButtonText: TEXT,
    QPalette.ColorRole.BrightText: "#ff5252",
    QPalette.ColorRole.Highlight: "#2f7bbf",
    QPalette.ColorRole.HighlightedText: WHITE,
    QPalette.ColorRole.Link: CYAN,
    QPalette.ColorRole.PlaceholderText: "#7a808c",
}
DISABLED_TEXT = "#6b707a"


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
    """Fusion style (see :class:`StudioStyle`) with the dark :data:`PALETTE`, a compact font and the
    :data:`STYLE_SHEET`."""
    app.setStyle(StudioStyle())
    palette = QPalette()
    for role, color in PALETTE.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(9.0)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)

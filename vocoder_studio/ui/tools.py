"""Tool state (brush, eraser, harmonic pen, select, pan) and the toolbar that sets it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QToolBar, QWidget

from vocoder_studio.editing import BrushSettings, HarmonicSettings


class Tool(Enum):
    """The canvas tools; the value is the toolbar text."""

    BRUSH = "Brush"
    ERASER = "Eraser"
    HARMONIC = "Harmonic"
    SELECT = "Select"
    PAN = "Pan"


_SHORTCUTS = {Tool.BRUSH: "B", Tool.ERASER: "E", Tool.HARMONIC: "H", Tool.SELECT: "S", Tool.PAN: "P"}
_TIPS = {
    Tool.BRUSH: "Brush: raise (positive gain) or lower (negative gain) the level under the mouse",
    Tool.ERASER: "Eraser: pull cells towards silence",
    Tool.HARMONIC: "Harmonic pen: draw a fundamental (mouse height) and its harmonics",
    Tool.SELECT: "Select: drag a time × frequency rectangle",
    Tool.PAN: "Pan: drag to move the view (the middle button always pans)",
}


@dataclass
class ToolState:
    """The active tool and each tool's settings (shared by every canvas)."""

    tool: Tool = Tool.BRUSH
    brush_gain_db: float = 6.0
    brush_radius: float = 3.0
    eraser_radius: float = 4.0
    harmonic_level_db: float = -10.0

    def brush(self) -> BrushSettings:
        return BrushSettings(radius=self.brush_radius, gain_db=self.brush_gain_db)

    def harmonic(self) -> HarmonicSettings:
        return HarmonicSettings(level_db=self.harmonic_level_db)


class ToolBar(QToolBar):
    """Tool buttons plus spin boxes for brush gain/radius, eraser radius and harmonic level."""

    toolChanged = Signal(object)

    def __init__(self, state: ToolState, parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self.setObjectName("tools")
        self.state = state
        self.group = QActionGroup(self)
        self.actions_by_tool: dict[Tool, QAction] = {}
        for tool in Tool:
            action = QAction(tool.value, self, checkable=True)
            action.setShortcut(QKeySequence(_SHORTCUTS[tool]))
            action.setToolTip(f"{_TIPS[tool]} ({_SHORTCUTS[tool]})")
            action.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            self.group.addAction(action)
            self.addAction(action)
            self.actions_by_tool[tool] = action
        self.actions_by_tool[state.tool].setChecked(True)
        self.addSeparator()
        self.gain = self._spin("Gain", -40, 40, state.brush_gain_db, " dB", "brush_gain_db",
                               "Brush gain per dab (negative lowers)")
        self.radius = self._spin("Radius", 0.5, 20, state.brush_radius, "", "brush_radius",
                                 "Brush radius in cells")
        self.eraser = self._spin("Eraser", 0.5, 20, state.eraser_radius, "", "eraser_radius",
                                 "Eraser radius in cells")
        self.level = self._spin("Pen", -80, 30, state.harmonic_level_db, " dB", "harmonic_level_db",
                                "Harmonic pen level of the fundamental")

    def _spin(self, label: str, lo: float, hi: float, value: float, suffix: str, attr: str,
              tip: str) -> QDoubleSpinBox:
        text = QLabel(f" {label} ")
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(1)
        spin.setSingleStep(0.5 if not suffix else 1.0)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.setToolTip(tip)
        text.setToolTip(tip)
        spin.valueChanged.connect(lambda v, a=attr: setattr(self.state, a, float(v)))
        self.addWidget(text)
        self.addWidget(spin)
        return spin

    def set_tool(self, tool: Tool) -> None:
        """Make ``tool`` the active tool."""
        self.state.tool = tool
        self.actions_by_tool[tool].setChecked(True)
        self.toolChanged.emit(tool)



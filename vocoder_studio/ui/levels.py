"""Colour maps and levels of a canvas: the pyqtgraph colour map of each name in :mod:`vocoder_studio.display`,
the gain and range spin boxes beside the colour bar, the View menu's colour map choice, and the document's
:class:`~vocoder_studio.display.Display` kept in step with its canvas (so the project file saves what is shown).

Gain and range, as Audacity's spectrogram settings name them: *range* is the span of the colour bar in dB
(high − low); *gain* brightens the picture: the level shown in the brightest colour is the document's automatic
top level (:meth:`SpectrogramCanvas.auto_levels`) minus the gain, so gain 0 is the automatic levels' top.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QMenu, QSizePolicy, QWidget

from vocoder_studio.display import COLORMAPS, DEFAULT_COLORMAP, LEVEL_LIMITS_DB, colormap_label
from vocoder_studio.ui.canvas import SpectrogramCanvas

GAIN_LIMITS_DB = (-60.0, 60.0)
RANGE_LIMITS_DB = (10.0, LEVEL_LIMITS_DB[1] - LEVEL_LIMITS_DB[0])


def pg_colormap(name: str) -> pg.ColorMap:
    """The pyqtgraph colour map of a :data:`~vocoder_studio.display.COLORMAPS` name (the default for others)."""
    if name == "grey":
        return pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)], name="grey")
    if name == "grey-inverted":
        return pg.ColorMap([0.0, 1.0], [(255, 255, 255), (0, 0, 0)], name="grey-inverted")
    return pg.colormap.get(name if name in COLORMAPS else DEFAULT_COLORMAP)


def set_colormap(canvas: SpectrogramCanvas, name: str) -> None:
    """Show ``canvas`` with colour map ``name`` and record it in its document's display."""
    name = name if name in COLORMAPS else DEFAULT_COLORMAP
    canvas.colorbar.setColorMap(pg_colormap(name))
    canvas.doc.display.colormap = name


def _spin(tip: str, low: float, high: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(0)
    box.setSingleStep(step)
    box.setSuffix(" dB")
    box.setToolTip(tip)
    box.setKeyboardTracking(False)
    return box


class LevelsBox(QWidget):
    """Gain and range spin boxes (dB) for one canvas, in its header above the colour bar.

    Dragging the colour bar's handles updates the numbers; typing a number moves the handles.
    """

    def __init__(self, canvas: SpectrogramCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelsBox")
        self.canvas = canvas
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.gain_box = _spin("Gain: the brightest colour shows the automatic top level minus this", *GAIN_LIMITS_DB, 1)
        self.range_box = _spin("Range: the dB from the darkest to the brightest colour", *RANGE_LIMITS_DB, 5)
        for text, box in (("Gain", self.gain_box), ("Range", self.range_box)):
            layout.addWidget(QLabel(text))
            layout.addWidget(box)
        self.gain_box.valueChanged.connect(self._apply)
        self.range_box.valueChanged.connect(self._apply)
        canvas.levelsChanged.connect(self._show)
        self._show(*canvas.levels())

    def gain_range(self) -> tuple[float, float]:
        """(gain, range) in dB as the boxes show them."""
        return float(self.gain_box.value()), float(self.range_box.value())

    def _show(self, low: float, high: float) -> None:
        for box, value in ((self.gain_box, self.canvas.auto_range[1] - high), (self.range_box, high - low)):
            box.blockSignals(True)
            box.setValue(round(value))
            box.blockSignals(False)

    def _apply(self, *_: object) -> None:
        gain, span = self.gain_range()
        lo, hi = LEVEL_LIMITS_DB
        high = min(hi, max(lo + span, self.canvas.auto_range[1] - gain))
        self.canvas.set_levels(max(lo, high - span), high)


def attach_display(canvas: SpectrogramCanvas, default_colormap: str = DEFAULT_COLORMAP) -> LevelsBox:
    """Show ``canvas``'s document as its display says, keep the display in step, add the levels box.

    A document from a project keeps its colour map and levels; any other starts with ``default_colormap``
    (the View menu's last choice) and automatic levels.
    """
    display = canvas.doc.display
    set_colormap(canvas, display.colormap if canvas.doc.project_path is not None else default_colormap)
    if display.levels is not None:
        canvas.set_levels(*display.levels)

    def keep(low: float, high: float) -> None:
        canvas.doc.display.levels = (round(low, 2), round(high, 2))

    canvas.levelsChanged.connect(keep)
    keep(*canvas.levels())
    box = LevelsBox(canvas, canvas.header)
    # the selection read-out beside it may be clipped rather than widen the canvas (a long read-out would
    # otherwise resize the plot under the mouse while a selection is dragged)
    canvas.selection_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    layout = canvas.header.layout()
    if isinstance(layout, QHBoxLayout):
        layout.insertWidget(1, box)
    return box


class ColormapChoice(QObject):
    """The View menu's *Colour map* items: one checkable action per name, applied to the active canvas.

    Args:
        active_canvas: gives the canvas the choice applies to.
    Attributes:
        current: the last name chosen (new documents start with it; the settings keep it).
    Signals:
        changed(name)
    """

    changed = Signal(str)

    def __init__(self, active_canvas: Callable[[], SpectrogramCanvas | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.active_canvas = active_canvas
        self.current = DEFAULT_COLORMAP
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for name in COLORMAPS:
            action = QAction(colormap_label(name), self, checkable=True)
            action.setData(name)
            action.triggered.connect(lambda _=False, n=name: self.choose(n))
            self.group.addAction(action)
            self.actions[name] = action
        self.actions[self.current].setChecked(True)

    def choose(self, name: str) -> None:
        """Show the active canvas with colour map ``name``; later documents start with it too."""
        name = name if name in COLORMAPS else DEFAULT_COLORMAP
        self.current = name
        self.actions[name].setChecked(True)
        canvas = self.active_canvas()
        if canvas is not None:
            set_colormap(canvas, name)
        self.changed.emit(name)

    def follow(self, canvas: SpectrogramCanvas | None) -> None:
        """Check the item of ``canvas``'s colour map (the active canvas changed)."""
        if canvas is not None:
            self.actions[canvas.doc.display.colormap].setChecked(True)

    def menu(self, parent: QWidget) -> QMenu:
        menu = QMenu("Colour &map", parent)
        for action in self.actions.values():
            menu.addAction(action)
        return menu

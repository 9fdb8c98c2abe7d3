"""The spectrogram canvas: the document's mel in dB as a pyqtgraph image, with axes, colour bar, zoom/pan,
a playhead, a cursor line, a selection rectangle and the editing tools on the mouse.

The :class:`~vocoder_studio.document.Document` stays the source of truth: the canvas writes through
:mod:`vocoder_studio.editing` and redraws the cells the document reports as changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QPen, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from vocoder_studio.audio.mel import ln_to_db
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import band_to_hz, brush_dab, erase_dab, harmonic_dab, stroke_points
from vocoder_studio.scales import (
    auto_levels,
    mel_band_scale,
    view_to_cell,
    view_to_hz,
)
from vocoder_studio.ui.axes import FrequencyAxis, TimeAxis
from vocoder_studio.ui.theme import AXIS_COLOR, BACKGROUND, CURSOR_COLOR, PLAYHEAD_COLOR, READOUT_COLOR, SELECTION_COLOR
from vocoder_studio.ui.tools import Tool, ToolState

pg.setConfigOption("mouseRateLimit", 0)  # pyqtgraph drops moves < 10 ms apart otherwise (broken strokes)
pg.setConfigOption("antialias", True)

#: The colour range before a document's own levels are known (:meth:`SpectrogramCanvas.auto_levels` replaces it).
DEFAULT_LEVELS = (-100.0, 20.0)


class _CanvasViewBox(pg.ViewBox):
    """A ViewBox that lets the canvas take left-button drags and clicks for the active tool."""

    def __init__(self, canvas: SpectrogramCanvas) -> None:
        super().__init__(enableMenu=False)
        self._canvas = canvas

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:  # noqa: N802 (Qt naming)
        if not self._canvas._handle_drag(ev):
            super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self._canvas.show_context_menu(ev.screenPos().toPoint())
            return
        if not self._canvas._handle_click(ev):
            super().mouseClickEvent(ev)


class SpectrogramCanvas(QWidget):
    """Shows and edits one :class:`Document`.

    Signals:
        cursorMoved(seconds, hz, db): the mouse is over a cell (status bar read-out).
        positionClicked(frame): the user clicked a time (playback "from cursor").
        selectionChanged(region or None)
        selectionTextChanged(text): the selection read-out changed (time range in s, frequency range in Hz;
            "" with no selection); also shown by the canvas itself in :attr:`selection_label`.
        levelsChanged(low, high): the colour range in dB changed (auto levels, the colour bar, ``set_levels``).
        activated(): the user pressed the mouse in this canvas (it becomes the target of Copy/Paste).
        strokeFinished(): a tool stroke ended (its undo step is now on the document's stack).
    """

    cursorMoved = Signal(float, float, float)
    positionClicked = Signal(int)
    selectionChanged = Signal(object)
    selectionTextChanged = Signal(str)
    levelsChanged = Signal(float, float)
    activated = Signal()
    strokeFinished = Signal()

    def __init__(self, doc: Document, tools: ToolState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tools = tools or ToolState()
        self.cursor_frame = 0
        self._stroke_last: tuple[float, float] | None = None
        self._select_anchor: tuple[float, float] | None = None
        self._refresh_pending = False
        self._seconds = doc.config.frame_seconds
        self.frequency_scale = mel_band_scale(doc.config)

        self._build_header()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.view.ci.setContentsMargins(4, 8, 4, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        self._build_plot()
        self._build_image()
        self._build_overlays()

        self.view.scene().sigMouseMoved.connect(self._on_hover)
        doc.subscribe(self._on_doc_changed)
        self._apply_limits()
        self.fit()
        self.auto_levels()

    def _build_header(self) -> None:
        """A slim header: the selection read-out on the left, the colour-range reset on the right; and the
        actions of the context menu."""
        self.header = QWidget()
        self.header.setObjectName("canvasHeader")
        self.header.setStyleSheet(f"#canvasHeader {{ background: {BACKGROUND}; }}"
                                  f"QLabel {{ color: {READOUT_COLOR}; }}")
        header_layout = QHBoxLayout(self.header)
        header_layout.setContentsMargins(8, 2, 6, 0)
        header_layout.setSpacing(6)
        #: the selection read-out (time range in s × frequency range in Hz)
        self.selection_label = QLabel()
        self.selection_label.setObjectName("selectionReadout")
        self.selection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header_layout.addWidget(self.selection_label, 1)
        self.auto_levels_action = QAction("Auto levels", self)
        self.auto_levels_action.setToolTip("Colour range from this document's levels (1st–99.9th percentile)")
        self.auto_levels_action.triggered.connect(self.auto_levels)
        self.levels_button = QToolButton()
        self.levels_button.setDefaultAction(self.auto_levels_action)
        self.levels_button.setAutoRaise(True)
        header_layout.addWidget(self.levels_button, 0)
        self.fit_action = QAction("Fit", self)
        self.fit_action.setToolTip("Show the whole document")
        self.fit_action.triggered.connect(self.fit)

    def _build_plot(self) -> None:
        """The plot in :attr:`view`: our view box (tools on the mouse) and the Hz and seconds axes."""
        self.viewbox = _CanvasViewBox(self)
        self.frequency_axis = FrequencyAxis(self.frequency_scale)
        self.time_axis = TimeAxis()
        self.plot: pg.PlotItem = self.view.addPlot(
            row=0, col=0, viewBox=self.viewbox, axisItems={"left": self.frequency_axis, "bottom": self.time_axis})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for axis in (self.time_axis, self.frequency_axis):
            axis.setPen(pg.mkPen(AXIS_COLOR))
            axis.setTextPen(pg.mkPen(AXIS_COLOR))
        self.plot.setLabel("bottom", "Time (s)", color=AXIS_COLOR)
        self.plot.setLabel("left", "Frequency (Hz)", color=AXIS_COLOR)
        self.frequency_axis.setWidth(56)

    def _build_image(self) -> None:
        """The document's mel in dB as an image (one cell per frame and band, seconds across) and its colour
        bar."""
        self._db = np.ascontiguousarray(ln_to_db(np.array(self.doc.mel, dtype=np.float32)))
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setImage(self._db, autoLevels=False, levels=DEFAULT_LEVELS)
        self.image_item.setTransform(QTransform.fromScale(self._seconds, 1.0))
        self.plot.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(values=DEFAULT_LEVELS, colorMap=pg.colormap.get("inferno"),
                                        label="Level (dB)", interactive=True, limits=(-120, 60), rounding=1,
                                        width=14)
        self.colorbar.setImageItem(self.image_item, insert_in=self.plot)
        self.colorbar.getAxis("right").setTextPen(pg.mkPen(AXIS_COLOR))
        self.colorbar.getAxis("right").setPen(pg.mkPen(AXIS_COLOR))
        self.colorbar.sigLevelsChanged.connect(self._on_levels_changed)

    def _build_overlays(self) -> None:
        """The cursor line, the playhead and the selection outline: in the view box (clipped to it), never over
        the axes."""
        self.cursor_line = pg.InfiniteLine(0.0, angle=90, movable=False,
                                           pen=pg.mkPen(CURSOR_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOR, width=2))
        self.playhead.setVisible(False)
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        self.plot.addItem(self.playhead, ignoreBounds=True)
        self.cursor_line.setVisible(False)  # the cursor starts at frame 0 (see set_cursor_frame)

        self.selection_item = QGraphicsRectItem()
        pen = QPen(QColor(SELECTION_COLOR))
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        self.selection_item.setPen(pen)
        self.selection_item.setBrush(Qt.BrushStyle.NoBrush)  # an outline only: the cells inside keep their colour
        self.selection_item.setParentItem(self.image_item)
        self.selection_item.setZValue(10)
        self._show_selection(self.doc.selection)

    # ----- view -----
    def _apply_limits(self) -> None:
        width = self.doc.frames * self._seconds
        self.viewbox.setLimits(xMin=0.0, xMax=width, yMin=0.0, yMax=float(self.doc.n_mels),
                               minXRange=16 * self._seconds, minYRange=4.0)

    def full_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (0.0, self.doc.frames * self._seconds), (0.0, float(self.doc.n_mels))

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((t0, t1) seconds, (band0, band1)) currently visible."""
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def fit(self) -> None:
        """Show the whole document."""
        xr, yr = self.full_range()
        self.viewbox.setRange(xRange=xr, yRange=yr, padding=0.0)

    def zoom(self, factor: float) -> None:
        """Zoom the time axis by ``factor`` (> 1 zooms in) around the view centre."""
        self.viewbox.scaleBy(x=1.0 / factor, y=1.0)

    def set_levels(self, low: float, high: float) -> None:
        """Colour range in dB."""
        self.colorbar.setLevels((low, high))
        self._on_levels_changed()

    def levels(self) -> tuple[float, float]:
        """The colour range ``(low, high)`` in dB."""
        low, high = self.colorbar.levels()
        return float(low), float(high)

    def auto_levels(self) -> tuple[float, float]:
        """Set the colour range from the document's levels and return it (``(low, high)`` dB).

        The high end is the 99.9th percentile of the cells (rounded up to a whole dB): the loudest 0.1 % of cells
        saturate, so speech peaks keep their shape instead of turning into solid yellow. The low end is the 1st
        percentile of the cells above digital silence, at most 80 dB below the high end (see
        :func:`vocoder_studio.scales.auto_levels`). Called on open; the header's *Auto levels* button and the
        context menu call it to undo a hand-made change.
        """
        floor_db = float(ln_to_db(np.array([self.doc.config.floor_ln], dtype=np.float64))[0])
        low, high = auto_levels(self._db, floor_db)
        self.auto_range = (low, high)  # the reference of the levels box's gain (ui/levels.py)
        self.set_levels(low, high)
        return low, high

    def _on_levels_changed(self, _bar: object = None) -> None:
        low, high = self.levels()
        self.levelsChanged.emit(low, high)

    def context_menu(self) -> QMenu:
        """A new right-click menu of the canvas: *Auto levels*, *Fit*."""
        menu = QMenu(self)
        menu.addAction(self.auto_levels_action)
        menu.addAction(self.fit_action)
        return menu

    def show_context_menu(self, global_pos: QPoint) -> None:
        """Run the right-click menu at ``global_pos`` on the screen (returns when it closes)."""
        menu = self.context_menu()
        menu.exec(global_pos)
        menu.deleteLater()

    # ----- document -----
    def _on_doc_changed(self, doc: Document, region: Region) -> None:
        if self._db.shape != doc.mel.shape:  # the document grew or shrank: new image, limits, view
            old_frames = self._db.shape[1]
            (x0, x1), _ = self.view_range()
            showed_all = x0 <= 1e-9 and x1 >= old_frames * self._seconds - 1e-9
            self._db = np.ascontiguousarray(ln_to_db(np.array(doc.mel, dtype=np.float32)))
            levels = self.levels()
            self.image_item.setImage(self._db, autoLevels=False, levels=levels)
            self._apply_limits()
            if showed_all:
                self.fit()
            if doc.selection is not None:
                clipped = doc.selection.clip(doc.n_mels, doc.frames)
                self.set_selection(None if clipped.empty else clipped)
            else:
                self._show_selection(None)
            self.set_cursor_frame(self.cursor_frame)
        else:
            self._db[region.slices] = ln_to_db(doc.mel[region.slices])
        if not self._refresh_pending:
            self._refresh_pending = True
            QTimer.singleShot(0, self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        self.image_item.updateImage()

    def detach(self) -> None:
        """Stop observing the document (before the canvas is thrown away)."""
        self.doc.unsubscribe(self._on_doc_changed)

    # ----- selection, cursor, playhead -----
    def selection_text(self, region: Region | None = None) -> str:
        """The read-out of ``region`` (default: the document's selection): its time range in seconds and its
        frequency range in Hz (the band edges), e.g. ``"2.902 – 4.876 s (1.974 s)   ×   296 – 2595 Hz"``;
        "" for no selection."""
        if region is None:
            region = self.doc.selection
        if region is None or region.empty:
            return ""
        t0, t1 = region.frame0 * self._seconds, region.frame1 * self._seconds
        hz0, hz1 = (float(v) for v in view_to_hz(np.array([region.band0, region.band1], float), self.doc.config))
        return (f"Selection  {t0:.3f} – {t1:.3f} s ({t1 - t0:.3f} s)   ×   {hz0:.0f} – {hz1:.0f} Hz"
                f"   ({region.frame1 - region.frame0} frames × {region.band1 - region.band0} bands)")

    def _show_selection(self, region: Region | None) -> None:
        text = self.selection_text(region) if region is not None else ""
        if text != self.selection_label.text():
            self.selection_label.setText(text)
            self.selectionTextChanged.emit(text)
        if region is None or region.empty:
            self.selection_item.setVisible(False)
            return
        self.selection_item.setRect(QRectF(region.frame0, region.band0, region.frame1 - region.frame0,
                                           region.band1 - region.band0))
        self.selection_item.setVisible(True)

    def set_selection(self, region: Region | None) -> None:
        """Select ``region`` (clipped to the document) or clear the selection with None."""
        if region is not None:
            region = region.clip(self.doc.n_mels, self.doc.frames)
            if region.empty:
                region = None
        self.doc.selection = region
        self._show_selection(region)
        self.selectionChanged.emit(region)

    def set_cursor_frame(self, frame: int) -> None:
        """Put the cursor (where "from cursor" playback and Paste start) at ``frame`` (clipped)."""
        self.cursor_frame = int(np.clip(frame, 0, max(0, self.doc.frames - 1)))
        self.cursor_line.setValue(self.cursor_frame * self._seconds)
        # at frame 0 the line would sit on the view's left edge, half of it beside the axis line: the edge
        # itself marks the start, so the line shows only inside the document
        self.cursor_line.setVisible(self.cursor_frame > 0)

    def set_playhead(self, seconds: float | None) -> None:
        """Show the playhead at ``seconds`` (None hides it)."""
        if seconds is None:
            self.playhead.setVisible(False)
            return
        self.playhead.setValue(seconds)
        self.playhead.setVisible(True)

    # ----- mouse -----
    def cell_at(self, scene_pos: QPointF) -> tuple[float, float]:
        """(frame, band) in cell coordinates (cell i spans [i, i + 1)) of a scene position."""
        p = self.image_item.mapFromScene(scene_pos)
        return float(p.x()), float(p.y())

    def scene_pos_of_cell(self, frame: float, band: float) -> QPointF:
        """The scene position of a cell coordinate (inverse of :meth:`cell_at`)."""
        return self.image_item.mapToScene(QPointF(frame, band))

    def widget_pos_of_cell(self, frame: float, band: float) -> Any:
        """The viewport pixel of a cell coordinate (for tests driving the mouse)."""
        return self.view.mapFromScene(self.scene_pos_of_cell(frame, band))

    def _on_hover(self, scene_pos: QPointF) -> None:
        x, y = self.cell_at(scene_pos)
        f, b = int(np.floor(x)), int(np.floor(y))
        if 0 <= f < self.doc.frames and 0 <= b < self.doc.n_mels:
            hz = float(view_to_hz(y, self.doc.config))
            self.cursorMoved.emit(x * self._seconds, hz, float(self._db[b, f]))

    def _dab(self, x: float, y: float) -> None:
        frame, band = view_to_cell(x, y)
        tool = self.tools.tool
        if tool == Tool.BRUSH:
            brush_dab(self.doc, frame, band, self.tools.brush())
        elif tool == Tool.ERASER:
            erase_dab(self.doc, frame, band, self.tools.eraser_radius)
        elif tool == Tool.HARMONIC:
            hz = float(band_to_hz(max(band, 0.0), self.doc.config))
            harmonic_dab(self.doc, frame, hz, self.tools.harmonic())

    def _handle_drag(self, ev: Any) -> bool:
        tool = self.tools.tool
        if ev.button() != Qt.MouseButton.LeftButton or tool == Tool.PAN:
            return False
        ev.accept()
        pos = self.cell_at(ev.scenePos())
        if ev.isStart():
            self.activated.emit()
            start = self.cell_at(ev.buttonDownScenePos())
            if tool == Tool.SELECT:
                self._select_anchor = start
            else:
                self.doc.begin_edit(tool.value)
                self._dab(*start)
                self._stroke_last = start
        if tool == Tool.SELECT and self._select_anchor is not None:
            region = Region.from_corners(*self._select_anchor, *pos).clip(self.doc.n_mels, self.doc.frames)
            self._show_selection(region)
            if ev.isFinish():
                self.set_selection(region)
                self.set_cursor_frame(region.frame0)
                self.positionClicked.emit(self.cursor_frame)
                self._select_anchor = None
        elif self._stroke_last is not None:
            for x, y in stroke_points(self._stroke_last, pos):
                self._dab(float(x), float(y))
            self._stroke_last = pos
            if ev.isFinish():
                self._stroke_last = None
                self.doc.end_edit()
                self.strokeFinished.emit()
        return True

    def _handle_click(self, ev: Any) -> bool:
        if ev.button() != Qt.MouseButton.LeftButton:
            return False
        ev.accept()
        self.activated.emit()
        x, y = self.cell_at(ev.scenePos())
        tool = self.tools.tool
        if tool in (Tool.BRUSH, Tool.ERASER, Tool.HARMONIC):
            with self.doc.edit(tool.value):
                self._dab(x, y)
            self.strokeFinished.emit()
        elif tool == Tool.SELECT:
            self.set_selection(None)
        self.set_cursor_frame(int(np.floor(x)))
        self.positionClicked.emit(self.cursor_frame)
        return True

"""The spectrogram canvas: the document's mel in dB as a pyqtgraph image, with axes, colour bar, zoom/pan,
a playhead, a cursor line, a selection rectangle and the editing tools on the mouse.

The :class:`~vocoder_studio.document.Document` stays the source of truth: the canvas writes through
:mod:`vocoder_studio.editing` and redraws the cells the document reports as changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPen, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from vocoder_studio.audio.mel import ln_to_db
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import band_to_hz, brush_dab, erase_dab, harmonic_dab, hz_to_band, stroke_points
from vocoder_studio.ui.tools import Tool, ToolState

pg.setConfigOption("mouseRateLimit", 0)  # pyqtgraph drops moves < 10 ms apart otherwise (broken strokes)
pg.setConfigOption("antialias", True)

BACKGROUND = "#16181d"
AXIS_COLOR = "#b8bcc6"
DEFAULT_LEVELS = (-100.0, 20.0)
FREQ_TICKS = [
    (100, "100"), (250, "250"), (500, "500"), (1000, "1k"), (2000, "2k"), (4000, "4k"), (8000, "8k")]


class _CanvasViewBox(pg.ViewBox):
    """A ViewBox that lets the canvas take left-button drags and clicks for the active tool."""

    def __init__(self, canvas: SpectrogramCanvas) -> None:
        super().__init__(enableMenu=False)
        self._canvas = canvas

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:  # noqa: N802 (Qt naming)
        if not self._canvas._handle_drag(ev):
            super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802
        if not self._canvas._handle_click(ev):
            super().mouseClickEvent(ev)


class SpectrogramCanvas(QWidget):
    """Shows and edits one :class:`Document`.

    Signals:
        cursorMoved(seconds, hz, db): the mouse is over a cell (status bar read-out).
        positionClicked(frame): the user clicked a time (playback "from cursor").
        selectionChanged(region or None)
        activated(): the user pressed the mouse in this canvas (it becomes the target of Copy/Paste).
        strokeFinished(): a tool stroke ended (its undo step is now on the document's stack).
    """

    cursorMoved = Signal(float, float, float)
    positionClicked = Signal(int)
    selectionChanged = Signal(object)
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
        cfg = doc.config
        self._seconds = cfg.frame_seconds

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.view.ci.setContentsMargins(4, 6, 4, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.viewbox = _CanvasViewBox(self)
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0, viewBox=self.viewbox)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for name in ("bottom", "left"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(AXIS_COLOR))
            axis.setTextPen(pg.mkPen(AXIS_COLOR))
        self.plot.setLabel("bottom", "Time", units="s", color=AXIS_COLOR)
        self.plot.setLabel("left", "Frequency (Hz)", color=AXIS_COLOR)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        ticks = [(float(hz_to_band(hz, cfg)) + 0.5, text) for hz, text in FREQ_TICKS]
        self.plot.getAxis("left").setTicks([ticks, []])
        self.plot.getAxis("left").setWidth(52)

        self._db = np.ascontiguousarray(ln_to_db(np.array(doc.mel, dtype=np.float32)))
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

        self.cursor_line = pg.InfiniteLine(0.0, angle=90, movable=False,
                                           pen=pg.mkPen("#4fc3f7", width=1, style=Qt.PenStyle.DashLine))
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen("#ffffff", width=2))
        self.playhead.setVisible(False)
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        self.plot.addItem(self.playhead, ignoreBounds=True)

        self.selection_item = QGraphicsRectItem()
        pen = QPen(QColor("#4fc3f7"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self.selection_item.setPen(pen)
        self.selection_item.setBrush(QBrush(QColor(79, 195, 247, 40)))
        self.selection_item.setParentItem(self.image_item)
        self.selection_item.setZValue(10)
        self._show_selection(doc.selection)

        self.view.scene().sigMouseMoved.connect(self._on_hover)
        doc.subscribe(self._on_doc_changed)
        self._apply_limits()
        self.fit()

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

    # ----- document -----
    def _on_doc_changed(self, doc: Document, region: Region) -> None:
        if self._db.shape != doc.mel.shape:
            self._db = np.ascontiguousarray(ln_to_db(np.array(doc.mel, dtype=np.float32)))
            self.image_item.setImage(self._db, autoLevels=False)
            self._apply_limits()
        else:
            self._db[region.slices] = ln_to_db(doc.mel[region.slices])
        if not self._refresh_pending:
            self._refresh_pending = True
            QTimer.singleShot(0, self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        self.image_item.updateImage()

    def refresh_now(self) -> None:
        """Redraw the image from the document now (tests and screenshots)."""
        self._db[...] = ln_to_db(np.asarray(self.doc.mel))
        self._refresh()

    def detach(self) -> None:
        """Stop observing the document (before the canvas is thrown away)."""
        self.doc.unsubscribe(self._on_doc_changed)

    # ----- selection, cursor, playhead -----
    def _show_selection(self, region: Region | None) -> None:
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
        self.cursor_frame = int(np.clip(frame, 0, max(0, self.doc.frames - 1)))
        self.cursor_line.setValue(self.cursor_frame * self._seconds)

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
            hz = float(band_to_hz(y - 0.5, self.doc.config))
            self.cursorMoved.emit(x * self._seconds, hz, float(self._db[b, f]))

    def _dab(self, x: float, y: float) -> None:
        frame, band = x - 0.5, y - 0.5  # cell centres sit at integer coordinates in editing.py
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

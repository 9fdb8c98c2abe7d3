"""The waveform lane under a canvas: the source audio (when the document came from an audio file) and the
vocoded audio of the current take, one or both, on the canvas's time axis (``setXLink``: the lane pans and
zooms with it), with its cursor and playhead. A click in the lane moves the cursor. Each redraw reads one
level of a min/max pyramid (:class:`vocoder_studio.engine.peaks.Peaks`): about one bin per pixel, whatever
the zoom or the length of the audio.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from vocoder_studio.audio.io import audio_blocks
from vocoder_studio.engine.peaks import Peaks
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.theme import BACKGROUND, CURSOR_COLOR, PLAYHEAD_COLOR, SOURCE_WAVE_COLOR, TAKE_WAVE_COLOR

LANE_HEIGHT = 96
#: Suffixes of files the lane reads as source audio (a mel or project file has none).
_NOT_AUDIO = {".npy", ".vsproj"}


class LaneMode(str, Enum):
    """What the lane shows."""

    SOURCE = "source"
    TAKE = "take"
    BOTH = "both"


class _LaneViewBox(pg.ViewBox):
    def __init__(self, on_click: Callable[[float], None]) -> None:
        super().__init__(enableMenu=False)
        self._on_click = on_click
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 (Qt naming)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._on_click(float(self.mapSceneToView(ev.scenePos()).x()))
            return
        super().mouseClickEvent(ev)


class _Loaded(QObject):
    ready = Signal(object)  # Peaks, or an error message


def source_audio_path(canvas: SpectrogramCanvas) -> Path | None:
    """The audio file ``canvas``'s document was made from, if it names one that exists."""
    source = canvas.doc.source
    if not source:
        return None
    path = Path(source)
    return path if path.suffix.lower() not in _NOT_AUDIO and path.is_file() else None


class WaveformLane(QWidget):
    """The lane of one canvas (added under it by :func:`add_lane`).

    Args:
        canvas: the canvas whose time axis, cursor and playhead the lane shares.
        take_audio: gives the vocoded audio of the current take (float32 samples; None before any).
        take_key: gives a value that changes whenever that audio may have (the take is read again only then).
    Attributes:
        source_peaks, take_peaks: the pyramids drawn (None: none yet).
        mode: a :class:`LaneMode`.
    """

    def __init__(self, canvas: SpectrogramCanvas, take_audio: Callable[[], np.ndarray | None],
                 take_key: Callable[[], object] = object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas, self.take_audio, self.take_key = canvas, take_audio, take_key
        self._last_take: object = None
        self.mode = LaneMode.BOTH
        self.source_peaks: Peaks | None = None
        self.take_peaks: Peaks | None = None
        self.source_error: str | None = None
        self._rate = canvas.doc.config.sample_rate
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.view.setFixedHeight(LANE_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.viewbox = _LaneViewBox(self._clicked)
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0, viewBox=self.viewbox)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.viewbox.setYRange(-1.0, 1.0, padding=0.05)
        self.viewbox.setXLink(canvas.viewbox)
        self.source_curve = pg.PlotDataItem(pen=pg.mkPen(SOURCE_WAVE_COLOR, width=1), connect="pairs")
        self.take_curve = pg.PlotDataItem(pen=pg.mkPen(TAKE_WAVE_COLOR, width=1), connect="pairs")
        for curve in (self.source_curve, self.take_curve):
            curve.setClipToView(False)
            self.plot.addItem(curve)
        self.cursor_line = pg.InfiniteLine(0.0, angle=90, movable=False,
                                           pen=pg.mkPen(CURSOR_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOR, width=2))
        for line, twin in ((self.cursor_line, canvas.cursor_line), (self.playhead, canvas.playhead)):
            self.plot.addItem(line, ignoreBounds=True)
            line.setVisible(twin.isVisible())
            twin.sigPositionChanged.connect(lambda t, mine=line: self._twin_moved(mine, t))
            twin.visibleChanged.connect(lambda mine=line, t=twin: mine.setVisible(t.isVisible()))
        self.viewbox.sigXRangeChanged.connect(lambda *_: self.redraw())
        self.viewbox.sigResized.connect(lambda *_: self.redraw())
        canvas.viewbox.sigResized.connect(lambda *_: self.align())
        self._loaded = _Loaded(self)
        self._loaded.ready.connect(self._source_ready)
        self.load_source()

    # ----- content -----
    def load_source(self) -> None:
        """Read the source audio's pyramid on a thread of its own (an hour of audio takes seconds)."""
        path = source_audio_path(self.canvas)
        if path is None:
            return
        config, loaded = self.canvas.doc.config, self._loaded

        def work() -> None:
            try:
                result: object = Peaks.from_blocks(audio_blocks(path, config))
            except VocoderStudioError as exc:
                result = str(exc)
            try:
                loaded.ready.emit(result)
            except RuntimeError:  # the lane was closed meanwhile
                pass

        threading.Thread(target=work, name="waveform-source", daemon=True).start()

    def _source_ready(self, result: object) -> None:
        if isinstance(result, Peaks):
            self.source_peaks = result
        else:
            self.source_error = str(result)
        self.redraw()

    def refresh_take(self) -> None:
        """Read the current take's audio again (after a render, or when the vocoder changed) if it changed."""
        key = self.take_key()
        if key == self._last_take:
            return
        self._last_take = key
        audio = self.take_audio()
        self.take_peaks = Peaks.from_audio(audio) if audio is not None and audio.size else None
        self.redraw()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.refresh_take()  # its tab became current: a take may have been made meanwhile

    def set_mode(self, mode: LaneMode | str) -> None:
        self.mode = LaneMode(mode)
        self.redraw()

    # ----- drawing -----
    def align(self) -> None:
        """Give the lane's plot the same left and right edges as the canvas's (the lane hides its axes)."""
        rect = self.canvas.viewbox.sceneBoundingRect()
        right = max(0.0, self.canvas.view.width() - rect.right())
        self.view.ci.setContentsMargins(rect.left(), 2, right, 2)
        self.view.ci.layout.setSpacing(0)

    def redraw(self) -> None:
        (t0, t1), _ = self.canvas.view_range()
        pixels = max(1, int(self.viewbox.width()))
        for curve, peaks, shown in ((self.source_curve, self.source_peaks, self.mode != LaneMode.TAKE),
                                    (self.take_curve, self.take_peaks, self.mode != LaneMode.SOURCE)):
            if peaks is None or not shown:
                curve.setData([], [])
                continue
            positions, mins, maxs = peaks.read(t0 * self._rate, t1 * self._rate, pixels)
            x = np.repeat(positions / self._rate, 2)
            y = np.column_stack([mins, np.maximum(maxs, mins + 1e-3)]).reshape(-1)
            curve.setData(x, y)

    def _twin_moved(self, mine: pg.InfiniteLine, twin: pg.InfiniteLine) -> None:
        mine.setValue(twin.value())
        mine.setVisible(twin.isVisible())

    def _clicked(self, seconds: float) -> None:
        canvas = self.canvas
        canvas.activated.emit()
        canvas.set_cursor_frame(int(np.floor(seconds / canvas.doc.config.frame_seconds)))
        canvas.positionClicked.emit(canvas.cursor_frame)


def add_lane(canvas: SpectrogramCanvas, take_audio: Callable[[], np.ndarray | None],
             take_key: Callable[[], object] = object) -> WaveformLane:
    """Put a :class:`WaveformLane` under ``canvas`` (in its own layout, below the plot)."""
    lane = WaveformLane(canvas, take_audio, take_key, canvas)
    layout = canvas.layout()
    if layout is not None:
        layout.addWidget(lane)
    lane.align()
    return lane

"""The Phase view: why Griffin-Lim sounds phasey, made visible.

For the original recording and each take of a comparison it draws the instantaneous frequency deviation
(:func:`vocoder_studio.evaluation.phase.instantaneous_frequency`): smooth bands along each harmonic where the
phase moves as a real signal's does, speckle where it does not. Below, Griffin-Lim's spectral convergence per
iteration for the compared mel, from a random start and from PGHI (Průša et al. 2017): how far each iteration's
STFT is from one that some signal has. Opened from the Compare view's "Phase…" button.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from vocoder_studio.evaluation.comparison import Comparison
from vocoder_studio.evaluation.phase import instantaneous_frequency, phase_coherence
from vocoder_studio.ui.theme import AXIS_COLOR, BACKGROUND, CURVE_COLORS, READOUT_COLOR
from vocoder_studio.vocoders.griffin_lim import GriffinLim

#: What the picture shows, in one line (shown above it).
EXPLANATION = ("Instantaneous frequency: how fast each bin's phase turns, minus its centre frequency (Hz). Real "
               "speech draws smooth bands along its harmonics; speckle is phase no signal has — the 'phasey' sound.")
#: The deviation maps' colour map: diverging, its middle light (pyqtgraph's CET-D1).
COLORMAP = "CET-D1"
#: The deviation's colour range, ± Hz (half the hop's Nyquist at the defaults is 43 Hz).
RANGE_HZ = 40.0
#: Highest frequency drawn (the mel stops at 8 kHz).
MAX_HZ = 8000.0
#: The curves' Griffin-Lim iterations.
CURVE_ITERATIONS = 32
#: Frames of the compared mel the curves are computed on (the first 10 s): the dialog stays quick.
CURVE_FRAMES = 862


def convergence_curves(mel: np.ndarray, iterations: int = CURVE_ITERATIONS) -> dict[str, np.ndarray]:
    """Griffin-Lim's spectral convergence per iteration (``iterations + 1`` values) from each start, on the first
    :data:`CURVE_FRAMES` frames of ``mel`` ``(n_mels, frames)``."""
    part = np.ascontiguousarray(mel[:, :CURVE_FRAMES], np.float32)
    return {init: GriffinLim(iterations=iterations, init=init).spectral_convergence(part)
            for init in CURVE_COLORS}


class PhaseView(QDialog):
    """Instantaneous frequency of the original and each take of ``comparison``, and Griffin-Lim's convergence.

    Attributes:
        titles: each row's title, the original first (when the comparison has a recording).
        deviations: each row's instantaneous-frequency map, float32 ``(bins, frames)`` in Hz.
        images: each row's image of its map up to :data:`MAX_HZ` (quiet coefficients NaN: drawn transparent).
        colour_bar: the maps' shared colour scale (± :data:`RANGE_HZ`).
        curves: the spectral convergence per iteration by start (``"random"``, ``"pghi"``).
    """

    def __init__(self, comparison: Comparison, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Phase")
        self.resize(1100, 760)
        cfg = comparison.config
        rows: list[tuple[str, np.ndarray]] = []
        if comparison.reference is not None:
            rows.append(("Original recording", comparison.reference))
        rows += [(name, take.audio) for name, take in zip(names, comparison.takes, strict=True)]
        self.titles = [title for title, _ in rows]
        self.deviations = [instantaneous_frequency(audio, cfg) for _, audio in rows]
        self.curves = convergence_curves(comparison.mel)

        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setStyleSheet(f"color: {READOUT_COLOR};")
        view = pg.GraphicsLayoutWidget()
        view.setBackground(BACKGROUND)
        top_bin = int(MAX_HZ * cfg.n_fft / cfg.sample_rate) + 1
        seconds = cfg.frame_seconds
        reference = self.deviations[0] if comparison.reference is not None else None
        first: pg.PlotItem | None = None
        self.images: list[pg.ImageItem] = []
        for row, (title, deviation) in enumerate(zip(self.titles, self.deviations, strict=True)):
            plot = view.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            gap = "" if reference is None or row == 0 else \
                f" — differs from the original by {phase_coherence(deviation, reference):.1f} Hz on average"
            plot.setTitle(title + gap, color=AXIS_COLOR, size="9pt")
            # quiet coefficients stay NaN: drawn transparent (the background), not as "at the bin centre"
            image = pg.ImageItem(np.ascontiguousarray(deviation[:top_bin].T))
            image.setColorMap(pg.colormap.get(COLORMAP))
            image.setLevels((-RANGE_HZ, RANGE_HZ))
            image.setRect(0.0, 0.0, deviation.shape[1] * seconds, top_bin * cfg.sample_rate / cfg.n_fft)
            plot.addItem(image)
            self.images.append(image)
            plot.getAxis("left").setLabel("Hz")
            if row == len(rows) - 1:
                plot.getAxis("bottom").setLabel("time (s)")
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
        self.colour_bar = self._add_colour_bar(view, len(rows))
        self._add_curves(view, len(rows))
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(view, 1)

    def _add_colour_bar(self, view: pg.GraphicsLayoutWidget, rows: int) -> pg.ColorBarItem:
        """The maps' shared colour scale, right of every row."""
        bar = pg.ColorBarItem(values=(-RANGE_HZ, RANGE_HZ), colorMap=pg.colormap.get(COLORMAP),
                              label="phase turning faster (+) or slower (−) than the bin centre (Hz)",
                              interactive=False, width=12)
        bar.setImageItem(self.images)
        bar.getAxis("right").setPen(pg.mkPen(AXIS_COLOR))
        bar.getAxis("right").setTextPen(pg.mkPen(AXIS_COLOR))
        view.addItem(bar, row=0, col=1, rowspan=rows)
        return bar

    def _add_curves(self, view: pg.GraphicsLayoutWidget, row: int) -> None:
        """Griffin-Lim's spectral convergence per iteration, one curve per start, below the maps."""
        curve_plot = view.addPlot(row=row, col=0)
        curve_plot.setTitle("Griffin-Lim: spectral convergence ‖|STFT(x)| − S‖ / ‖S‖ per iteration (lower: a "
                            "more consistent STFT)", color=AXIS_COLOR, size="9pt")
        curve_plot.addLegend(offset=(-10, 10))
        for init, values in self.curves.items():
            curve_plot.plot(np.arange(values.size), values, pen=pg.mkPen(CURVE_COLORS[init], width=2),
                            name=f"from {init} phase")
        curve_plot.getAxis("bottom").setLabel("iteration")

"""How the Compare view draws a comparison: a row per take (the document's mel first, then each vocoder's output
analysed again), each beside its difference map from the original, titled with the vocoder, its settings and its
scores, with one colour bar for the levels and one for the differences, and a playhead per plot.

The grid is one pyqtgraph scene, so it is also the picture File ▸ Export image… writes for the Compare view
(:meth:`CompareGrid.export`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QWidget

from vocoder_studio.audio.mel import ln_to_db
from vocoder_studio.evaluation.comparison import Comparison
from vocoder_studio.ui.image_export import export_scene_image
from vocoder_studio.ui.theme import AXIS_COLOR, BACKGROUND, PLAYHEAD_COLOR, PLAYING_COLOR

#: The difference map's colour range: ± this many dB.
DIFF_RANGE_DB = 12.0
#: A diverging map with a dark centre (blue quieter, red louder): no difference looks like the dark background.
DIFF_COLORMAP = "CET-D4"
ROW_HEIGHT = 118


class CompareGrid(pg.GraphicsLayoutWidget):
    """The plots of one comparison (empty until :meth:`draw`).

    Attributes:
        mel_images: the mel images shown: the original first, then each vocoder's output analysed again.
        diff_images: each vocoder's difference map (output − original, dB).
        titles: each row's title (number, vocoder and settings), original first.
        score_texts: each vocoder's scores as shown above its difference map.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mel_images: list[pg.ImageItem] = []
        self.diff_images: list[pg.ImageItem] = []
        self.titles: list[str] = []
        self.score_texts: list[str] = []
        self._plots: list[pg.PlotItem] = []
        self._playheads: list[pg.InfiniteLine] = []

    def draw(self, result: Comparison, levels: tuple[float, float]) -> None:
        """Draw ``result``: its mels in dB with the colour range ``levels`` (low, high), the difference maps at
        ± :data:`DIFF_RANGE_DB`; the playheads hidden."""
        self.clear()
        self.mel_images, self.diff_images, self.titles, self._plots, self._playheads = [], [], [], [], []
        self.score_texts = [take.scores.describe() for take in result.takes]
        rows = self._draw_rows(result, levels)
        self._add_colour_bars(levels, rows)

    def _draw_rows(self, result: Comparison, levels: tuple[float, float]) -> int:
        """A row per take (the original first): its mel in dB and its difference map; returns the rows."""
        original = "0 · Original recording" if result.reference is not None else \
            "0 · Document mel (no recording to play)"
        rows: list[tuple[np.ndarray, np.ndarray | None, str]] = [(result.mel, None, original)]
        rows += [(take.mel, take.diff_db, f"{i} · {take.choice.title()}")
                 for i, take in enumerate(result.takes, start=1)]
        first_plot: pg.PlotItem | None = None
        for row, (mel, diff, title) in enumerate(rows):
            self.titles.append(title)
            for col, data in ((0, ln_to_db(mel)), (1, diff)):
                plot = self._new_plot(row, col, last=row == len(rows) - 1)
                if first_plot is None:
                    first_plot = plot
                else:
                    plot.setXLink(first_plot)
                if data is None:
                    plot.setTitle("Difference maps: output − original (dB): blue quieter, red louder",
                                  color=AXIS_COLOR, size="9pt")
                    plot.hideAxis("bottom")
                    plot.getViewBox().setBackgroundColor(BACKGROUND)
                    continue
                image = self._add_image(plot, result, data, levels if col == 0 else (-DIFF_RANGE_DB, DIFF_RANGE_DB))
                if col == 0:
                    plot.setTitle(title, color=AXIS_COLOR, size="9pt")
                else:  # a title too, so that the two images of a row line up
                    take = result.takes[row - 1]  # the scores here: the two titles of a row share the width
                    plot.setTitle(f"{take.scores.describe()} · mean |Δ| {float(np.mean(np.abs(data))):.1f} dB",
                                  color=AXIS_COLOR, size="9pt")
                (self.mel_images if col == 0 else self.diff_images).append(image)
        return len(rows)

    def _new_plot(self, row: int, col: int, last: bool) -> pg.PlotItem:
        """An empty plot of the grid: no menu, no left axis, the time axis only on the ``last`` row."""
        plot = self.addPlot(row=row, col=col)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.hideAxis("left")
        if not last:
            plot.hideAxis("bottom")
        else:
            axis = plot.getAxis("bottom")
            axis.setPen(pg.mkPen(AXIS_COLOR))
            axis.setTextPen(pg.mkPen(AXIS_COLOR))
            axis.setLabel("Time (s)", color=AXIS_COLOR)
        return plot

    def _add_image(self, plot: pg.PlotItem, result: Comparison, data: np.ndarray,
                   levels: tuple[float, float]) -> pg.ImageItem:
        """``data`` (bands, frames) dB as an image placed at the compared range's times, with a hidden playhead."""
        seconds = result.config.frame_seconds
        x0 = result.start * seconds
        image = pg.ImageItem(axisOrder="row-major")
        image.setImage(np.ascontiguousarray(data, dtype=np.float32), autoLevels=False, levels=levels)
        image.setTransform(QTransform.fromScale(seconds, 1.0))
        image.setPos(x0, 0.0)
        plot.addItem(image)
        plot.setRange(xRange=(x0, x0 + data.shape[1] * seconds), yRange=(0, data.shape[0]), padding=0)
        line = pg.InfiniteLine(x0, angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOR, width=1.5))
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=True)
        self._playheads.append(line)
        self._plots.append(plot)
        return image

    def _add_colour_bars(self, levels: tuple[float, float], rows: int) -> None:
        """The level bar of the mels and the difference bar of the maps, right of the grid."""
        mel_bar = pg.ColorBarItem(values=levels, colorMap=pg.colormap.get("inferno"), label="Level (dB)",
                                  interactive=False, width=12)
        mel_bar.setImageItem(self.mel_images)
        diff_bar = pg.ColorBarItem(values=(-DIFF_RANGE_DB, DIFF_RANGE_DB), colorMap=pg.colormap.get(DIFF_COLORMAP),
                                   label="Difference (dB)", interactive=False, width=12)
        diff_bar.setImageItem(self.diff_images)
        for col, bar in ((2, mel_bar), (3, diff_bar)):
            bar.getAxis("right").setPen(pg.mkPen(AXIS_COLOR))
            bar.getAxis("right").setTextPen(pg.mkPen(AXIS_COLOR))
            self.addItem(bar, row=0, col=col, rowspan=rows)
        for col in (0, 1):  # the output and its difference map get the same width
            self.ci.layout.setColumnStretchFactor(col, 1)
        self.setMinimumHeight(min(4, rows) * ROW_HEIGHT)

    def mark(self, current: int) -> None:
        """Highlight the title of take ``current`` (0 = the original), the one that plays."""
        for index, title in enumerate(self.titles):
            plot = self._plots[0 if index == 0 else 2 * index - 1]  # the original's row has no difference plot
            playing = index == current
            plot.setTitle(("▶ " if playing else "") + title, color=PLAYING_COLOR if playing else AXIS_COLOR,
                          size="9pt")

    def show_playheads(self, visible: bool, seconds: float | None = None) -> None:
        """Show or hide the playheads, at ``seconds`` (of the document) when given."""
        for line in self._playheads:
            if seconds is not None:
                line.setValue(seconds)
            line.setVisible(visible)

    def export(self, path: str | os.PathLike[str], width: int | None = None) -> Path:
        """Write the grid as drawn (titles, axes, colour bars) to ``path``, as
        :func:`vocoder_studio.ui.image_export.export_scene_image` does.

        Raises:
            AudioFileError: nothing drawn yet, another suffix than .png/.svg, or the file cannot be written.
        """
        return export_scene_image(self.ci, path, width, title="Compare vocoders", empty=not self.titles)
